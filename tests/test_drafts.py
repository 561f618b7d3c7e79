"""Drafts of a task's form: one per task and owner, not validated but bounded, gone once the task is completed."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.basics.errors import Conflict, FormError, NotFound
from engine.cases.drafts import MAX_CHARS, load_draft, save_draft
from engine.models.validation import collect_files
from engine.store.schema import TaskDraft, TaskRow

MODEL = Path(__file__).parent / "models" / "diagnostico"
REGISTRO = {"rut": "76.086.428-5", "razon_social": "Conservas del Sur SpA", "region": "CL-RM", "ventas_uf": 9000}
ANSWERS = {"respuestas": {"web": "no", "idiomas": "ninguno"}}


@pytest.fixture
def task_id(engine):
    """The questionnaire of the small model (the TPE-like form), ready."""
    engine.deploy(collect_files([MODEL]))
    [task] = engine.ready_tasks(case_id=engine.start("diagnostico_rapido", REGISTRO))
    return task["id"]


def _drafts(engine):
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(TaskDraft))


def test_save_and_load(engine, task_id, clock):
    saved = save_draft(engine, task_id, "eje.rm", {"respuestas": {"web": "si"}})
    loaded = load_draft(engine, task_id, "eje.rm")
    assert loaded == saved == {"task_id": task_id, "owner": "eje.rm", "data": {"respuestas": {"web": "si"}},
                               "updated_at": clock.now()}
    assert loaded["updated_at"].tzinfo is not None


def test_a_draft_is_not_validated(engine, task_id):
    data = {"respuestas": {"web": "quizás", "idiomas": 3}, "campo_desconocido": [1, None, True]}
    save_draft(engine, task_id, "pyme", data)
    assert load_draft(engine, task_id, "pyme")["data"] == data


def test_saving_again_overwrites(engine, task_id, clock):
    save_draft(engine, task_id, "eje.rm", {"respuestas": {"web": "si"}})
    clock.advance(minutes=10)
    save_draft(engine, task_id, "eje.rm", {"respuestas": {"idiomas": "varios"}})
    draft = load_draft(engine, task_id, "eje.rm")
    assert draft["data"] == {"respuestas": {"idiomas": "varios"}} and draft["updated_at"] == clock.now()
    assert _drafts(engine) == 1


def test_each_owner_has_their_own_draft(engine, task_id):
    save_draft(engine, task_id, "eje.rm", {"respuestas": {"web": "si"}})
    assert load_draft(engine, task_id, "eje2.rm") is None
    assert load_draft(engine, task_id, "pyme") is None
    save_draft(engine, task_id, "pyme", {"respuestas": {"web": "no"}})
    assert load_draft(engine, task_id, "eje.rm")["data"] == {"respuestas": {"web": "si"}}
    assert load_draft(engine, task_id, "pyme")["data"] == {"respuestas": {"web": "no"}}


def test_the_caller_cannot_change_a_saved_draft(engine, task_id):
    data = {"respuestas": {"web": "si"}}
    save_draft(engine, task_id, "eje.rm", data)
    data["respuestas"]["web"] = "no"
    assert load_draft(engine, task_id, "eje.rm")["data"] == {"respuestas": {"web": "si"}}


def test_unknown_task(engine, task_id):
    with pytest.raises(NotFound, match="no existe la tarea"):
        save_draft(engine, "00000000-0000-0000-0000-000000000000", "eje.rm", {})
    assert load_draft(engine, "00000000-0000-0000-0000-000000000000", "eje.rm") is None
    assert _drafts(engine) == 0


def test_refused_on_a_completed_task(engine, task_id):
    engine.complete(task_id, ANSWERS)
    with pytest.raises(Conflict, match="ya no está disponible"):
        save_draft(engine, task_id, "eje.rm", {"respuestas": {"web": "si"}})
    assert _drafts(engine) == 0


def test_completing_the_task_deletes_every_draft_of_it(engine, task_id):
    save_draft(engine, task_id, "eje.rm", {"respuestas": {"web": "si"}})
    save_draft(engine, task_id, "pyme", {"respuestas": {"web": "no"}})
    engine.complete(task_id, ANSWERS, user=None)
    assert load_draft(engine, task_id, "eje.rm") is None and load_draft(engine, task_id, "pyme") is None
    assert _drafts(engine) == 0


def test_a_refused_completion_keeps_the_draft(engine, task_id):
    save_draft(engine, task_id, "eje.rm", {"respuestas": {"web": "si"}})
    with pytest.raises(FormError):
        engine.complete(task_id, {"respuestas": {"web": "si"}})
    assert load_draft(engine, task_id, "eje.rm")["data"] == {"respuestas": {"web": "si"}}


def test_completing_another_task_keeps_this_draft(engine, task_id):
    [other] = engine.ready_tasks(case_id=engine.start("diagnostico_rapido", {**REGISTRO, "rut": "77.777.777-7"}))
    save_draft(engine, task_id, "eje.rm", {"respuestas": {"web": "si"}})
    engine.complete(other["id"], ANSWERS)
    assert load_draft(engine, task_id, "eje.rm") is not None


def test_a_draft_saved_while_the_task_is_being_completed_is_deleted_too(engine, task_id):
    if engine.db.dialect.name != "postgresql":
        pytest.skip("row locks: PostgreSQL (SQLite runs one writer at a time)")
    with engine.Session() as s:  # what save_draft does, held open while someone completes the task
        s.scalar(select(TaskRow).where(TaskRow.id == task_id).with_for_update())
        s.add(TaskDraft(task_id=task_id, owner="pyme", data={"a": 1}, updated_at=engine.now()))
        s.flush()
        completing = threading.Thread(target=engine.complete, args=(task_id, ANSWERS))
        completing.start()
        time.sleep(0.5)
        assert completing.is_alive()  # waits for the task row
        s.commit()
    completing.join(10)
    assert engine.task(task_id)["state"] == "completed" and _drafts(engine) == 0


def _sized(chars):
    """A dict whose JSON text is exactly `chars` characters long."""
    data = {"texto": ""}
    data["texto"] = "ñ" * (chars - len('{"texto": ""}'))
    return data


@pytest.mark.parametrize("owner,data,message", [
    ("eje.rm", ["no", "es", "un", "objeto"], "debe ser un objeto"),
    ("eje.rm", None, "debe ser un objeto"),
    ("eje.rm", "texto", "debe ser un objeto"),
    ("eje.rm", {"fecha": object()}, "no se pueden guardar"),
    ("eje.rm", {"monto": float("nan")}, "no se pueden guardar"),
    ("eje.rm", _sized(MAX_CHARS + 1), "demasiado grande (200.001 caracteres; máximo 200.000)"),
    ("", {}, "dueño"),
    ("   ", {}, "dueño"),
    (None, {}, "dueño"),
    ("x" * 121, {}, "dueño"),
])
def test_invalid_drafts_are_refused_and_change_nothing(engine, task_id, owner, data, message):
    with pytest.raises(ValueError, match=re.escape(message)):
        save_draft(engine, task_id, owner, data)
    assert _drafts(engine) == 0


def test_the_size_limit_counts_characters_not_bytes(engine, task_id):
    save_draft(engine, task_id, "pyme", _sized(MAX_CHARS))
    assert len(load_draft(engine, task_id, "pyme")["data"]["texto"]) == MAX_CHARS - len('{"texto": ""}')
