"""Demo data for `cpe demo`: users of every role, companies of every profile and cases at
different stages, all created through the engine's verbs (nothing inserted by hand)."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from sqlalchemy import select

from engine.domain.roles import ANALISTA, EJECUTIVO_CPE, EJECUTIVO_PROCHILE, JEFE_REGIONAL
from engine.models.validation import collect_files
from engine.programme import workshops
from engine.programme.portal import PORTAL_ACTOR, issue_link
from engine.store.schema import Case, Company, User

DEMO_PASSWORD = "cpe-demo-2026"
DEMO_ANALYST = ANALISTA  # the demo analyst's username is the role's name (README, the browser tests)
DEMO_USERS = [
    # username, role, region, rubros, full name
    (DEMO_ANALYST, ANALISTA, None, [], "Ana Analista"),
    ("ejecutivo.rm", EJECUTIVO_CPE, "CL-RM", [], "Eduardo Ejecutivo (RM)"),
    ("ejecutiva.rm.alimentos", EJECUTIVO_CPE, "CL-RM", ["alimentos_procesados", "vitivinicola"],
     "Elena Ejecutiva (RM, alimentos)"),
    ("ejecutivo.bio", EJECUTIVO_CPE, "CL-BI", [], "Esteban Ejecutivo (Biobío)"),
    ("prochile.rm", EJECUTIVO_PROCHILE, "CL-RM", [], "Paula ProChile (RM)"),
    ("prochile.bio", EJECUTIVO_PROCHILE, "CL-BI", [], "Pedro ProChile (Biobío)"),
    ("jefe.rm", JEFE_REGIONAL, "CL-RM", [], "Julia Jefa Regional (RM)"),
    ("jefe.bio", JEFE_REGIONAL, "CL-BI", [], "Jorge Jefe Regional (Biobío)"),
]

# Companies (valid RUTs) and how far the demo takes each case: "registro" (TPE pending),
# "tpe" (interview to schedule), "agenda" (interview to hold) or "entrevista" (classified).
DEMO_COMPANIES = [
    # rut, razón social, región, rubro, ventas UF, oferta, TPE level, interview level, experiencia, stage
    ("76.086.428-5", "Viña Los Aromos SpA", "CL-RM", "vitivinicola", 20000, "bienes", 0.45, 0.5, "nunca",
     "entrevista"),
    ("77.123.456-9", "Alimentos del Maule Ltda.", "CL-RM", "alimentos_procesados", 60000, "bienes", 0.85, 0.9,
     "esporadica", "entrevista"),
    ("79.345.678-6", "Conservas Pacífico S.A.", "CL-RM", "alimentos_procesados", 90000, "bienes", 0.9, 0.9,
     "regular", "entrevista"),
    ("76.111.222-8", "Artesanías Chiloé E.I.R.L.", "CL-RM", "industrias_creativas", 1500, "bienes", 0.3, 0.3,
     "nunca", "registro"),
    ("76.222.333-3", "Diseño Andino SpA", "CL-RM", "industrias_creativas", 5200, "servicios", 0.5, 0.5, "nunca",
     "registro"),
    ("76.333.444-9", "Muebles del Sur Ltda.", "CL-RM", "forestal_madera", 14000, "bienes", 0.5, 0.5, "indirecta",
     "tpe"),
    ("76.444.555-4", "Consultora Pacífico SpA", "CL-RM", "servicios_profesionales", 9000, "servicios", 0.6, 0.6,
     "nunca", "agenda"),
    ("76.543.210-3", "Software Austral SpA", "CL-BI", "tecnologia_software", 8000, "servicios", 0.6, 0.6,
     "indirecta", "entrevista"),
    ("78.901.234-2", "Miel Nativa Biobío SpA", "CL-BI", "agroindustria", 3500, "bienes", 0.1, 0.1, "nunca",
     "entrevista"),
    ("76.555.666-K", "Berries del Biobío SpA", "CL-BI", "agroindustria", 18000, "bienes", 0.6, 0.6, "nunca", "tpe"),
]
STAGES = ("registro", "tpe", "agenda", "entrevista")
DEMO_PORTAL = ("Diseño Andino SpA", "Viña Los Aromos SpA")
DEMO_WORKSHOPS = [
    # workshop key, days from today, local hour, region (None: national), online, capacity, place, created by,
    # companies registered (razón social, by)
    ("taller_123_exporta", 7, 10, "CL-RM", False, 25, "Dirección Regional ProChile RM, Av. Nueva Providencia 1901, "
     "Providencia", "jefe.rm", [("Viña Los Aromos SpA", "ejecutivo.rm"), ("Muebles del Sur Ltda.", PORTAL_ACTOR)]),
    ("ecommerce", 12, 15, None, True, 100, "En línea (el enlace llega por correo al inscribirse)", DEMO_ANALYST,
     [("Software Austral SpA", PORTAL_ACTOR)]),
    ("tramites_precios", 9, 9, "CL-BI", False, 20, "Dirección Regional ProChile Biobío, Concepción", "jefe.bio",
     [("Berries del Biobío SpA", "ejecutivo.bio")]),
    ("mujer_exporta", 21, 10, "CL-RM", False, 30, "Centro Pyme Exporta RM, Santiago", "ejecutivo.rm", []),
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
    workshops.seed_catalogue(engine)
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
    sessions = _demo_workshops(engine)
    # Private portal pages of two companies, to try the company's side of the process.
    links = {name: f"/portal/e/{issue_link(engine, rut)}" for rut, name, *_ in DEMO_COMPANIES
             if name in DEMO_PORTAL}
    return {"usuarios": created_users, "casos": len(cases), "modelos": len(deployed), "talleres": sessions,
            "portal": links}


def _demo_workshops(engine) -> int:
    """The workshop catalogue and a few upcoming sessions with registrations."""
    workshops.seed_catalogue(engine)
    today = engine.now().astimezone(workshops.LOCAL_TZ).date()
    with engine.Session() as s:
        company_ids = dict(s.execute(select(Company.razon_social, Company.id)).all())
    for key, days, hour, region, online, capacity, place, author, registered in DEMO_WORKSHOPS:
        starts_at = datetime.combine(today + timedelta(days=days), time(hour))
        session = workshops.create_session(engine, key, starts_at, place, capacity, region=region, online=online,
                                           created_by=author)
        for razon_social, by in registered:
            workshops.register(engine, session["id"], company_ids[razon_social], by)
    return len(DEMO_WORKSHOPS)


def _demo_case(engine, rut, razon_social, region, rubro, ventas, oferta, tpe_level, interview_level, experiencia,
               stage):
    data = {
        "rut": rut, "razon_social": razon_social, "tipo_persona": "juridica", "region": region,
        "comuna": "Santiago" if region == "CL-RM" else "Concepción", "rubro": rubro,
        "productos": razon_social.split()[0], "tipo_oferta": oferta, "ventas_uf": ventas, "empleados": 25,
        "contacto_nombre": "Contacto " + razon_social.split()[0], "contacto_email": "contacto@example.cl",
        "liderada_por_mujer": rubro == "vitivinicola", "consentimiento_datos": True, "origen": "directo_prochile",
    }
    case_id = engine.start("cpe_actual", data, actor="demo")
    tpe = {"experiencia_exportadora": experiencia}
    answers = {
        "tpe_bienes": lambda form: {"respuestas": answers_for_level(form, tpe_level, tpe)},
        "tpe_servicios": lambda form: {"respuestas": answers_for_level(form, tpe_level, tpe)},
        "agendar_entrevista": lambda form: {"fecha_entrevista": "2026-12-01", "hora_entrevista": "10:00",
                                            "lugar_entrevista": "oficina_cpe"},
        "entrevista": lambda form: {"respuestas": answers_for_level(form, interview_level),
                                    "brechas": "Falta conocimiento de requisitos del mercado objetivo."},
    }
    for _ in range(STAGES.index(stage)):
        tasks = [t for t in engine.ready_tasks(case_id=case_id) if t["form_id"] in answers]
        if not tasks:
            break
        task = tasks[0]
        engine.complete(task["id"], answers[task["form_id"]](task["form"]), user=task["assignee"])
    return case_id
