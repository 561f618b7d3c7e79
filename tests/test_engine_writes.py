"""How a step writes (engine/cases/steps.py, engine/cases/rows.py): each table once per verb with Core
statements, the optimistic lock still guarding the case row, a task completed only once, and
forms validated with the same results as the plain JSON Schema."""

from __future__ import annotations

import copy
import json
import random

import pytest
from jsonschema import Draft202012Validator
from sqlalchemy import event, select, update

from engine.basics.errors import Conflict, FormError
from engine.cases import rows
from engine.models import spiff
from engine.models.forms import FORMAT_CHECKER, Form
from engine.store.schema import Case, CaseEvent, TaskRow
from tooling.bench.suite import COMPANY, Lifecycle, _compiled

from .conftest import ROOT


@pytest.fixture
def life(deployed):
    return Lifecycle({k: f.schema for k, f in _compiled(deployed).forms.items()})


@pytest.fixture
def statements(deployed):
    seen = []

    def record(_conn, _cursor, statement, _params, _context, many):
        seen.append(" ".join(statement.split()) + (" [many]" if many else ""))

    event.listen(deployed.db, "before_cursor_execute", record)
    yield seen
    event.remove(deployed.db, "before_cursor_execute", record)


def _count(seen, prefix):
    return sum(1 for s in seen if s.startswith(prefix))


def _step_updates(seen):
    """The step's UPDATE of the case row (operators may write others, e.g. `ejecutivo`)."""
    return [s for s in seen if s.startswith("UPDATE cases SET") and "data=" in s]


def test_start_writes_each_table_once(deployed, statements):
    case_id = deployed.start("cpe_actual", COMPANY)
    assert _count(statements, "INSERT INTO cases") == 1 and len(_step_updates(statements)) == 1
    assert _count(statements, "INSERT INTO tasks") == 1
    assert _count(statements, "INSERT INTO case_events") == 1  # case_started and the steps: one executemany
    assert _count(statements, "INSERT INTO case_states") == 1
    assert not any(s.startswith("SELECT model_versions.content") or "model_versions.content" in s
                   for s in statements)  # the BPMN text stays in the database: the spec is cached
    kinds = [e["kind"] for e in deployed.case(case_id)["history"]]
    assert kinds[0] == "case_started" and kinds.count("case_started") == 1


def test_complete_writes_each_table_once(deployed, life, statements):
    case_id = deployed.start("cpe_actual", COMPANY)
    [task] = deployed.ready_tasks(case_id=case_id)
    statements.clear()
    deployed.complete(task["id"], life.answers[task["form_id"]])
    assert _count(statements, "UPDATE tasks") == 1 and len(_step_updates(statements)) == 1
    assert _count(statements, "INSERT INTO case_events") == 1 and _count(statements, "UPDATE case_states") == 1
    assert _count(statements, "SELECT cases.model_version_id") == 0
    with deployed.Session() as s:
        case = s.get(Case, case_id)
        row = s.get(TaskRow, task["id"])
        assert (row.state, row.completed_by) == ("completed", "cli")
        assert case.lock_version >= 3 and case.status == "active"
        completed = s.scalars(select(CaseEvent).where(CaseEvent.case_id == case_id,
                                                      CaseEvent.kind == "task_completed")).all()
        assert len(completed) == 1


def test_a_case_row_changed_meanwhile_makes_the_step_a_conflict(deployed, life):
    """The step's UPDATE only passes the lock_version the transaction read: otherwise the whole
    transaction is rolled back with the Spanish message, and the task stays ready."""
    case_id = deployed.start("cpe_actual", COMPANY)
    [task] = deployed.ready_tasks(case_id=case_id)
    original = rows.store_case

    def changed_meanwhile(s, case, values):
        s.execute(update(Case).where(Case.id == case.id).values(lock_version=Case.lock_version + 1)
                  .execution_options(synchronize_session=False))
        return original(s, case, values)

    rows.store_case = changed_meanwhile
    try:
        with pytest.raises(Conflict, match="modificado por otra persona"):
            deployed.complete(task["id"], life.answers[task["form_id"]])
    finally:
        rows.store_case = original
    [again] = deployed.ready_tasks(case_id=case_id)
    assert again["id"] == task["id"]
    assert [e["kind"] for e in deployed.case(case_id)["history"]].count("task_completed") == 0
    deployed.complete(task["id"], life.answers[task["form_id"]])  # the cache did not keep the failed step
    assert [e["kind"] for e in deployed.case(case_id)["history"]].count("task_completed") == 1


def test_a_task_row_no_longer_ready_is_not_completed_twice(deployed, life):
    case_id = deployed.start("cpe_actual", COMPANY)
    [task] = deployed.ready_tasks(case_id=case_id)
    with deployed.transaction() as s:
        row, _account = rows.task(s, task["id"])
        rows.finish_task(s, row, deployed.now(), "otra.persona")
        with pytest.raises(Conflict, match="ya no está disponible"):
            rows.finish_task(s, row, deployed.now(), "bench")
        s.rollback()


