"""`x-default-from`: a field first shows the value of a case variable (a suggestion the user may change)."""

from __future__ import annotations

import json

import pytest

from engine.models.forms import load_form
from webapp.shared.formrender import fields

SCHEMA = {
    "type": "object",
    "properties": {
        "institucion": {"type": "string", "x-default-from": "institucion_sugerida", "default": "fosis",
                        "oneOf": [{"const": "fosis", "title": "FOSIS"}, {"const": "sercotec", "title": "SERCOTEC"}]},
        "respuestas": {"type": "object", "x-default-from": "tpe.respuestas",
                       "properties": {"idiomas": {"type": "string"}, "web": {"type": "boolean"}}},
        "nota": {"type": "string", "default": "sin nota"},
    },
}


def shown(values=None, defaults=True, case=None):
    def walk(items):
        return {f.name: walk(f.children) if f.widget == "group" else f.value for f in items}
    return walk(fields(SCHEMA, values, context=case or {}, defaults=defaults))


@pytest.mark.parametrize("case, expected", [
    ({"institucion_sugerida": "sercotec", "tpe": {"respuestas": {"idiomas": "ingles", "web": True}}},
     {"institucion": "sercotec", "respuestas": {"respuestas.idiomas": "ingles", "respuestas.web": True},
      "nota": "sin nota"}),
    ({}, {"institucion": "fosis", "respuestas": {"respuestas.idiomas": None, "respuestas.web": None},
          "nota": "sin nota"}),
    # a value of the wrong shape is not shown: the schema's default instead
    ({"institucion_sugerida": {"x": 1}, "tpe": {"respuestas": "texto"}},
     {"institucion": "fosis", "respuestas": {"respuestas.idiomas": None, "respuestas.web": None},
      "nota": "sin nota"}),
    ({"tpe": ["no", "es", "objeto"]},
     {"institucion": "fosis", "respuestas": {"respuestas.idiomas": None, "respuestas.web": None},
      "nota": "sin nota"}),
])
def test_a_first_opened_form_shows_the_case_value(case, expected):
    assert shown(case=case) == expected


def test_what_was_typed_or_drafted_wins_and_a_reopened_form_shows_no_default():
    case = {"institucion_sugerida": "sercotec", "tpe": {"respuestas": {"idiomas": "ingles"}}}
    assert shown({"institucion": "fosis", "respuestas": {"idiomas": "frances"}}, case=case)["respuestas"] == {
        "respuestas.idiomas": "frances", "respuestas.web": None}
    assert shown(defaults=False, case=case)["institucion"] is None


@pytest.mark.parametrize("source", ["", "1abc", "a..b", "a.b.", "a b", "a.b.c.d.e.f.g.h.i", 3, ["x"], "x" * 101])
def test_a_bad_default_source_is_refused_at_deploy(source):
    schema = {"type": "object", "properties": {"campo": {"type": "string", "x-default-from": source}}}
    with pytest.raises(ValueError, match="x-default-from"):
        load_form(json.dumps(schema))


def test_a_good_default_source_deploys():
    assert load_form(json.dumps(SCHEMA))["properties"]["respuestas"]["x-default-from"] == "tpe.respuestas"


@pytest.mark.parametrize("kind, value, shown_", [
    ("string", "x", "x"), ("string", 3, None), ("integer", 3, 3), ("integer", True, None), ("integer", 2.5, None),
    ("number", 2.5, 2.5), ("boolean", False, False), ("boolean", 0, None), ("array", ["a"], ["a"]),
    ("array", "a", None), (None, "x", None),
])
def test_only_a_value_of_the_fields_type_is_shown(kind, value, shown_):
    schema = {"type": "object", "properties": {"campo": {"x-default-from": "v", **({"type": kind} if kind else {})}}}
    [field] = fields(schema, context={"v": value}, defaults=True)
    assert field.value == shown_
