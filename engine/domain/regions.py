"""The 16 regions of Chile by ISO 3166-2:CL code, north to south."""

REGIONS = {
    "CL-AP": "Región de Arica y Parinacota",
    "CL-TA": "Región de Tarapacá",
    "CL-AN": "Región de Antofagasta",
    "CL-AT": "Región de Atacama",
    "CL-CO": "Región de Coquimbo",
    "CL-VS": "Región de Valparaíso",
    "CL-RM": "Región Metropolitana de Santiago",
    "CL-LI": "Región del Libertador General Bernardo O'Higgins",
    "CL-ML": "Región del Maule",
    "CL-NB": "Región de Ñuble",
    "CL-BI": "Región del Biobío",
    "CL-AR": "Región de La Araucanía",
    "CL-LR": "Región de Los Ríos",
    "CL-LL": "Región de Los Lagos",
    "CL-AI": "Región de Aysén del General Carlos Ibáñez del Campo",
    "CL-MA": "Región de Magallanes y de la Antártica Chilena",
}
SHORT_NAMES = {  # the everyday names, for tables, tags and charts
    "CL-AP": "Arica y Parinacota", "CL-TA": "Tarapacá", "CL-AN": "Antofagasta", "CL-AT": "Atacama",
    "CL-CO": "Coquimbo", "CL-VS": "Valparaíso", "CL-RM": "Metropolitana", "CL-LI": "O'Higgins", "CL-ML": "Maule",
    "CL-NB": "Ñuble", "CL-BI": "Biobío", "CL-AR": "La Araucanía", "CL-LR": "Los Ríos", "CL-LL": "Los Lagos",
    "CL-AI": "Aysén", "CL-MA": "Magallanes",
}


def is_region(code) -> bool:
    return isinstance(code, str) and code in REGIONS
