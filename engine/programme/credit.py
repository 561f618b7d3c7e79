"""Credit for exports and the executives' performance (issue 16 item 9; thesis §3.4.2 block 4:
"monitorear a los ejecutivos", an incentive per company that exports; §3.4.3).

After the verde hand-off the ProChile executive follows the company up, but the CPE executive
who brought it worked the case too. So an export is credited to **every executive who worked the
case**: each executive (role ejecutivo_cpe or ejecutivo_prochile) who completed at least one task
of one of the company's cases in the selection (the task history, `tasks.completed_by`).

Per executive (`performance_rows`, a pure function with table-driven tests):
- *a cargo*: companies whose open case they are in charge of today (`Case.ejecutivo`), against
  the cap of 50 companies per executive (§3.4.2 block 4); not limited by the period;
- *trabajadas*: companies with a case of the selection where they completed a task, and of those
  the ones that entered (were classified: engine/programme/indicators.py);
- *exportaciones acreditadas*: worked companies that exported after entering (the indicators'
  definition of an exporter), whoever was in charge when they exported;
- *evolucionaron* / *desertaron*: worked companies that moved up a segment / that left after
  entering; the rates divide by the worked companies that entered.

The selection is the indicators' (region, period of the case's creation, rubro); the executive
filter chooses the executives shown, not the cases.
"""

from __future__ import annotations

from dataclasses import replace

from sqlalchemy import distinct, func, select

from engine.domain.assignment import EXECUTIVE_CAP
from engine.domain.roles import EXECUTIVES
from engine.programme.indicators import (
    LEFT,
    Filters,
    conditions,
    entered_conditions,
    evolved_companies,
    exporters,
    ratio,
    read_session,
)
from engine.store.schema import Case, TaskRow, User

NOT_ENTERED = "ninguna empresa trabajada ingresó al programa"


def performance_rows(executives, in_charge: dict, worked: dict, exported: set, evolved: set, left: set,
                     entered: set, cap: int = EXECUTIVE_CAP) -> list[dict]:
    """One row per executive (pure). `executives`: (username, full name, role, region);
    `in_charge`: {username: companies of their open cases}; `worked`: {username: set of company
    ids whose cases they worked}; the sets: companies of the selection that exported after
    entering, moved up, left after entering, entered. Sorted by exports credited, then name."""
    rows = []
    for username, name, role, region in executives:
        mine = worked.get(username, set())
        came_in = mine & entered
        load = in_charge.get(username, 0)
        row = {"ejecutivo": username, "nombre": name or username, "rol": role, "region": region,
               "a_cargo": load, "tope": cap, "carga": ratio(load, cap, "sin tope")[0], "sobre_tope": load > cap,
               "trabajadas": len(mine), "ingresadas": len(came_in), "exportaciones": len(mine & exported),
               "evolucionaron": len(came_in & evolved), "desertaron": len(came_in & left)}
        for key, part in (("eficacia", "exportaciones"), ("evolucion", "evolucionaron"),
                          ("desercion", "desertaron")):
            row[key], row[f"motivo_{key}"] = ratio(row[part], row["ingresadas"], NOT_ENTERED)
        rows.append(row)
    rows.sort(key=lambda r: (-r["exportaciones"], -r["trabajadas"], r["ejecutivo"]))
    return rows


def totals(rows: list[dict]) -> dict:
    """The page's summary (pure): executives, those over the cap, companies in charge, exports
    credited (an export worked by two executives counts for both: the sum may exceed the exporters)."""
    return {"ejecutivos": len(rows), "sobre_tope": sum(r["sobre_tope"] for r in rows),
            "a_cargo": sum(r["a_cargo"] for r in rows), "creditos": sum(r["exportaciones"] for r in rows)}


def executive_performance(engine, f: Filters | None = None) -> dict:
    """The executives of the filters' region (all regions: every executive) and their figures."""
    f = f or Filters()
    cases = replace(f, ejecutivo=None)  # the executive filter picks the rows, not the cases
    with read_session(engine) as s:
        who = select(User.username, User.full_name, User.role, User.region).where(
            User.role.in_(EXECUTIVES), User.active.is_(True))
        if f.region:
            who = who.where(User.region == f.region)
        if f.ejecutivo:
            who = who.where(User.username == f.ejecutivo)
        executives = [tuple(r) for r in s.execute(who.order_by(User.username))]
        names = [e[0] for e in executives]
        if not names:
            return {"ejecutivos": [], "totales": totals([]), "filtros": f.as_dict()}
        load_where = [Case.status == "active", Case.ejecutivo.in_(names)]
        if f.region:
            load_where.append(Case.region == f.region)
        in_charge = dict(s.execute(select(Case.ejecutivo, func.count(distinct(Case.company_id)))
                                   .where(*load_where).group_by(Case.ejecutivo)).all())
        worked: dict = {}
        for username, company in s.execute(
                select(TaskRow.completed_by, Case.company_id).distinct().join(Case, Case.id == TaskRow.case_id)
                .where(TaskRow.state == "completed", TaskRow.completed_by.in_(names), *conditions(cases))):
            worked.setdefault(username, set()).add(company)
        done = exporters(cases)
        exported = set(s.scalars(select(done.c.company_id)))
        evolved = set(s.scalars(evolved_companies(*conditions(cases))))
        entered = set(s.scalars(select(Case.company_id).distinct().where(*entered_conditions(cases))))
        left = set(s.scalars(select(Case.company_id).distinct().where(*entered_conditions(cases),
                                                                        Case.resultado.in_(LEFT))))
    rows = performance_rows(executives, in_charge, worked, exported, evolved, left, entered)
    return {"ejecutivos": rows, "totales": totals(rows), "filtros": f.as_dict()}
