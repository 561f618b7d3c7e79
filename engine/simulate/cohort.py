"""The synthetic cohort: companies drawn from the configured distributions."""

from __future__ import annotations

import math
import os
import random
from datetime import datetime, timedelta

from stdnum.cl import rut as stdrut

from engine.simulate.config import DEFAULTS, KINDS, NAMES, PRODUCTS, _clamp, _pick


def _rut(number: int) -> str:
    body = str(number)
    return stdrut.format(body + stdrut.calc_check_digit(body))


def cohort(size: int, seed, config: dict | None = None) -> list[dict]:
    """`size` synthetic companies: registration fields plus `potencial` and `experiencia_exportadora`."""
    return list(iter_cohort(size, seed, config))


def iter_cohort(size: int, seed, config: dict | None = None):
    """The companies of `cohort`, one at a time (a caller that keeps only some of them never
    holds the whole cohort)."""
    cfg = (config or DEFAULTS)["cohorte"]
    rng = random.Random(f"cohorte:{seed}")
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
        yield {
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
        }


def split(cases: int, seed, cfg: dict, workers: int | None = None) -> list[list[int]]:
    """The indices of the cohort split by region into at most `workers` shards of similar size
    (regions never share executives, pools or companies, so they simulate apart); only the
    regions of the companies are kept while the cohort is drawn."""
    groups: dict[str, list] = {}
    for index, company in enumerate(iter_cohort(cases, seed, cfg)):
        groups.setdefault(company["region"], []).append(index)
    return [sorted(part) for part in by_region(groups, workers or os.cpu_count() or 1)]


def by_region(groups: dict[str, list], workers: int) -> list[list]:
    """`groups` (region -> its items) in at most `workers` non-empty parts of whole regions of similar
    size: the largest regions first, each to the lightest part."""
    parts: list[list] = [[] for _ in range(max(1, min(workers, len(groups))))]
    for region in sorted(groups, key=lambda r: (-len(groups[r]), r)):
        min(parts, key=len).extend(groups[region])
    return [part for part in parts if part]


def shard_items(cases: int, seed, cfg: dict, start: datetime, indices) -> list[tuple]:
    """The companies of one shard (`indices` of the cohort) with their arrival times: a list of
    (index, company, arrival), by index. The cohort is drawn whole, but only these are kept; a
    company and its arrival do not depend on the split."""
    keep = set(indices)
    entry = random.Random(f"ingreso:{seed}")
    window = min(cfg["meses_ingreso"], cfg["horizonte_meses"]) * 30.44 * 86400
    items = []
    for index, company in enumerate(iter_cohort(cases, seed, cfg)):
        arrival = start + timedelta(seconds=round(entry.random() * window))
        if index in keep:
            items.append((index, company, arrival))
    return items


def shards(cases: int, seed, cfg: dict, start: datetime, workers: int | None = None) -> list[list[tuple]]:
    """Every shard's items (`shard_items`) of the split in at most `workers` shards."""
    return [shard_items(cases, seed, cfg, start, part) for part in split(cases, seed, cfg, workers)]
