"""How a service task runs its operator: the `Operator` entry of a table, the `ServiceContext` it gets,
and `call`, which checks the parameters and runs it within a time limit in a savepoint.

The table itself (operator id -> Operator) is the programme's (engine.programme.operators.OPERATORS);
the Engine holds it and hands it down in the context, so nothing here knows an operator.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError

from engine.basics.case_values import check as check_value
from engine.operators import deadline
from engine.store.schema import Case


class ServiceError(Exception):
    """An operator refused its parameters or failed; the message is shown to analysts."""

    def __init__(self, operator: str, message: str):
        self.operator = operator
        super().__init__(f"{operator}: {message}")


@dataclass(frozen=True)
class Operator:
    id: str
    run: Callable
    params: dict[str, Callable] = field(default_factory=dict)  # name -> check (engine.operators.checks)
    optional: tuple[str, ...] = ()
    description: str = ""


@dataclass
class ServiceContext:
    session: Any
    case: Case
    now: Any
    form: Callable[[str], Any]  # form id -> engine.models.forms.Form pinned by the case's version
    actor: str = "sistema"
    operators: dict[str, Operator] | None = None  # the Engine's operator table


def call(table: dict[str, Operator], ctx: ServiceContext, operator_id: str, params: dict,
         timeout: float = deadline.DEFAULT_SECONDS) -> dict:
    """Validate the parameters of `operator_id` (looked up in `table`) and run it within `timeout` seconds."""
    operator = (table or {}).get(operator_id)
    if operator is None:
        raise ServiceError(operator_id, "operador desconocido")
    values = _checked(operator_id, operator, params)
    watch = None
    try:
        # a savepoint: an operator that wrote rows and then failed (or ran out of time) leaves
        # none of them behind (the case's error state is stored in the same transaction, and a
        # retry starts clean)
        with ctx.session.begin_nested():
            with deadline.limited(ctx.session, timeout) as watch:
                result = operator.run(ctx, **values)
                ctx.session.flush()  # the operator's rows are written within its time limit
                # what it returns enters the case: plain JSON only (a ValueRefused is a ValueError:
                # the step fails with the reason, and the savepoint drops the rows it wrote)
                check_value(result, "resultado")
            if watch.expired:
                raise deadline.Expired
            return result
    except ValueError as exc:
        raise ServiceError(operator_id, str(exc)) from None
    except (deadline.Expired, DBAPIError):
        if watch is not None and watch.expired:
            raise ServiceError(operator_id, f"no terminó dentro del tiempo límite ({deadline.describe(timeout)}); "
                                            "se canceló sin dejar nada escrito") from None
        raise


def _checked(operator_id: str, operator: Operator, params: dict) -> dict:
    """The operator's parameters after their checks (None for an optional one not given)."""
    unknown = set(params) - set(operator.params)
    if unknown:
        raise ServiceError(operator_id, f"parámetros desconocidos: {', '.join(sorted(unknown))}")
    values = {}
    for name, check in operator.params.items():
        if name not in params:
            if name in operator.optional:
                values[name] = None
                continue
            raise ServiceError(operator_id, f"falta el parámetro '{name}'")
        try:
            values[name] = check(params[name])
        except ValueError as exc:
            raise ServiceError(operator_id, f"parámetro '{name}' {exc}") from None
    return values
