"""Demo data for `cpe demo`: a living Centro Pyme Exporta.

- Two years of a programme (`DEMO_SIZE` companies across every region, by default) run through
  the real process, operators and decision tables on a backdated clock (engine/simulate/backfill.py):
  every segment, derivations, workshops with attendance, exports, desertion, and the cases still in
  progress today, worked by the regional staff the demo creates (all with the demo password).
- Then, at today's date, a few hand-made companies at each early stage (`DEMO_COMPANIES`), upcoming
  workshop sessions with registrations and private portal links of two companies.

Everything goes through the engine's verbs (nothing inserted by hand but the staff accounts).
The same seed gives the same programme."""

from __future__ import annotations

import os
import random
import unicodedata
from datetime import datetime, time, timedelta

from sqlalchemy import func, select

from engine.accounts import users as accounts
from engine.domain import derivation
from engine.domain.regions import REGIONS
from engine.domain.roles import ANALISTA, EJECUTIVO_CPE, EJECUTIVO_PROCHILE, JEFE_REGIONAL, PYME
from engine.models.validation import collect_files
from engine.programme import workshops
from engine.programme.portal import PORTAL_ACTOR, issue_link
from engine.simulate.backfill import backfill
from engine.simulate.cohort import shard_items
from engine.simulate.config import merged_config
from engine.simulate.shard import Cast
from engine.store.schema import Case, Company, User

DEMO_PASSWORD = "cpe-demo-2026"
# Every address of the demo is under a domain reserved for examples (RFC 2606): the mail the demo's
# past queued (notices to regional heads, companies' links) can reach nobody, even with CPE_SMTP_URL set.
DEMO_MAIL_DOMAIN = "cpe-demo.example"
DEMO_SIZE = 800  # companies in the programme's past: two years of a CPE across the regions, loaded in about a minute
DEMO_SEED = 2026
DEMO_MONTHS = 24
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


def load_demo(engine, processes_dir, forms_dir, companies: int | None = None, seed: int = DEMO_SEED,
              months: int = DEMO_MONTHS, workers: int | None = None, progress=None) -> dict:
    """Load the demo once (a database that has cases already is left as it is). `companies`: how
    many companies the programme's past holds (`DEMO_SIZE` by default; 0: only today's hand-made
    cases); `workers`: processes that run its regions (by default up to 2); `progress(message)` hears
    what it is doing."""
    companies = DEMO_SIZE if companies is None else companies
    if companies < 0 or months < 1:
        raise ValueError("--empresas no puede ser negativo y --meses debe ser al menos 1")
    engine.upgrade()
    workshops.seed_catalogue(engine)
    deployed = engine.deploy(collect_files([forms_dir, processes_dir]), author="demo", message="Modelos iniciales")
    with engine.Session() as s:
        if s.scalar(select(Case.id).limit(1)) is not None:
            return {"usuarios": 0, "casos": 0, "modelos": len(deployed), "nota": "la demo ya estaba cargada"}
    people = [{"username": username, "role": role, "region": region, "rubros": rubros, "full_name": full_name,
               "email": f"{username}@{DEMO_MAIL_DOMAIN}"} for username, role, region, rubros, full_name in DEMO_USERS]
    if companies:
        people += regional_staff(seed)
    created_users = accounts.create_accounts(engine, people, DEMO_PASSWORD)  # an existing username is kept
    history = None
    if companies:
        if progress is not None:
            progress(f"{months} meses de programa: {companies} empresas recorren el proceso real…")
        history = _history(engine, companies, seed, months, workers or min(2, os.cpu_count() or 1))
    cases = [_demo_case(engine, *company) for company in DEMO_COMPANIES]
    sessions = _demo_workshops(engine)
    # Private portal pages of two companies, to try the company's side of the process.
    links = {name: f"/portal/e/{issue_link(engine, rut)}" for rut, name, *_ in DEMO_COMPANIES
             if name in DEMO_PORTAL}
    result = {"usuarios": created_users, "casos": len(cases), "modelos": len(deployed), "talleres": sessions,
              "portal": links}
    if history is not None:
        result["historia"] = history
    return result


# -- two years of a programme ----------------------------------------------------------------------
STAFF_PREFIX = {EJECUTIVO_CPE: "ejecutivo", EJECUTIVO_PROCHILE: "prochile", JEFE_REGIONAL: "jefe"}
SLUG = {"CL-BI": "bio"}  # the hand-made demo users' spelling; other regions: the code's letters
FIRST_NAMES = ["Camila", "Javiera", "Constanza", "Francisca", "Catalina", "Valentina", "Daniela", "Carolina",
               "Macarena", "Fernanda", "Matías", "Sebastián", "Benjamín", "Nicolás", "Felipe", "Cristóbal",
               "Diego", "Tomás", "Ignacio", "Rodrigo", "Claudia", "Patricio", "Marcela", "Gonzalo"]
