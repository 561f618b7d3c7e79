"""Simulation behind `cpe simulate`: a synthetic cohort of companies run through a deployed
process version by simulated people, on the real engine (same diagrams, operators and decision
tables), in a throwaway database and on a virtual clock. The configured database is only read.

- The cohort is drawn with `random.Random(seed)` from configurable distributions (`DEFAULTS`);
  every company has a latent `potencial` in [0, 1] that drives its answers.
- `answer(schema, profile, rng, now)` fills any form from its JSON Schema, so a redesigned diagram
  with new forms simulates without Python changes.
- Task durations, drop-out and the learning effect of each task are configurable; timers,
  escalations, follow-ups and desertion happen in simulated time (`fire_due_timers`).

Same seed and configuration → identical result; every random draw of a case comes from its own
generator, so a case's answers do not depend on the order in which other cases advance.
"""

from __future__ import annotations

import copy
import heapq
import math
import os
import random
import re
import statistics
import tempfile
from collections import Counter
from datetime import UTC, datetime, timedelta

from jsonschema import Draft202012Validator
from sqlalchemy import func, select
from stdnum.cl import rut as stdrut

from .clock import VirtualClock, as_utc
from .core import Engine
from .errors import EngineError
from .forms import FormError
from .schema import Case, CaseEvent, User
from .services.regions import REGIONS

TIMER_MARGIN = timedelta(seconds=1)
MEMORY_LIMIT = 20_000  # cases per worker simulated in an in-memory database
WORKFLOW_CACHE = 2_000  # deserialized workflows kept per worker (~50 kB each)
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
            "capacitada": {"true": [0.6, 0.4], "false": [0.3, -0.3]},
            "programa_complementario": {"ninguno": [0.5, 0.3], "corfo": [0.25, -0.1], "sercotec": [0.25, -0.2]},
            "plan_negocios": {"no_iniciado": [0.4, -0.4], "en_desarrollo": [0.5, 0.0], "completo": [0.1, 0.5]},
        },
    },
    # task durations in working days: triangular [min, moda, max] by task id, by lane, or by default
    "duraciones": {"por_defecto": [1, 3, 10], "carriles": {"pyme": [1, 4, 15]}, "tareas": {}},
    # simulated users per region (ejecutivos CPE, ProChile and jefes regionales)
    "personal": {"por_region": {"ejecutivo_cpe": 2, "ejecutivo_prochile": 1, "jefe_regional": 1},
                 "regiones": {"CL-RM": {"ejecutivo_cpe": 6, "ejecutivo_prochile": 2}}},
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


# -- configuration ----------------------------------------------------------------------------

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


# -- cohort -----------------------------------------------------------------------------------

def _rut(number: int) -> str:
    body = str(number)
    return stdrut.format(body + stdrut.calc_check_digit(body))


