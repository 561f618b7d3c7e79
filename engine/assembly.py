"""Where the engine meets the programme: `build_engine` gives the Engine the programme's operators.

Every Engine of the application is built here (the web app, the CLI, the simulator, the benchmark,
the tests): engine.cases knows how service tasks run, engine.programme.operators which ones exist.
"""

from __future__ import annotations

from engine.cases.engine import Engine
from engine.programme.operators import OPERATORS


def build_engine(url: str | None = None, *, clock=None, instance_dir=None, workflow_cache: int = 1024,
                 workflow_cache_tasks: int | None = 50_000) -> Engine:
    """An Engine on the database at `url` (None: the instance's SQLite file) with the programme's operators.

    The table is `OPERATORS` itself, never a copy: a change to it (a test replacing an operator)
    reaches every Engine."""
    return Engine(url, clock=clock, instance_dir=instance_dir, workflow_cache=workflow_cache,
                  workflow_cache_tasks=workflow_cache_tasks, operator_table=OPERATORS)
