"""Demo data for `cpe demo`: users of every role, companies of every profile and cases at
different stages, all created through the engine's verbs (nothing inserted by hand)."""

from __future__ import annotations

from sqlalchemy import select

from .deploy import collect_files
from .schema import Case, User

DEMO_PASSWORD = "cpe-demo-2026"
DEMO_USERS = [
    # username, role, region, rubros, full name
    ("analista", "analista", None, [], "Ana Analista"),
    ("ejecutivo.rm", "ejecutivo_cpe", "CL-RM", [], "Eduardo Ejecutivo (RM)"),
    ("ejecutiva.rm.alimentos", "ejecutivo_cpe", "CL-RM", ["alimentos_procesados", "vitivinicola"],
     "Elena Ejecutiva (RM, alimentos)"),
    ("ejecutivo.bio", "ejecutivo_cpe", "CL-BI", [], "Esteban Ejecutivo (Biobío)"),
    ("prochile.rm", "ejecutivo_prochile", "CL-RM", [], "Paula ProChile (RM)"),
    ("prochile.bio", "ejecutivo_prochile", "CL-BI", [], "Pedro ProChile (Biobío)"),
    ("jefe.rm", "jefe_regional", "CL-RM", [], "Julia Jefa Regional (RM)"),
    ("jefe.bio", "jefe_regional", "CL-BI", [], "Jorge Jefe Regional (Biobío)"),
]

# Companies: RUTs with valid check digits; answers picked at a quality level 0..1 per form.
DEMO_COMPANIES = [
    # rut, razón social, región, rubro, ventas UF, tipo, TPE level, interview level, experiencia
    ("76.086.428-5", "Viña Los Aromos SpA", "CL-RM", "vitivinicola", 20000, "bienes", 0.45, 0.5, "nunca"),
    ("77.123.456-9", "Alimentos del Maule Ltda.", "CL-RM", "alimentos_procesados", 60000, "bienes", 0.85, 0.9,
     "esporadica"),
    ("76.543.210-3", "Software Austral SpA", "CL-BI", "tecnologia_software", 8000, "servicios", 0.6, 0.6,
     "indirecta"),
    ("78.901.234-2", "Miel Nativa Biobío SpA", "CL-BI", "agroindustria", 3500, "bienes", 0.1, 0.1, "nunca"),
    ("79.345.678-6", "Conservas Pacífico S.A.", "CL-RM", "alimentos_procesados", 90000, "bienes", 0.9, 0.9,
     "regular"),
    ("76.111.222-8", "Artesanías Chiloé E.I.R.L.", "CL-RM", "industrias_creativas", 1500, "bienes", 0.3, 0.3,
     "nunca"),
]


def answers_for_level(schema: dict, level: float, overrides: dict | None = None) -> dict:
    """Pick, for every scored question, the option at `level` (0 = fewest points, 1 = most)."""
    answers = {}
    questions = schema["properties"]["respuestas"]["properties"]
    for name, question in questions.items():
        options = sorted(question.get("oneOf", []), key=lambda o: o.get("x-points", 0))
        if options:
            answers[name] = options[round(level * (len(options) - 1))]["const"]
    answers.update(overrides or {})
    return answers


def load_demo(engine, processes_dir, forms_dir) -> dict:
    engine.upgrade()
    deployed = engine.deploy(collect_files([forms_dir, processes_dir]), author="demo", message="Modelos iniciales")
    with engine.Session() as s:
        existing = set(s.scalars(select(User.username)))
        if s.scalar(select(Case.id).limit(1)) is not None:
            return {"usuarios": 0, "casos": 0, "modelos": len(deployed), "nota": "la demo ya estaba cargada"}
    created_users = 0
    for username, role, region, rubros, full_name in DEMO_USERS:
        if username not in existing:
            engine.create_user(username, DEMO_PASSWORD, role, region=region, rubros=rubros, full_name=full_name,
                               email=f"{username}@demo.cpe.cl")
            created_users += 1
    cases = [_demo_case(engine, *company) for company in DEMO_COMPANIES]
    return {"usuarios": created_users, "casos": len(cases), "modelos": len(deployed)}


def _demo_case(engine, rut, razon_social, region, rubro, ventas, oferta, tpe_level, interview_level, experiencia):
    data = {
        "rut": rut, "razon_social": razon_social, "tipo_persona": "juridica", "region": region,
        "comuna": "Santiago" if region == "CL-RM" else "Concepción", "rubro": rubro,
        "productos": razon_social.split()[0], "tipo_oferta": oferta, "ventas_uf": ventas, "empleados": 25,
        "contacto_nombre": "Contacto " + razon_social.split()[0], "contacto_email": "contacto@example.cl",
        "liderada_por_mujer": rubro == "vitivinicola", "consentimiento_datos": True, "origen": "directo_prochile",
    }
    case_id = engine.start("cpe_actual", data, actor="demo")
    steps = {
        "tpe_bienes": lambda form: {"respuestas": answers_for_level(form, tpe_level,
                                                                    {"experiencia_exportadora": experiencia})},
        "tpe_servicios": lambda form: {"respuestas": answers_for_level(form, tpe_level,
                                                                       {"experiencia_exportadora": experiencia})},
        "agendar_entrevista": lambda form: {"fecha_entrevista": "2026-12-01", "hora_entrevista": "10:00",
                                            "lugar_entrevista": "oficina_cpe"},
        "entrevista": lambda form: {"respuestas": answers_for_level(form, interview_level),
                                    "brechas": "Falta conocimiento de requisitos de mercado objetivo."},
    }
    for _ in range(len(steps)):
        tasks = [t for t in engine.ready_tasks(case_id=case_id) if t["form_id"] in steps]
        if not tasks:
            break
        task = tasks[0]
        engine.complete(task["id"], steps.pop(task["form_id"])(task["form"]))
        if task["form_id"].startswith("tpe_"):
            steps.pop("tpe_bienes", None)
            steps.pop("tpe_servicios", None)
    return case_id