SURNAMES = ["González", "Muñoz", "Rojas", "Díaz", "Pérez", "Soto", "Contreras", "Silva", "Martínez", "Sepúlveda",
            "Morales", "Rodríguez", "López", "Fuentes", "Hernández", "Torres", "Araya", "Flores", "Espinoza",
            "Valenzuela", "Castillo", "Tapia", "Reyes", "Gutiérrez", "Castro", "Pizarro", "Álvarez", "Vásquez"]
# a few real comunas of each region, for the companies' addresses
COMUNAS = {
    "CL-AP": ["Arica", "Putre"], "CL-TA": ["Iquique", "Alto Hospicio", "Pozo Almonte"],
    "CL-AN": ["Antofagasta", "Calama", "Mejillones"], "CL-AT": ["Copiapó", "Vallenar", "Caldera"],
    "CL-CO": ["La Serena", "Coquimbo", "Ovalle", "Vicuña"],
    "CL-VS": ["Valparaíso", "Viña del Mar", "Quillota", "San Antonio", "Los Andes", "Casablanca"],
    "CL-RM": ["Santiago", "Providencia", "Las Condes", "Maipú", "Ñuñoa", "Pudahuel", "Quilicura", "San Bernardo",
              "Puente Alto", "Talagante", "Buin"],
    "CL-LI": ["Rancagua", "San Fernando", "Santa Cruz", "Rengo"], "CL-ML": ["Talca", "Curicó", "Linares", "Molina"],
    "CL-NB": ["Chillán", "San Carlos", "Bulnes"], "CL-BI": ["Concepción", "Talcahuano", "Los Ángeles", "Coronel"],
    "CL-AR": ["Temuco", "Villarrica", "Angol", "Pucón"], "CL-LR": ["Valdivia", "La Unión", "Panguipulli"],
    "CL-LL": ["Puerto Montt", "Osorno", "Castro", "Puerto Varas"], "CL-AI": ["Coyhaique", "Puerto Aysén"],
    "CL-MA": ["Punta Arenas", "Puerto Natales"],
}
# the first word of a company's name by rubro, and the words that may follow it
TRADE_WORDS = {
    "agroindustria": ["Agrícola", "Frutícola", "Berries", "Hortalizas", "Nogales"],
    "alimentos_procesados": ["Alimentos", "Conservas", "Deshidratados", "Aceites", "Chocolates"],
    "vitivinicola": ["Viña", "Viñedos", "Bodega"],
    "acuicola_pesca": ["Pesquera", "Cultivos Marinos", "Mariscos", "Algas"],
    "manufacturas": ["Manufacturas", "Textiles", "Metalúrgica", "Cerámicas", "Envases"],
    "forestal_madera": ["Maderas", "Muebles", "Forestal"],
    "tecnologia_software": ["Software", "Tecnologías", "Datos", "Sistemas"],
    "servicios_profesionales": ["Consultora", "Ingeniería", "Asesorías"],
    "industrias_creativas": ["Diseño", "Estudio", "Artesanías", "Producciones"],
    "turismo": ["Turismo", "Expediciones", "Lodge"],
    "otro": ["Comercial", "Importadora y Exportadora", "Distribuidora"],
}
FAMILY = ["Hermanos", "Familia", "Don", "Doña", "Los", "Sucesión"]
PLACE_WORDS = ["del Valle", "Los Robles", "Santa Elena", "El Roble", "Las Acacias", "Del Sur", "Andina", "Austral",
               "del Pacífico", "Cordillera", "San Isidro", "Los Aromos", "La Esperanza", "Tres Ríos", "El Mirador",
               "Los Boldos", "Quillay", "Piedra Azul", "Lomas Verdes", "Monte Alto", "Río Claro", "Las Vertientes",
               "Puerto Nuevo", "Los Maitenes", "El Canelo", "Altos del Sol", "Bahía Azul", "Los Coihues", "Pangue"]


def _person(rng) -> str:
    return f"{rng.choice(FIRST_NAMES)} {rng.choice(SURNAMES)} {rng.choice(SURNAMES)}"


