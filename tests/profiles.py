"""Acceptance profiles of SPEC §3 as real questionnaire answers (tpe_bienes, entrevista)."""

IDEA_ONLY = {
    "anos_funcionamiento": "solo_idea", "experiencia_gerencia": "ninguna", "idiomas_gerencia": "ninguno",
    "plan_negocios": "no", "mercado_nacional": "solo_idea", "conocimiento_mercado_objetivo": "no",
    "regulaciones": "ninguno", "capacidad_productiva": "no", "logistica": "ninguno", "certificaciones": "ninguna",
    "innovacion": "ninguna", "adaptacion_producto": "no", "financiamiento": "ninguno",
    "experiencia_exportadora": "nunca", "equipo_comex": "no", "presencia_web": "redes",
    "promocion_comercial": "nunca", "redes_asociatividad": "no",
}
# A winery with 20 000 UF sales, proven national sales, no export experience, no certifications.
VINA_AMARILLO = {
    "anos_funcionamiento": "mas_5", "experiencia_gerencia": "3_10", "idiomas_gerencia": "ingles_basico",
    "plan_negocios": "en_desarrollo", "mercado_nacional": "ventas_nacionales_probadas",
    "conocimiento_mercado_objetivo": "algo", "regulaciones": "basico", "capacidad_productiva": "moderada",
    "logistica": "local", "certificaciones": "ninguna", "innovacion": "ocasional",
    "adaptacion_producto": "con_dificultad", "financiamiento": "bancario", "experiencia_exportadora": "nunca",
    "equipo_comex": "no", "presencia_web": "web_espanol", "promocion_comercial": "nacionales",
    "redes_asociatividad": "si_pasiva",
}
# A food company with 60 000 UF, HACCP certified, English-speaking manager, sporadic exports.
ALIMENTOS_VERDE = {
    "anos_funcionamiento": "mas_5", "experiencia_gerencia": "mas_10", "idiomas_gerencia": "ingles_fluido",
    "plan_negocios": "si", "mercado_nacional": "ventas_nacionales_probadas", "conocimiento_mercado_objetivo": "estudio",
    "regulaciones": "intermedio", "capacidad_productiva": "alta", "logistica": "asesorado",
    "certificaciones": "certificacion_calidad", "innovacion": "regular", "adaptacion_producto": "si",
    "financiamiento": "bancario", "experiencia_exportadora": "esporadica", "equipo_comex": "parcial",
    "presencia_web": "web_idiomas", "promocion_comercial": "internacional_visitante",
    "redes_asociatividad": "si_activa",
}
# A company exporting every year for 5 years.
EXPORTADORA_REGULAR = {
    **ALIMENTOS_VERDE, "experiencia_exportadora": "regular", "equipo_comex": "area", "logistica": "propio",
    "promocion_comercial": "internacional_expositor", "certificaciones": "internacionales",
}

CRITERIA = ("compromiso_gerencia", "producto_exportable", "capacidad_adaptacion", "recursos_internacionalizacion",
            "conocimiento_mercado", "red_contactos", "gestion_comercial")
ENTREVISTA_BAJA = dict.fromkeys(CRITERIA, "insuficiente")
ENTREVISTA_MEDIA = {**dict.fromkeys(CRITERIA, "basico"), "compromiso_gerencia": "adecuado",
                    "producto_exportable": "adecuado", "gestion_comercial": "adecuado"}
ENTREVISTA_ALTA = {**dict.fromkeys(CRITERIA, "destacado"), "recursos_internacionalizacion": "adecuado",
                   "red_contactos": "adecuado", "conocimiento_mercado": "adecuado"}


def empresa(rut="76.086.428-5", razon_social="Viña Los Aromos SpA", ventas_uf=20000, rubro="vitivinicola",
            region="CL-RM", tipo_oferta="bienes", **extra):
    return {"rut": rut, "razon_social": razon_social, "tipo_persona": "juridica", "region": region,
            "comuna": "Santiago", "rubro": rubro, "productos": "Vino", "tipo_oferta": tipo_oferta,
            "ventas_uf": ventas_uf, "empleados": 20, "contacto_nombre": "María Pérez",
            "contacto_email": "contacto@empresa.cl", "liderada_por_mujer": True, "consentimiento_datos": True,
            "origen": "directo_prochile", **extra}
