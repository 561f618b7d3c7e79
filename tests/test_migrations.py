"""The Alembic migrations build exactly the tables the SQLAlchemy models declare."""

from __future__ import annotations

import json

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from engine.store.schema import Base


def test_migrations_match_the_models(engine):
    with engine.db.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert diff == []


def _migrate(engine, verb, revision):
    from alembic import command

    from engine.store.db import alembic_config

    config = alembic_config(engine.url)
    with engine.db.begin() as connection:
        config.attributes["connection"] = connection
        getattr(command, verb)(config, revision)


def test_0009_moves_the_serialized_workflows_to_case_states_and_back(deployed, clock):
    from sqlalchemy import inspect, select, text

    from engine.assembly import build_engine
    from engine.store.schema import CaseState
    from tooling.bench.suite import COMPANY, Lifecycle, _compiled

    life = Lifecycle({k: f.schema for k, f in _compiled(deployed).forms.items()})
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region=COMPANY["region"])
    cases = [deployed.start("cpe_actual", COMPANY) for _ in range(3)]
    [task] = deployed.ready_tasks(case_id=cases[0])
    deployed.complete(task["id"], life.answers[task["form_id"]])
    with deployed.Session() as s:
        states = dict(s.execute(select(CaseState.case_id, CaseState.workflow)).all())
    assert sorted(states) == sorted(cases)

    _migrate(deployed, "downgrade", "0008")
    assert "case_states" not in inspect(deployed.db).get_table_names()
    with deployed.db.connect() as connection:
        rows = connection.execute(text("SELECT id, workflow FROM cases")).all()
    assert {id_: json.loads(w) if isinstance(w, str) else w for id_, w in rows} == states

    _migrate(deployed, "upgrade", "head")
    assert "workflow" not in {c["name"] for c in inspect(deployed.db).get_columns("cases")}
    with deployed.Session() as s:
        assert dict(s.execute(select(CaseState.case_id, CaseState.workflow)).all()) == states
    fresh = build_engine(url=deployed.url, clock=clock)  # no cached workflow: it reads case_states
    try:
        [task] = fresh.ready_tasks(case_id=cases[0])
        fresh.complete(task["id"], life.answers[task["form_id"]])
        assert fresh.ready_tasks(case_id=cases[0])[0]["id"] != task["id"]
    finally:
        fresh.db.dispose()


def test_0013_fills_who_gave_each_earlier_tpe_version(deployed, clock):
    """tpe_history.submitted_by: an earlier revision gets the actor of the case's task completed just
    before it was scored (the company in its portal here); downgrading drops the column."""
    from sqlalchemy import inspect, select, text

    from engine.programme.portal import PORTAL_ACTOR
    from engine.store.schema import TpeHistory

    from . import profiles as P
    from .driver import Driver

    d = Driver(deployed, clock, "cpe_actual")
    case_id = d.start()
    clock.advance(minutes=5)
    deployed.complete(d.ready(case_id)["Task_TPE_Bienes"]["id"], {"respuestas": P.VINA_AMARILLO}, actor=PORTAL_ACTOR)
    _migrate(deployed, "downgrade", "0012")
    assert "submitted_by" not in {c["name"] for c in inspect(deployed.db).get_columns("tpe_history")}
    with deployed.db.connect() as connection:
        assert connection.execute(text("SELECT count(*) FROM tpe_history")).scalar() == 1
    _migrate(deployed, "upgrade", "head")
    with deployed.Session() as s:
        assert s.scalars(select(TpeHistory.submitted_by)).all() == [PORTAL_ACTOR]