def cohort(size: int, seed, config: dict | None = None) -> list[dict]:
    """`size` synthetic companies: registration fields plus `potencial` and `experiencia_exportadora`."""
    cfg = (config or DEFAULTS)["cohorte"]
    rng = random.Random(f"cohorte:{seed}")
    companies = []
    for index in range(size):
        tramo = _pick(rng, {k: v["cuota"] for k, v in cfg["tramos"].items()})
        bounds = cfg["tramos"][tramo]
        ventas = round(math.exp(rng.uniform(math.log(bounds["min_uf"]), math.log(bounds["max_uf"]))))
        exporta = rng.random() < cfg["cuota_exportadora"]
        if exporta:
            experiencia = "esporadica" if rng.random() < cfg["exporta_una_vez"] else "regular"
        else:
            experiencia = "indirecta" if rng.random() < cfg["exportacion_indirecta"] else "nunca"
        rubro = _pick(rng, cfg["rubros"])
        servicios = rubro in cfg["rubros_servicios"]
        pot = cfg["potencial"]
        potential = rng.betavariate(pot["alfa"], pot["beta"])
        potential += pot["extra_mediana"] if tramo in ("mediana", "grande") else 0.0
        potential += pot["extra_exporta"] if exporta else pot["extra_indirecta"] if experiencia == "indirecta" else 0
        natural = rng.random() < cfg["persona_natural"]
        name = f"{rng.choice(NAMES)} {rubro.split('_')[0].capitalize()} {index + 1}"
        single = rng.random() < cfg["producto_unico"]
        products = rng.choice(PRODUCTS) if single else ", ".join(rng.sample(PRODUCTS, 3))
        companies.append({
            "rut": _rut(60_000_000 + index * 7 + 1),
            "razon_social": name if natural else f"{name} {rng.choice(KINDS)}",
            "tipo_persona": "natural" if natural else "juridica",
            "region": _pick(rng, cfg["regiones"]),
            "comuna": "Comuna " + rng.choice(NAMES),
            "rubro": rubro,
            "productos": products,
            "tipo_oferta": "servicios" if servicios else "bienes",
            "ventas_uf": ventas,
            "empleados": max(1, round(ventas / rng.uniform(400, 1200))),
            "contacto_nombre": "Contacto " + name,
            "contacto_email": f"contacto{index + 1}@empresa{index + 1}.cl",
            "contacto_telefono": f"+56 9 {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}",
            "liderada_por_mujer": rng.random() < cfg["liderada_por_mujer"],
            "consentimiento_datos": True,
            "origen": _pick(rng, cfg["origen"]),
            "experiencia_exportadora": experiencia,
            "exporta": exporta,
            "producto_unico": single,
            "tramo": tramo,
            "potencial": round(_clamp(potential), 4),
        })
    return companies


# -- simulated people -------------------------------------------------------------------------

def answer(schema: dict, profile: dict, rng: random.Random, now: datetime, rules: dict | None = None,
           optional: float = 0.3, noise: float = 0.15) -> dict:
    """Data for a form, drawn from its JSON Schema and the company's `profile`.

    A field whose name is in `profile` takes the profile's value (if the schema allows it);
    scored options (`x-points`) follow `profile["potencial"]` with noise; other choices follow
    `rules` (by field name) or are uniform; dates come from `now`; numbers stay within bounds;
    required strings get plausible Spanish text. `if`/`then` conditions of the schema are applied.
    """
    gen = _Answerer(profile, rng, now, rules or {}, optional, noise)
    value = gen.value("", schema, required=True)
    return value if isinstance(value, dict) else {}


