"""Comments on a case: validation, storage, order, and the entry in the case's history."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.basics.errors import NotFound
from engine.cases.comments import MAX_LENGTH, add_comment, clean_body, comments
from engine.models.validation import collect_files
from engine.store.schema import CaseEvent, Comment

MODEL = Path(__file__).parent / "models" / "diagnostico"
REGISTRO = {"rut": "76.086.428-5", "razon_social": "Conservas del Sur SpA", "region": "CL-RM", "ventas_uf": 9000}


@pytest.fixture
def case_id(engine):
    engine.deploy(collect_files([MODEL]))
    engine.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM", full_name="Elena Ejecutiva")
    return engine.start("diagnostico_rapido", REGISTRO)


def _count(engine, table):
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(table))


@pytest.mark.parametrize("body,stored", [
    ("Llamé a la empresa.", "Llamé a la empresa."),
    ("   con espacios alrededor \n\n", "con espacios alrededor"),
    ("línea 1\r\nlínea 2\rlínea 3", "línea 1\nlínea 2\nlínea 3"),
    ("  sangría interna\n  se conserva", "sangría interna\n  se conserva"),
    ("x" * MAX_LENGTH, "x" * MAX_LENGTH),
    ("  " + "x" * MAX_LENGTH + "\n", "x" * MAX_LENGTH),  # the limit counts the stripped text
    ("a\r\n" * 1500 + "b" * 999, "a\n" * 1500 + "b" * 999),  # CRLF counts as one character, as in the browser
    ("<script>alert(1)</script>", "<script>alert(1)</script>"),  # stored as typed; the page escapes it
])
def test_valid_bodies(body, stored):
    assert clean_body(body) == stored


@pytest.mark.parametrize("body,message", [
    ("", "Escriba el comentario"),
    ("   \n\t  ", "Escriba el comentario"),
    ("\r\n", "Escriba el comentario"),
    ("x" * (MAX_LENGTH + 1), "no puede superar los 4000 caracteres (tiene 4001)"),
    (None, "debe ser un texto"),
    (42, "debe ser un texto"),
    (["hola"], "debe ser un texto"),
])
def test_invalid_bodies_are_refused_and_change_nothing(engine, case_id, body, message):
    events = _count(engine, CaseEvent)
    with pytest.raises(ValueError, match=re.escape(message)):
        add_comment(engine, case_id, "eje.rm", body)
    assert _count(engine, Comment) == 0 and _count(engine, CaseEvent) == events


@pytest.mark.parametrize("author", ["", "   ", None, "x" * 81])
def test_an_author_is_required(engine, case_id, author):
    with pytest.raises(ValueError, match="autor"):
        add_comment(engine, case_id, author, "Hola")
    assert _count(engine, Comment) == 0


def test_unknown_case(engine, case_id):
    with pytest.raises(NotFound, match="no existe el caso 999"):
        add_comment(engine, 999, "eje.rm", "Hola")
    assert _count(engine, Comment) == 0
    assert comments(engine, 999) == []


def test_comments_are_listed_oldest_first_and_recorded_in_the_history(engine, case_id, clock):
    first = add_comment(engine, case_id, "eje.rm", "  Primero\ncon dos líneas  ")
    clock.advance(minutes=5)
    second = add_comment(engine, case_id, "jefe.rm", "Segundo")
    listed = comments(engine, case_id)
    assert [c["id"] for c in listed] == [first["id"], second["id"]]
    assert listed[0] == first
    assert listed[0]["body"] == "Primero\ncon dos líneas"
    assert listed[0]["author"] == "eje.rm" and listed[0]["author_name"] == "Elena Ejecutiva"
    assert listed[1]["author_name"] == "jefe.rm"  # not a user here: the name as given
    assert listed[1]["created_at"] == clock.now() and listed[1]["created_at"].tzinfo is not None
    history = [e for e in engine.case(case_id)["history"] if e["kind"] == "comment"]
    assert [(e["actor"], e["detail"]) for e in history] == [
        ("eje.rm", {"comment_id": first["id"]}), ("jefe.rm", {"comment_id": second["id"]})]


def test_comments_belong_to_their_case(engine, case_id):
    other = engine.start("diagnostico_rapido", {**REGISTRO, "rut": "77.777.777-7", "razon_social": "Otra SpA"})
    add_comment(engine, case_id, "eje.rm", "En el primero")
    assert comments(engine, other) == []
    assert [c["body"] for c in comments(engine, case_id)] == ["En el primero"]


def test_a_completed_case_can_still_be_commented(engine, case_id):
    [task] = engine.ready_tasks(case_id=case_id)
    engine.complete(task["id"], {"respuestas": {"web": "no", "idiomas": "ninguno"}})
    assert engine.case(case_id)["status"] == "completed"
    add_comment(engine, case_id, "eje.rm", "Derivada a SERCOTEC; quedó conforme.")
    assert len(comments(engine, case_id)) == 1
