"""The simulation's configuration: default distributions (`DEFAULTS`), the texts simulated people
write, and the small helpers every part of the simulation draws with."""

from __future__ import annotations

import copy
from datetime import timedelta

from engine.domain.roles import EJECUTIVO_CPE, EJECUTIVO_PROCHILE, JEFE_REGIONAL, PYME

TIMER_MARGIN = timedelta(seconds=1)
# Cases per worker simulated in an in-memory database (~50 kB a case, mostly serialized workflows):
# larger shards use a temporary file, so their memory does not grow with the cases' workflows.
MEMORY_LIMIT = 2_000
# Deserialized workflows kept per worker: at most this many, and at most this many tasks in all
# (~4 kB a task in memory; a case of cpe_actual has 10 to 100 tasks, more as its follow-ups loop).
WORKFLOW_CACHE = 2_000
WORKFLOW_CACHE_TASKS = 80_000
RESULTS = ("exportadora", "derivada", "desercion", "abandono", "activa", "error")

# Default distributions. Figures marked "tesis" come from the seed document
# (/work/shared/seed/000_30f213ab59b614cc.txt); the rest are stated assumptions, all configurable.
DEFAULTS: dict = {
    "inicio": "2026-03-02T09:00:00+00:00",
    "meses_ingreso": 6,  # the cohort enters evenly over the first months of the horizon
    "cohorte": {
        # tesis §1.1 (Antecedentes): 3.674 of the 206.773 PYMEs registered by the SII export, 1,8 %.
        "cuota_exportadora": 0.018,
        # tesis §1.1: of the PYMEs that export, 30 % do it only once (→ "esporadica"; the rest "regular").
        "exporta_una_vez": 0.30,
        # tesis §1.1: in 2013, 45,8 % of exporting PYMEs export a single product.
        "producto_unico": 0.458,
        # assumption: non-exporters that already sell abroad through a third party.
        "exportacion_indirecta": 0.10,
        # tesis §2.1, Tabla 4 (SII): micro < 2.400 UF, pequeña 2.401–25.000, mediana 25.001–100.000,
        # grande > 100.000. Shares of each tramo among companies that approach a CPE: assumption.
        "tramos": {"micro": {"cuota": 0.12, "min_uf": 300, "max_uf": 2400},
                   "pequena": {"cuota": 0.55, "min_uf": 2401, "max_uf": 25000},
                   "mediana": {"cuota": 0.27, "min_uf": 25001, "max_uf": 100000},
                   "grande": {"cuota": 0.06, "min_uf": 100001, "max_uf": 400000}},
        # tesis §1.4 (Alcances): the work is centred on the Región Metropolitana and extensible to the
        # other regions (one CPE per region, §3.1.1.3). Weights: assumption (RM the largest).
        "regiones": {"CL-RM": 0.40, "CL-VS": 0.08, "CL-BI": 0.08, "CL-ML": 0.05, "CL-LI": 0.05,
                     "CL-CO": 0.04, "CL-AR": 0.04, "CL-LL": 0.04, "CL-AN": 0.03, "CL-NB": 0.03,
                     "CL-LR": 0.03, "CL-TA": 0.03, "CL-AT": 0.02, "CL-AP": 0.03, "CL-AI": 0.02,
                     "CL-MA": 0.03},
        # tesis §3.1.1.5 (fase de promoción): ferias and programmes mostly target wine, food and
        # agriculture. Weights: assumption.
        "rubros": {"agroindustria": 0.16, "alimentos_procesados": 0.16, "vitivinicola": 0.10,
                   "acuicola_pesca": 0.06, "manufacturas": 0.12, "forestal_madera": 0.06,
                   "tecnologia_software": 0.08, "servicios_profesionales": 0.08, "industrias_creativas": 0.08,
                   "turismo": 0.04, "otro": 0.06},
        "rubros_servicios": ["tecnologia_software", "servicios_profesionales", "industrias_creativas", "turismo"],
        "liderada_por_mujer": 0.30,  # assumption
        "persona_natural": 0.15,  # assumption
        "origen": {"directo_prochile": 0.6, "sercotec": 0.25, "corfo": 0.15},  # assumption
        # latent potential: Beta(alfa, beta) plus bonuses (assumption)
        "potencial": {"alfa": 2.2, "beta": 2.8, "extra_mediana": 0.08, "extra_exporta": 0.30,
                      "extra_indirecta": 0.10},
    },
    "personas": {
        "ruido": 0.15,  # noise (sd) of each scored answer around the company's potential
        "mejora_por_tarea": 0.03,  # potential gained by the company with every completed task
        "abandono_por_tarea": 0.02,  # chance that the company stops collaborating at each new task
        "opcionales": 0.3,  # chance of filling an optional scalar field
        # option weights by field name: weight = base + pendiente × potencial (booleans: "true"/"false")
        "reglas": {
            "resultado_seguimiento": {"exporto": [0.0, 0.22], "firmo_contrato": [0.02, 0.10],
                                      "solicitud_cotizacion": [0.10, 0.10], "sin_actividad": [0.55, -0.40]},
            "programa_complementario": {"ninguno": [0.5, 0.3], "corfo": [0.25, -0.1], "sercotec": [0.25, -0.2]},
            "plan_negocios": {"no_iniciado": [0.4, -0.4], "en_desarrollo": [0.5, 0.0], "completo": [0.1, 0.5]},
            # a regional head with a company nobody could take (all executives at 50) gives it to the least
            # loaded executive of the region (assumption: a simulated head does not pick a username)
            "decision_asignacion": {"menor_carga": [1.0, 0.0], "ejecutivo_indicado": [0.0, 0.0]},
        },
    },
    # task durations in working days: triangular [min, moda, max] by task id, by lane, or by default;
    # a task id the configuration does not give takes its durations from the case history of the
    # process where there are enough completed tasks of it (history.py), unless desde_historial is false
    "duraciones": {"por_defecto": [1, 3, 10], "carriles": {PYME: [1, 4, 15]}, "tareas": {},
                   "desde_historial": True},
    # simulated users per region (ejecutivos CPE, ProChile and jefes regionales)
    "personal": {"por_region": {EJECUTIVO_CPE: 2, EJECUTIVO_PROCHILE: 1, JEFE_REGIONAL: 1},
                 "regiones": {"CL-RM": {EJECUTIVO_CPE: 6, EJECUTIVO_PROCHILE: 2}}},
    # workshops (workshops.py): simulated when the process asks verificar_capacitacion ("auto"), or
    # always (true) or never (false); monthly chance of taking one: base + pendiente × potencial
    # (assumption), chance of turning up once registered (assumption), seats per session, and how often
    # a region holds each workshop ("semanal": any Tuesday a week ahead; "mensual": first Tuesdays)
    "talleres": {"simular": "auto", "asistencia_mensual": [0.10, 0.40], "presentes": 0.85, "cupo": 30,
                 "frecuencia": "semanal"},
    "orden_segmentos": ["rojo", "amarillo", "verde"],
    "pymes_registradas": 206773,  # tesis §1.1: denominator of the Promoción indicator
}