class _Answerer:
    def __init__(self, profile, rng, now, rules, optional, noise):
        self.profile, self.rng, self.now, self.rules = profile, rng, now, rules
        self.optional, self.noise = optional, noise
        self.potential = float(profile.get("potencial", 0.5))

    def value(self, name, schema, required):
        if not isinstance(schema, dict):
            return None
        if "const" in schema:
            return schema["const"]
        if name and name in self.profile and _allowed(schema, self.profile[name]):
            return self.profile[name]
        options = schema.get("oneOf") or schema.get("anyOf")
        if options and all(isinstance(o, dict) and "const" in o for o in options):
            return self.choose(name, [o["const"] for o in options],
                               [o.get("x-points") for o in options])
        if "enum" in schema:
            return self.choose(name, list(schema["enum"]), [None] * len(schema["enum"]))
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), None)
        if kind == "object" or "properties" in schema:
            return self.obj(schema)
        if kind == "array":
            return self.array(name, schema)
        if kind == "boolean":
            return self.choose(name, [True, False], [None, None])
        if kind in ("integer", "number"):
            return self.number(schema, kind == "integer")
        return self.text(name, schema)

    def choose(self, name, values, points):
        if any(p is not None for p in points):  # a scored question: the company's level, with noise
            order = sorted(range(len(values)), key=lambda i: (points[i] or 0, i))
            level = _clamp(self.potential + self.rng.gauss(0, self.noise))
            return values[order[round(level * (len(order) - 1))]]
        rule = self.rules.get(name)
        if rule:
            weights = {}
            for v in values:
                base, slope = rule.get(_rule_key(v), [0, 0])
                weights[_rule_key(v)] = max(0.0, base + slope * self.potential)
            chosen = _pick(self.rng, weights)
            return next(v for v in values if _rule_key(v) == chosen)
        if values == [True, False]:
            return self.rng.random() < 0.25 + 0.7 * self.potential
        return self.rng.choice(values)

    def obj(self, schema):
        props = schema.get("properties", {})
        required = set(schema.get("required", []))
        data = {}
        for key, sub in props.items():
            if key in required:
                data[key] = self.value(key, sub, True)
            elif self._fill_optional(key, sub):
                data[key] = self.value(key, sub, False)
        for rule in [schema, *schema.get("allOf", [])]:
            if "if" in rule:
                branch = rule.get("then") if Draft202012Validator(rule["if"]).is_valid(data) else rule.get("else")
                self._apply(branch or {}, props, data)
        return {k: v for k, v in data.items() if v is not None}

    def _fill_optional(self, key, sub):
        if key in self.profile and _allowed(sub, self.profile[key]):
            return True
        if sub.get("type") in ("object", "array") or "properties" in sub:
            return False
        if sub.get("pattern") and not any(re.fullmatch(sub["pattern"], c) for c in PATTERN_CANDIDATES):
            return False
        return self.rng.random() < self.optional

    def _apply(self, branch, props, data):
        for key in branch.get("required", []):
            if key not in data:
                data[key] = self.value(key, props.get(key, {}), True)
        for key, sub in branch.get("properties", {}).items():
            if isinstance(sub, dict) and "const" in sub and key in data:
                data[key] = sub["const"]

    def array(self, name, schema):
        items = schema.get("items", {})
        low = max(schema.get("minItems", 1), 1)
        options = items.get("oneOf") or items.get("anyOf")
        if options and all("const" in o for o in options):
            pool = [o["const"] for o in options]
        elif "enum" in items:
            pool = list(items["enum"])
        else:
            pool = None
        high = min(schema.get("maxItems", low + 2), low + 2)
        count = self.rng.randint(low, max(low, high))
        if pool is not None:
            return self.rng.sample(pool, min(count, len(pool)))
        values = []
        for _ in range(count):
            value = self.value(name, items, True)
            if value not in values:
                values.append(value)
        return values

    def number(self, schema, integer):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0))
        if "exclusiveMinimum" in schema and "minimum" not in schema:
            low = low + 1
        high = schema.get("maximum", schema.get("exclusiveMaximum", low + 1000))
        if "exclusiveMaximum" in schema and "maximum" not in schema:
            high = high - 1
        span = min(high - low, 1_000_000)
        value = low + span * (0.05 + 0.95 * self.potential * self.rng.random())
        return int(round(value)) if integer else round(value, 2)

    def text(self, name, schema):
        fmt, rng = schema.get("format"), self.rng
        if fmt == "date":
            return (self.now + timedelta(days=rng.randint(0, 14))).date().isoformat()
        if fmt == "date-time":
            return self.now.isoformat()
        if fmt == "email":
            return f"contacto{rng.randint(1, 99999)}@empresa.cl"
        if fmt == "rut":
            return _rut(rng.randint(50_000_000, 79_999_999))
        if schema.get("pattern"):
            for candidate in PATTERN_CANDIDATES:
                if re.fullmatch(schema["pattern"], candidate):
                    return candidate
        lower = name.lower()
        if "pais" in lower:
            text = rng.choice(COUNTRIES)
        elif "producto" in lower:
            text = rng.choice(PRODUCTS)
        elif "accion" in lower:
            text = rng.choice(ACTIONS)
        elif "nombre" in lower:
            text = f"Rueda de negocios {rng.choice(NAMES)} {self.now.year}"
        else:
            text = rng.choice(TEXTS)
        low, high = schema.get("minLength", 0), schema.get("maxLength", 2000)
        if len(text) < low:
            text = (text + " ") * (low // max(len(text), 1) + 1)
        return text[:high].strip() if len(text[:high].strip()) >= low else text[:high]


def _rule_key(value):
    return str(value).lower() if isinstance(value, bool) else value


def _allowed(schema, value) -> bool:
    if isinstance(schema, dict) and (schema.get("oneOf") or schema.get("anyOf") or "enum" in schema):
        options = schema.get("oneOf") or schema.get("anyOf")
        allowed = [o.get("const") for o in options] if options else schema["enum"]
        return value in allowed
    kind = schema.get("type") if isinstance(schema, dict) else None
    checks = {"string": str, "boolean": bool, "object": dict, "array": list}
    if kind in ("integer", "number"):
        return isinstance(value, int | float) and not isinstance(value, bool)
    return kind is None or isinstance(value, checks.get(kind, object))


def _triangular(rng, spec):
    low, mode, high = spec
    return rng.triangular(low, high, mode)


# -- the run ----------------------------------------------------------------------------------

def model_files(source: Engine, process_id: str, version: int | None = None):
    """The process version and the exact form and decision versions it pins, as deployable files."""
    process = source.model_version("process", process_id, version)
    deps = process.get("dependencies") or {}
    files = []
    for kind, group in (("form", "forms"), ("decision", "decisions")):
        for key, v in sorted(deps.get(group, {}).items()):
            row = source.model_version(kind, key, v)
            files.append((row["filename"], row["content"].encode("utf-8")))
    files.append((process["filename"], process["content"].encode("utf-8")))
    return process, files


class _Company:
    __slots__ = ("index", "data", "potential", "rng", "case_id", "dropped", "segments", "failed", "scheduled",
                 "timers")

    def __init__(self, index, data, seed):
        self.index, self.data, self.potential = index, data, data["potencial"]
        self.rng = random.Random(f"caso:{seed}:{index}")
        self.case_id, self.dropped, self.segments, self.failed = None, False, [], None
        self.scheduled, self.timers = set(), set()


def simulate(source: Engine, process_id: str, cases: int, version: int | None = None, seed=0,
             horizon_months: int | None = None, config: dict | None = None, database_url: str | None = None,
             workers: int | None = None, progress=None) -> dict:
    """Run `cases` synthetic companies through a process version; returns the figures (see module doc).

    Regions never share executives, pools or companies, so the cohort is split by region over
    `workers` processes (each with its own throwaway database): the result does not depend on
    `workers`. With `database_url` (one worker) the throwaway database is kept there.
    """
    if cases < 1:
        raise ValueError("--cases debe ser al menos 1")
    cfg = merged_config(config)
    if horizon_months is not None:
        cfg["horizonte_meses"] = horizon_months
    cfg.setdefault("horizonte_meses", 24)
    if cfg["horizonte_meses"] < 1:
        raise ValueError("--horizon-months debe ser al menos 1")
    process, files = model_files(source, process_id, version)
    start = datetime.fromisoformat(cfg["inicio"]).astimezone(UTC)
    end = start + timedelta(days=round(30.44 * cfg["horizonte_meses"]))
    companies = cohort(cases, seed, cfg)
    entry = random.Random(f"ingreso:{seed}")
    window = min(cfg["meses_ingreso"], cfg["horizonte_meses"]) * 30.44 * 86400
    arrivals = [start + timedelta(seconds=round(entry.random() * window)) for _ in companies]
    groups: dict[str, list] = {}
    for index, company in enumerate(companies):
        groups.setdefault(company["region"], []).append(index)
    workers = 1 if database_url else max(1, min(workers or os.cpu_count() or 1, len(groups)))
    shards: list[list] = [[] for _ in range(workers)]
    for region in sorted(groups, key=lambda r: (-len(groups[r]), r)):  # largest regions first, to the lightest
        min(shards, key=len).extend(groups[region])
    jobs = [(files, process_id, [(i, companies[i], arrivals[i]) for i in sorted(shard)], seed, cfg, start, end,
             database_url) for shard in shards if shard]
    if len(jobs) == 1:
        parts = [_run_shard(*jobs[0], progress=progress)]
    else:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        with ProcessPoolExecutor(len(jobs), mp_context=multiprocessing.get_context("spawn")) as pool:
            parts = list(pool.map(_run_shard, *zip(*jobs, strict=True)))
    figures = _figures(parts, cases, cfg, end)
    return {"casos": cases, "proceso": process_id, "version": process["version"], "semilla": seed, **figures,
            "configuracion": cfg}


def _run_shard(files, process_id, items, seed, cfg, start, end, database_url=None, progress=None) -> dict:
    with tempfile.TemporaryDirectory(prefix="cpe-sim-") as folder:
        # in memory while it fits comfortably (faster); a temporary file for large cohorts
        memory = len(items) <= MEMORY_LIMIT
        url = database_url or ("sqlite://" if memory else f"sqlite:///{folder}/simulacion.sqlite3")
        clock = VirtualClock(start)
        # keep the workflows of the cases in flight deserialized between their steps (bounded)
        sim = Engine(url=url, clock=clock, workflow_cache=min(len(items), WORKFLOW_CACHE))
        try:
            sim.upgrade()
            sim.deploy(files, author="simulacion", message=f"simulación de {process_id}")
            return _Run(sim, clock, process_id, items, seed, cfg, start, end, progress).execute()
        finally:
            sim.db.dispose()


class _Run:
    def __init__(self, sim, clock, process_id, items, seed, cfg, start, end, progress):
        self.sim, self.clock, self.process_id, self.cfg = sim, clock, process_id, cfg
        self.start, self.end, self.progress = start, end, progress or (lambda _msg: None)
        self.companies = {i: _Company(i, c, seed) for i, c, _ in items}
        self.arrivals = {i: moment for i, _, moment in items}
        self.events: list = []
        self.seq = 0
        self.people = cfg["personas"]
        self.counts = Counter()
        self.work = Counter()

    def push(self, moment, kind, company, payload=None):
        self.seq += 1
        heapq.heappush(self.events, (moment, self.seq, kind, company.index, payload))

    def execute(self) -> dict:
        self._staff()
        for index, company in self.companies.items():
            self.push(self.arrivals[index], "start", company)
        handled = 0
        while self.events:
            moment, _, kind, index, payload = heapq.heappop(self.events)
            if moment > self.end:
                break
            company = self.companies[index]
            if company.failed:
                continue
            self.clock.set(moment)
            if kind == "start":
                self._start(company)
            elif kind == "task":
                self._complete(company, payload)
            else:
                while self.sim.fire_due_timers(limit=500) == 500:
                    pass
                self._refresh(company)
            handled += 1
            if handled % 5000 == 0:
                self.progress(f"{handled} pasos, {moment.date().isoformat()}")
        return self._records()

    def _staff(self):
        """Simulated executives, ProChile executives and regional heads in every region of the cohort
        (inserted directly into the throwaway database: they never log in)."""
        staff = self.cfg["personal"]
        regions = sorted({c.data["region"] for c in self.companies.values()} & set(REGIONS))
        with self.sim.transaction() as s:
            for region in regions:
                counts = {**staff["por_region"], **staff.get("regiones", {}).get(region, {})}
                for role, count in counts.items():
                    for n in range(1, count + 1):
                        name = f"sim.{role.split('_')[-1]}.{region[3:].lower()}.{n}"
                        s.add(User(username=name, full_name=name, password_hash="!", role=role, region=region,
                                   rubros=[], created_at=self.start))

    def _start(self, company):
        form = self.sim.start_form(self.process_id)
        data = answer(form, company.data, company.rng, self.clock.now(), self.people["reglas"],
                      self.people["opcionales"], self.people["ruido"]) if form else dict(company.data)
        try:
            company.case_id = self.sim.start(self.process_id, data, actor="simulacion")
        except (FormError, EngineError) as exc:
            company.failed = str(exc)
            return
        self._refresh(company)

    def _complete(self, company, task):
        profile = {**company.data, "potencial": 0.0 if company.dropped else company.potential}
        last = None
        for _ in range(3):
            data = answer(task["form"] or {}, profile, company.rng, self.clock.now(), self.people["reglas"],
                          self.people["opcionales"], self.people["ruido"])
            try:
                self.sim.complete(task["id"], data, actor="simulacion")
                break
            except FormError as exc:
                last = exc
            except EngineError:  # the task went away (cancelled by the model meanwhile)
                last = None
                self.counts["tareas_canceladas"] += 1
                return self._refresh(company)
        else:
            company.failed = f"{task['bpmn_id']}: {last}"
            return
        self.counts["tareas_completadas"] += 1
        self.work[task["assignee"] or f"pool:{task['lane']}:{task['region']}"] += 1
        company.potential = _clamp(company.potential + self.people["mejora_por_tarea"])
        self._refresh(company)

    def _refresh(self, company):
        with self.sim.Session() as s:
            status, timer, segment = s.execute(select(Case.status, Case.next_timer_at, Case.segmento)
                                               .where(Case.id == company.case_id)).one()
        if segment and (not company.segments or company.segments[-1] != segment):
            company.segments.append(segment)
        if status != "active":
            return
        timer = as_utc(timer)
        if timer is not None and timer not in company.timers:
            company.timers.add(timer)
            self.push(timer + TIMER_MARGIN, "timer", company)  # stored times may lose precision
        ready = sorted(self.sim.ready_tasks(case_id=company.case_id), key=lambda t: (t["bpmn_id"], t["id"]))
        for task in ready:
            if task["id"] in company.scheduled:
                continue
            company.scheduled.add(task["id"])
            if not company.dropped and company.rng.random() < self.people["abandono_por_tarea"]:
                company.dropped = True
                self.counts["abandonos"] += 1
            if company.dropped and task["lane"] == "pyme":
                continue  # the company no longer answers
            days = _triangular(company.rng, self._duration(task))
            self.push(self.clock.now() + timedelta(days=days * 7 / 5), "task", company, task)

    def _duration(self, task):
        spec = self.cfg["duraciones"]
        return spec["tareas"].get(task["bpmn_id"]) or spec["carriles"].get(task["lane"]) or spec["por_defecto"]

    def _records(self) -> dict:
        """What the figures need, per case, from this shard's throwaway database."""
        with self.sim.Session() as s:
            rows = {r.id: r for r in s.execute(select(Case.id, Case.status, Case.resultado, Case.segmento,
                                                      Case.ejecutivo, Case.data, Case.created_at, Case.ended_at))}
            steps = dict(s.execute(select(CaseEvent.bpmn_id, func.count())
                                   .where(CaseEvent.kind.in_(("task_completed", "step_completed")),
                                          CaseEvent.bpmn_id.is_not(None))
                                   .group_by(CaseEvent.bpmn_id)).all())
        cases = []
        for index, company in sorted(self.companies.items()):
            row = rows.get(company.case_id)
            found = row is not None
            cases.append({
                "index": index, "failed": company.failed, "segments": company.segments,
                "status": row.status if found else None, "resultado": row.resultado if found else None,
                "segmento": row.segmento if found else None, "ejecutivo": row.ejecutivo if found else None,
                "exportaciones": (row.data or {}).get("exportaciones") if found else None,
                "created_at": as_utc(row.created_at) if found else None,
                "ended_at": as_utc(row.ended_at) if found else None,
            })
        return {"cases": cases, "steps": steps, "work": dict(self.work), "counts": dict(self.counts)}


def _figures(parts, n, cfg, end) -> dict:
    cases = sorted((c for p in parts for c in p["cases"]), key=lambda c: c["index"])
    steps, work, counts = Counter(), Counter(), Counter()
    for part in parts:
        steps.update(part["steps"])
        work.update(part["work"])
        counts.update(part["counts"])
    results, segments, first_segments = Counter(), Counter(), Counter()
    durations, stay, exported, evolved, executives = [], [], 0, 0, Counter()
    order = {name: i for i, name in enumerate(cfg["orden_segmentos"])}
    for case in cases:
        if case["status"] is None or case["failed"] or case["status"] in ("error", "cancelled"):
            results["error"] += 1
        elif case["status"] == "completed":
            results[case["resultado"] or "sin_resultado"] += 1
        else:
            results["activa"] += 1
        segments[case["segmento"] or "sin_segmento"] += 1
        first_segments[case["segments"][0] if case["segments"] else "sin_segmento"] += 1
        if case["status"] is None:
            continue
        if case["ejecutivo"]:
            executives[case["ejecutivo"]] += 1
        began, ended = case["created_at"], case["ended_at"]
        if ended is not None:
            durations.append((ended - began).total_seconds() / 86400)
        stay.append(((ended or end) - began).total_seconds() / 86400)
        if case["resultado"] == "exportadora" or _positive(case["exportaciones"]):
            exported += 1
        ranks = [order[s] for s in case["segments"] if s in order]
        if any(b > a for a, b in zip(ranks, ranks[1:], strict=False)):
            evolved += 1
    results = {**{k: results.get(k, 0) for k in RESULTS},
               **{k: v for k, v in sorted(results.items()) if k not in RESULTS}}
    assigned = {k: v for k, v in work.items() if not k.startswith("pool:")}
    pool = sum(v for k, v in work.items() if k.startswith("pool:"))
    loads = list(assigned.values())
    errors = sorted({c["failed"] for c in cases if c["failed"]})
    return {
        "resultados": results,
        "segmentos": dict(sorted(segments.items())),
        "segmentos_iniciales": dict(sorted(first_segments.items())),
        "duracion_dias": {"casos_terminados": len(durations), "mediana": _round(_median(durations)),
                          "p90": _round(_quantile(durations, 0.9)),
                          "permanencia_media": _round(statistics.fmean(stay) if stay else None)},
        "carga_ejecutivos": {
            "ejecutivos_con_tareas": len(assigned), "tareas_asignadas": sum(loads), "tareas_en_pool": pool,
            "tareas_por_ejecutivo_media": _round(statistics.fmean(loads) if loads else None),
            "tareas_por_ejecutivo_max": max(loads, default=0),
            "casos_por_ejecutivo_max": max(executives.values(), default=0),
            "tareas_por_ejecutivo": dict(sorted(assigned.items())),
        },
        "pasos": dict(sorted(steps.items())),
        "indicadores": {
            "ingresadas": n, "exportaron": exported, "evolucionaron": evolved,
            "desertaron": results["desercion"], "derivadas": results["derivada"],
            "eficacia": _ratio(exported, n), "evolucion": _ratio(evolved, n),
            "desercion": _ratio(results["desercion"], n),
            "promocion": _ratio(n, cfg["pymes_registradas"], 6),
        },
        "personas": {"tareas_completadas": counts["tareas_completadas"],
                     "tareas_canceladas": counts["tareas_canceladas"],
                     "empresas_que_dejaron_de_responder": counts["abandonos"],
                     "errores": len(errors), "primeros_errores": errors[:5]},
    }


def _positive(value) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool) and value > 0


def _ratio(part, whole, digits=4):
    return round(part / whole, digits) if whole else None


def _round(value):
    return round(value, 1) if value is not None else None


def _median(values):
    return statistics.median(values) if values else None


def _quantile(values, q):
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]