def _slug(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return "".join(ch if ch.isalnum() else "-" for ch in plain).strip("-").replace("--", "-")


def regional_staff(seed: int = DEMO_SEED) -> list[dict]:
    """The staff of every region (the simulation's `personal` counts), besides the hand-made demo
    users, who are part of it: accounts for accounts.create_accounts."""
    counts = merged_config()["personal"]
    rng = random.Random(f"demo-personal:{seed}")
    taken = {username for username, *_ in DEMO_USERS}
    staff = []
    for region in REGIONS:
        per_role = {**counts["por_region"], **counts.get("regiones", {}).get(region, {})}
        for role, count in per_role.items():
            have = sum(1 for _, r, reg, *_ in DEMO_USERS if r == role and reg == region)
            base = f"{STAFF_PREFIX[role]}.{SLUG.get(region, region[3:].lower())}"
            n = 1
            for _ in range(count - have):
                while (username := base if n == 1 else f"{base}.{n}") in taken:
                    n += 1
                taken.add(username)
                staff.append({"username": username, "role": role, "region": region, "rubros": [],
                              "full_name": _person(rng), "email": f"{username}@{DEMO_MAIL_DOMAIN}"})
    return staff


class DemoCast(Cast):
    """Who acts in the demo's past: the company starts its case and answers its own tasks in the
    portal; a task assigned to someone is done by them; a task offered to a role of a region is
    done by one of its staff (always the same one for a company); workshop sessions are organised
    by the regional head, at the region's Centro Pyme Exporta."""

    def __init__(self, staff: dict, cities: dict):
        self.staff, self.cities = staff, cities  # (role, region) -> usernames; region -> city

    def start(self, company) -> str:
        return PORTAL_ACTOR

    def task(self, task, company) -> str:
        if task["assignee"]:
            return task["assignee"]
        if task["lane"] == PYME:
            return PORTAL_ACTOR
        people = self.staff.get((task["lane"], task["region"])) or self.staff.get((task["lane"], None))
        return people[company.index % len(people)] if people else "sistema"

    def workshops(self, region) -> tuple[str, str]:
        heads = self.staff.get((JEFE_REGIONAL, region)) or ["sistema"]
        return heads[0], f"Centro Pyme Exporta {self.cities.get(region, region)}"


def demo_cohort(companies: int, seed: int, cfg: dict, start) -> list[tuple]:
    """The simulation's cohort (cohort.shard_items) dressed as real companies: names by rubro,
    real comunas, contacts with names."""
    items = []
    taken = {name for _, name, *_ in DEMO_COMPANIES}
    for index, company, arrival in shard_items(companies, seed, cfg, start, range(companies)):
        rng = random.Random(f"demo-empresa:{seed}:{index}")
        contact = _person(rng)
        comuna = rng.choice(COMUNAS[company["region"]])
        if company["tipo_persona"] == "natural":
            name = contact
        else:
            words = TRADE_WORDS[company["rubro"]]
            for attempt in range(8):  # a name no other company of the demo has
                family = f"{rng.choice(FAMILY)} {rng.choice(SURNAMES)}"
                second = rng.choice(PLACE_WORDS) if rng.random() < 0.5 else family
                base = f"{rng.choice(words)} {second}" + (f" de {comuna}" if attempt >= 4 else "")
                name = f"{base} {rng.choice(['SpA', 'SpA', 'Ltda.', 'S.A.', 'E.I.R.L.'])}"
                if name not in taken:
                    break
        taken.add(name)
        domain = _slug(name.rsplit(" ", 1)[0] if company["tipo_persona"] == "juridica" else contact)
        company.update(razon_social=name, comuna=comuna, contacto_nombre=contact,
                       contacto_email=f"{_slug(contact.split()[0])}@{domain}.example")
        items.append((index, company, arrival))
    return items


def _history(engine, companies: int, seed: int, months: int, workers: int) -> dict:
    """The programme's past: `companies` arriving over `months` months up to today, through the
    deployed cpe_actual (see the module's doc)."""
    end = engine.now()
    start = end - timedelta(days=round(30.44 * months))
    cfg = merged_config({"inicio": start.isoformat(), "horizonte_meses": months,
                         "meses_ingreso": months, "talleres": {"simular": True, "frecuencia": "mensual"},
                         "duraciones": {"desde_historial": False}})
    with engine.Session() as s:
        people = s.execute(select(User.role, User.region, User.username).where(User.active.is_(True))
                           .order_by(User.id)).all()
    staff: dict = {}
    for role, region, username in people:
        staff.setdefault((role, region), []).append(username)
    cities = derivation.load_directory()["ciudades"]  # each region's CPE city, as the derivations say it
    url = engine.db.url.render_as_string(hide_password=False)
    done = backfill(url, "cpe_actual", demo_cohort(companies, seed, cfg, start), seed, cfg, start, end,
                    DemoCast(staff, cities), workers=workers)
    with engine.Session() as s:
        results = dict(s.execute(select(Case.resultado, func.count()).group_by(Case.resultado)).all())
    return {"empresas": companies, "meses": months, "semilla": seed,
            "resultados": {str(k or "en_curso"): v for k, v in sorted(results.items(), key=lambda kv: str(kv[0]))},
            "tareas": done["counts"].get("tareas_completadas", 0), "talleres": done["workshops"],
            "errores": done["errors"]}


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
        "contacto_nombre": "Contacto " + razon_social.split()[0],
        "contacto_email": f"contacto@{_slug(razon_social.split()[0])}.example",
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
        engine.complete(task["id"], answers[task["form_id"]](task["form"]), user=task["assignee"],
                        actor=PORTAL_ACTOR if task["lane"] == PYME else "demo")
    return case_id