TEXTS = [
    "Falta conocimiento de los requisitos del mercado objetivo.",
    "Formalizar la producción y obtener certificaciones de calidad.",
    "Fortalecer la gestión comercial y la presencia web en inglés.",
    "Definir precios de exportación y costos logísticos.",
    "Mejorar la capacidad productiva para atender pedidos mayores.",
    "Preparar material comercial y muestras para compradores extranjeros.",
]
COUNTRIES = ["Perú", "Colombia", "México", "Estados Unidos", "Brasil", "Argentina", "España", "Alemania", "China",
             "Japón"]
PRODUCTS = ["Vino tinto reserva", "Conservas de mariscos", "Berries congelados", "Muebles de madera nativa",
            "Software de gestión", "Miel orgánica", "Aceite de oliva", "Servicios de diseño"]
ACTIONS = ["Asesoría de Centro de Negocios", "Curso de costos", "Certificación de calidad",
           "Taller de marketing digital", "Mejora de procesos productivos"]
NAMES = ["Andes", "Pacífico", "Austral", "Maule", "Biobío", "Cordillera", "Atacama", "Chiloé", "Valle", "Litoral"]
KINDS = ["SpA", "Ltda.", "S.A.", "E.I.R.L."]
PATTERN_CANDIDATES = ["10:30", "+56 9 1234 5678", "+56912345678", "2026-03-02", "ABC-123", "12345", "Sí", "texto"]

def merged_config(overrides: dict | None = None) -> dict:
    """DEFAULTS with `overrides` merged in (nested dicts merge key by key)."""
    config = copy.deepcopy(DEFAULTS)

    def merge(base, extra):
        for key, value in (extra or {}).items():
            if isinstance(value, dict) and isinstance(base.get(key), dict):
                merge(base[key], value)
            else:
                base[key] = copy.deepcopy(value)
    merge(config, overrides)
    return config


def _pick(rng, weights: dict):
    """A key of `weights` drawn with those weights (deterministic order: the dict's)."""
    keys = [k for k, w in weights.items() if w > 0]
    if not keys:
        return rng.choice(list(weights))
    return rng.choices(keys, weights=[weights[k] for k in keys])[0]


def _clamp(value, low=0.0, high=1.0):
    return max(low, min(high, value))
