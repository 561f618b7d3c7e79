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


def is_region(code) -> bool:
    return isinstance(code, str) and code in REGIONS
