"""Table-driven tests of the pure domain rules."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from engine.domain.assignment import choose_executive
from engine.domain.derivation import VALID_MOTIVOS, derive
from engine.domain.regions import REGIONS, is_region
from engine.domain.rut import is_valid_rut, normalize_rut
from engine.domain.scoring import score_questionnaire
from engine.domain.sizing import classify_size
from engine.domain.workdays import add_working_days

SIZES = [
    (0, "micro", False), (1500, "micro", False), (2399.99, "micro", False), (2400, "pequena", True),
    (20000, "pequena", True), (25000, "pequena", True), (25000.01, "mediana", True), (60000, "mediana", True),
    (100000, "mediana", True), (100000.01, "grande", False), (150000, "grande", False),
    ("20000", "pequena", True), (Decimal("3000.5"), "pequena", True),
]


@pytest.mark.parametrize("ventas,tramo,elegible", SIZES)
def test_size_tramos(ventas, tramo, elegible):
    assert classify_size(ventas) == {"tramo": tramo, "elegible": elegible}


@pytest.mark.parametrize("bad", [None, True, -1, float("nan"), float("inf"), "mucho", "", [], {}])
def test_size_rejects_non_numbers(bad):
    with pytest.raises(ValueError, match="ventas_uf debe ser un número"):
        classify_size(bad)


RUTS = [
    ("76086428-5", "76.086.428-5"), ("76.086.428-5", "76.086.428-5"), ("760864285", "76.086.428-5"),
    (" 76.086.428-5 ", "76.086.428-5"), ("12.345.678-5", "12.345.678-5"), ("10.000.013-k", "10.000.013-K"),
]


@pytest.mark.parametrize("raw,normalised", RUTS)
def test_rut_normalised(raw, normalised):
    assert normalize_rut(raw) == normalised and is_valid_rut(raw)


@pytest.mark.parametrize("raw,message", [
    ("76.086.428-4", "dígito verificador incorrecto"), ("", "formato incorrecto"), (None, "formato incorrecto"),
    ("hola", "formato incorrecto"), ("1", "formato incorrecto"), (76086428, "formato incorrecto"),
])
def test_rut_invalid(raw, message):
    with pytest.raises(ValueError, match=message):
        normalize_rut(raw)
    assert not is_valid_rut(raw)


def test_every_region_and_reason_has_a_destination():
    for region in REGIONS:
        for motivo in VALID_MOTIVOS:
            result = derive(motivo, region, date(2026, 5, 4))
            assert result["institucion"] and result["contacto"] and REGIONS[region] in result["direccion"]
            assert result["fecha"] == "2026-05-04" and result["motivo"] == motivo


DERIVATIONS = [
    ("micro", "CL-BI", "SERCOTEC", "Concepción"), ("grande", "CL-RM", "ProChile", "Santiago"),
    ("rojo", "CL-MA", "FOSIS", "Punta Arenas"), ("rojo_oscuro", "CL-VS", "ProChile", "Valparaíso"),
    ("corfo", "CL-ML", "CORFO", "Talca"), ("sercotec", "CL-NB", "SERCOTEC", "Chillán"),
]


@pytest.mark.parametrize("motivo,region,institution,city", DERIVATIONS)
def test_derivation_directory(motivo, region, institution, city):
    result = derive(motivo, region, date(2026, 1, 2))
    assert result["institucion"].startswith(institution) and city in result["direccion"]


@pytest.mark.parametrize("motivo,region,message", [
    ("otro", "CL-RM", "motivo de derivación desconocido 'otro'"), ("micro", "CL-XX", "región desconocida 'CL-XX'"),
])
def test_derivation_errors(motivo, region, message):
    with pytest.raises(ValueError, match=message):
        derive(motivo, region, date(2026, 1, 2))


def test_regions():
    assert len(REGIONS) == 16 and is_region("CL-NB") and not is_region("CL-XX") and not is_region(None)


A = {"username": "ana", "rubros": ["vitivinicola"], "carga": 10}
B = {"username": "beto", "rubros": [], "carga": 3}
C = {"username": "carla", "rubros": ["vitivinicola", "alimentos_procesados"], "carga": 10}
FULL = {"username": "dora", "rubros": ["vitivinicola"], "carga": 50}
ASSIGNMENTS = [
    ([A, B], "vitivinicola", {"ejecutivo": "ana", "carga": 10}),  # specialist before a less loaded generalist
    ([A, B], "turismo", {"ejecutivo": "beto", "carga": 3}),  # nobody specialised: generalist
    ([A, C], "vitivinicola", {"ejecutivo": "ana", "carga": 10}),  # tie broken by username
    ([C, A], "alimentos_procesados", {"ejecutivo": "carla", "carga": 10}),
    ([FULL, B], "vitivinicola", {"ejecutivo": "beto", "carga": 3}),  # at the cap: skipped
    ([FULL], "vitivinicola", {"ejecutivo": None, "carga": None, "pool": True}),
    ([A], "turismo", {"ejecutivo": None, "carga": None, "pool": True}),
    ([], "turismo", {"ejecutivo": None, "carga": None, "pool": True}),
    ([B], None, {"ejecutivo": "beto", "carga": 3}),
]


@pytest.mark.parametrize("candidates,rubro,expected", ASSIGNMENTS)
def test_choose_executive(candidates, rubro, expected):
    assert choose_executive(candidates, rubro) == expected


WORKDAYS = [
    (datetime(2026, 3, 6, 10, 0, tzinfo=UTC), 1, datetime(2026, 3, 9, 10, 0, tzinfo=UTC)),  # Fri + 1 = Mon
    (datetime(2026, 3, 2, 9, 0, tzinfo=UTC), 5, datetime(2026, 3, 9, 9, 0, tzinfo=UTC)),  # Mon + 5 = next Mon
    (datetime(2026, 3, 7, 9, 0, tzinfo=UTC), 1, datetime(2026, 3, 9, 9, 0, tzinfo=UTC)),  # Sat + 1 = Mon
    (datetime(2026, 3, 4, 9, 0, tzinfo=UTC), 0, datetime(2026, 3, 4, 9, 0, tzinfo=UTC)),
]


@pytest.mark.parametrize("start,n,expected", WORKDAYS)
def test_add_working_days(start, n, expected):
    assert add_working_days(start, n) == expected


def test_working_days_skip_holidays_and_reject_bad_counts():
    start = datetime(2026, 9, 17, 9, 0, tzinfo=UTC)  # Thursday before Fiestas Patrias
    holidays = frozenset({date(2026, 9, 18)})
    assert add_working_days(start, 1, holidays) == datetime(2026, 9, 21, 9, 0, tzinfo=UTC)
    for bad in (-1, 1.5, True, "2"):
        with pytest.raises(ValueError):
            add_working_days(start, bad)


def _schema(*questions):
    return {"properties": {"respuestas": {"properties": {
        name: {"x-dimension": dim, "oneOf": [{"const": c, "x-points": p} for c, p in options]}
        for name, dim, options in questions}}}}


SCHEMA = _schema(("a", "gestion", [("no", 0), ("si", 10)]), ("b", "gestion", [("x", 0), ("y", 5), ("z", 10)]),
                 ("c", "mercado", [("bajo", 0), ("alto", 20)]))
SCORES = [
    ({"a": "si", "b": "z", "c": "alto"}, 100.0, {"gestion": 100.0, "mercado": 100.0}),
    ({"a": "no", "b": "x", "c": "bajo"}, 0.0, {"gestion": 0.0, "mercado": 0.0}),
    ({"a": "si", "b": "y", "c": "bajo"}, 37.5, {"gestion": 75.0, "mercado": 0.0}),
    ({"c": "alto"}, 50.0, {"gestion": 0.0, "mercado": 100.0}),  # unanswered counts 0
    ({}, 0.0, {"gestion": 0.0, "mercado": 0.0}),
]


@pytest.mark.parametrize("answers,total,dimensions", SCORES)
def test_score_questionnaire(answers, total, dimensions):
    assert score_questionnaire(SCHEMA, answers) == {"puntaje": total, "dimensiones": dimensions}


def test_score_rejects_unknown_answer():
    with pytest.raises(ValueError, match="Respuesta no válida para la pregunta 'a': 'tal vez'"):
        score_questionnaire(SCHEMA, {"a": "tal vez"})
