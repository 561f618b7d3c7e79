"""`cpe bench` HTTP figures: real task completions through gunicorn, as a browser sends them."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from engine.store.schema import CaseEvent
from tooling.bench import http_load
from tooling.bench.suite import BENCH_PASSWORD, BENCH_USER, Lifecycle, _compiled
from webapp.shared import formrender

SCHEMA = {"type": "object", "properties": {
    "a": {"type": "string"}, "n": {"type": "integer"}, "ok": {"type": "boolean"}, "no": {"type": "boolean"},
    "lista": {"type": "array", "items": {"enum": ["x", "y", "z"]}},
    "grupo": {"type": "object", "properties": {"b": {"type": "string"}}}}}


@pytest.mark.parametrize("data", [
    {"a": "hola", "n": 3},
    {"ok": True, "no": False},
    {"lista": ["x", "z"], "grupo": {"b": "dentro"}},
])
def test_form_fields_are_read_back_by_the_form_renderer(data):
    assert formrender.parse(SCHEMA, MultiDict(http_load.form_fields(data))) == data


def test_the_bench_tpe_answers_survive_the_rendered_form(deployed):
    forms = {k: f.schema for k, f in _compiled(deployed).forms.items()}
    answers = Lifecycle(forms).answers["tpe_bienes"]
    assert formrender.parse(forms["tpe_bienes"], MultiDict(http_load.form_fields(answers))) == answers


def test_completions_through_gunicorn(deployed, database_url):
    deployed.create_user(BENCH_USER, BENCH_PASSWORD, "ejecutivo_cpe", region="CL-RM")
    answers = Lifecycle({k: f.schema for k, f in _compiled(deployed).forms.items()}).answers["tpe_bienes"]
    figures = http_load.measure(deployed, database_url, BENCH_USER, BENCH_PASSWORD, answers, clients=2,
                                 per_client=2, workers=1, threads=2)
    assert figures["http_settings"]["tasks"] == 4
    assert figures["http_complete_p95_ms"] > 0 and figures["http_complete_per_s"] > 0
    with deployed.Session() as s:
        done = s.scalars(select(CaseEvent.actor).where(CaseEvent.kind == "task_completed")).all()
    assert done == [BENCH_USER] * 4  # each POST really completed its task, as bench.eje


def test_a_wrong_password_fails_the_run(deployed, database_url):
    deployed.create_user(BENCH_USER, BENCH_PASSWORD, "ejecutivo_cpe", region="CL-RM")
    with pytest.raises(RuntimeError, match="no se pudo ingresar"):
        http_load.measure(deployed, database_url, BENCH_USER, "otra-clave-mala", {}, clients=1, per_client=1,
                           workers=1, threads=1)