def test_a_failed_step_writes_the_case_row_once(deployed, statements, monkeypatch):
    from engine.programme import operators

    def broken(ctx, ventas_uf):
        raise ValueError("servicio caído")

    monkeypatch.setitem(operators.OPERATORS, "verificar_tamano",
                        operators.Operator("verificar_tamano", broken, operators.OPERATORS["verificar_tamano"].params))
    case_id = deployed.start("cpe_actual", COMPANY)
    case = deployed.case(case_id)
    assert case["status"] == "error" and "servicio caído" in case["error"]["message"]
    assert len(_step_updates(statements)) == 1
    assert _count(statements, "UPDATE cases") == 1  # nothing left for the unit of work at the commit


def test_open_tasks_match_the_separate_walks(deployed, life):
    case_id = deployed.start("cpe_actual", COMPANY)
    [task] = deployed.ready_tasks(case_id=case_id)
    deployed.complete(task["id"], life.answers[task["form_id"]])
    (_stamp, workflow, _tasks) = deployed.workflows._items[case_id]
    found = spiff.open_tasks(workflow)
    assert found.ready == spiff.ready_user_tasks(workflow) and found.ready
    assert spiff.next_timer_of(found.waiting) == spiff.next_timer(workflow)
    assert not found.automatic_ready


def test_choices_validate_as_the_plain_schema():
    """Forms validate a oneOf of constants as an enum (faster); results and messages are those
    of the form's own schema, for valid and invalid submissions alike."""
    rng = random.Random(7)
    wrong = ["x", 1, 1.5, True, None, [], ["a"], {"a": 1}]
    for path in sorted((ROOT / "forms").glob("*.json")):
        schema = json.loads(path.read_text())
        fast = Form(path.stem, 1, schema)
        plain = Form(path.stem, 1, schema)
        plain._validator = Draft202012Validator(schema, format_checker=FORMAT_CHECKER)
        choices = _choices(schema)
        for _ in range(150):
            data = _fill(schema, rng, choices)
            target = data.get("respuestas") if isinstance(data.get("respuestas"), dict) else data
            for _ in range(rng.randint(0, 2)):
                key = rng.choice(sorted(target) or ["z"])
                target[key] = rng.choice(wrong + choices)
            assert _outcome(fast, data) == _outcome(plain, data), (path.name, data)


def _outcome(form, data):
    try:
        return "ok", form.validate(copy.deepcopy(data))
    except FormError as exc:
        return "error", exc.errors


def _choices(node) -> list:
    found = []
    if isinstance(node, dict):
        found += [o["const"] for o in node.get("oneOf") or [] if isinstance(o, dict) and "const" in o]
        for value in node.values():
            found += _choices(value)
    elif isinstance(node, list):
        for value in node:
            found += _choices(value)
    return found


def _fill(schema, rng, choices):
    """A mostly valid submission: every property gets one of its options or a plain value."""
    data = {}
    for name, prop in (schema.get("properties") or {}).items():
        options = [o["const"] for o in prop.get("oneOf") or [] if isinstance(o, dict) and "const" in o]
        if prop.get("type") == "object":
            data[name] = _fill(prop, rng, choices)
        elif options:
            data[name] = rng.choice(options)
        elif prop.get("type") == "array":
            inner = [o["const"] for o in (prop.get("items") or {}).get("oneOf") or [] if "const" in o]
            data[name] = rng.sample(inner, min(len(inner), 2)) if inner else []
        elif rng.random() < 0.2:
            continue
        else:
            data[name] = {"integer": 3, "number": 2.5, "boolean": True}.get(prop.get("type"), "texto")
    return data


def test_the_acting_user_is_read_with_the_task(deployed, life, statements):
    """complete reads the task and its user in one statement; an unknown or deactivated user is
    NotFound, one of another region Forbidden, and the task stays ready."""
    from engine.basics.errors import Forbidden, NotFound
    from engine.store.schema import User

    deployed.create_user("eje.rm", "clave-de-prueba-1", "ejecutivo_cpe", region="CL-RM")
    deployed.create_user("eje.bi", "clave-de-prueba-2", "ejecutivo_cpe", region="CL-BI")
    deployed.create_user("eje.baja", "clave-de-prueba-3", "ejecutivo_cpe", region="CL-RM")
    with deployed.transaction() as s:
        s.execute(update(User).where(User.username == "eje.baja").values(active=False))
    case_id = deployed.start("cpe_actual", COMPANY)
    [task] = deployed.ready_tasks(case_id=case_id)
    answers = life.answers[task["form_id"]]
    for user, error in (("nadie", NotFound), ("eje.baja", NotFound), ("eje.bi", Forbidden)):
        with pytest.raises(error):
            deployed.complete(task["id"], answers, user=user)
    assert [t["id"] for t in deployed.ready_tasks(case_id=case_id)] == [task["id"]]
    statements.clear()
    deployed.complete(task["id"], answers, user="eje.rm")
    data = [st for st in statements if not st.startswith(("BEGIN", "SAVEPOINT", "RELEASE", "SET"))]
    assert "LEFT OUTER JOIN users" in data[0] and data[1].startswith("SELECT cases.")
    with deployed.Session() as s:
        assert s.get(TaskRow, task["id"]).completed_by == "eje.rm"
