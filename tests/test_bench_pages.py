"""`cpe bench` page timings, and the inbox and case list queries they measure.

The timing function runs on a tiny database (no thresholds here: figures are in
bench/RESULTS.md). The inbox and the case list are compared, page by page and over many
filter combinations, with the plain single queries they replaced, on data made by the
bench's fill (several regions, assigned and pooled tasks, mixed due dates).
"""

from __future__ import annotations

import itertools

import pytest
from sqlalchemy import func, or_, select

from engine.cases.queries import DUE_SOON, InboxFilters, cases, inbox, offered_to
from engine.store.schema import Case, Company, ModelVersion, TaskRow, User
from tooling.bench import suite

WEB_KEYS = ("web_inbox_p95_ms", "web_inbox_filtered_p95_ms", "web_case_p95_ms", "web_cases_list_p95_ms",
            "dashboard_p95_ms", "dashboard_region_p95_ms", "heatmap_p95_ms")


@pytest.fixture
def filled(deployed):
    """A few engine-made cases of cpe_actual (half past the TPE) copied up to 50 open cases."""
    deployed.create_user(suite.BENCH_USER, suite.BENCH_PASSWORD, "ejecutivo_cpe", region="CL-RM")
    forms = {k: f.schema for k, f in suite._compiled(deployed).forms.items()}
    life = suite.Lifecycle(forms)
    for i in range(4):
        case_id = deployed.start("cpe_actual", suite._company(i), actor="bench")  # each its own first TPE
        if i % 2:
            [task] = deployed.ready_tasks(case_id=case_id)
            deployed.complete(task["id"], life.answers["tpe_bienes"], user=suite.BENCH_USER)
    suite._fill(deployed, 50)
    return deployed


def test_web_timings_are_measured_through_the_app(filled):
    from tooling.bench.pages import measure

    results = measure(filled, runs=3, executive=suite.BENCH_USER, password=suite.BENCH_PASSWORD)
    for key in WEB_KEYS:
        assert isinstance(results[key], float | int) and results[key] > 0, key
    assert isinstance(results["web_inbox_tasks"], int) and results["web_inbox_tasks"] > 0
    assert results["web_settings"]["busiest_region"] == results["web_settings"]["executive_region"] == "CL-RM"


def test_fill_makes_open_cases_with_their_company_history_and_tasks(filled):
    with filled.Session() as s:
        assert s.scalar(select(func.count()).select_from(Case).where(Case.status == "active")) == 50
        assert s.scalar(select(func.count(func.distinct(Case.company_id)))) > 40
        copy = s.scalar(select(Case).order_by(Case.id.desc()))
        assert s.get(Company, copy.company_id).razon_social == copy.data["razon_social"]
        assert filled.case(copy.id)["history"]
        assert s.scalar(select(func.count()).select_from(TaskRow).where(TaskRow.case_id == copy.id)) >= 1


def test_new_cases_and_companies_can_be_started_after_the_fill(filled):
    """The copies get explicit ids; on PostgreSQL the sequences must be moved past them (the HTTP
    part of the bench starts new companies after the fill)."""
    case_id = filled.start("cpe_actual", {**suite.COMPANY, "rut": "70.000.000-1", "razon_social": "Nueva SpA"})
    assert filled.case(case_id)["status"] == "active"


# -- the queries against the plain versions they replaced ------------------------------------
def _plain_inbox(engine, username, filters, page, per_page):
    now = engine.now()
    with engine.Session() as s:
        user = s.scalar(select(User).where(User.username == username))
        query = select(TaskRow.id).join(Case, Case.id == TaskRow.case_id) \
            .join(ModelVersion, ModelVersion.id == Case.model_version_id) \
            .where(TaskRow.state == "ready", offered_to(user))
        if filters.scope == "mine":
            query = query.where(TaskRow.assignee == username)
        elif filters.scope == "pool":
            query = query.where(TaskRow.assignee.is_(None))
        for wanted, column in ((filters.process, Case.process_key), (filters.name, TaskRow.name),
                               (filters.region, TaskRow.region), (filters.segmento, Case.segmento),
                               (filters.version, ModelVersion.version)):
            if wanted:
                query = query.where(column == wanted)
        if filters.due == "overdue":
            query = query.where(TaskRow.due_at < now)
        elif filters.due == "soon":
            query = query.where(TaskRow.due_at >= now, TaskRow.due_at < now + DUE_SOON)
        elif filters.due == "none":
            query = query.where(TaskRow.due_at.is_(None))
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        order = {"newest": (TaskRow.created_at.desc(),),
                 "due": (TaskRow.due_at.is_(None), TaskRow.due_at, TaskRow.created_at)}.get(
                     filters.order, (TaskRow.created_at,))
        ids = s.scalars(query.order_by(*order, TaskRow.id).offset((page - 1) * per_page).limit(per_page)).all()
        visible = select(TaskRow.name).where(TaskRow.state == "ready", offered_to(user))
        names = sorted(set(s.scalars(visible)))
        return total, ids, names


def _plain_cases(engine, region, search, page, per_page):
    with engine.Session() as s:
        query = select(Case.id).outerjoin(Company, Company.id == Case.company_id)
        if region:
            query = query.where(Case.region == region)
        if search:
            like = f"%{search.strip()}%"
            query = query.where(or_(Company.razon_social.ilike(like), Company.rut.ilike(like)))
        total = s.scalar(select(func.count()).select_from(query.subquery()))
        return total, s.scalars(query.order_by(Case.id.desc()).offset((page - 1) * per_page).limit(per_page)).all()


def test_inbox_pages_match_the_plain_query(filled):
    filled.create_user("eje.bio", "bench-password", "ejecutivo_cpe", region="CL-BI")
    filled.create_user("analista.b", "bench-password", "analista")
    with filled.Session() as s:
        names = sorted(set(s.scalars(select(TaskRow.name))))
    combos = list(itertools.product(("all", "mine", "pool"), ("oldest", "newest", "due"),
                                    (None, "overdue", "soon", "none")))
    extra = [InboxFilters(name=names[0]), InboxFilters(process="cpe_actual", order="due"), InboxFilters(version=1),
             InboxFilters(version=2), InboxFilters(segmento="rojo"), InboxFilters(region="CL-BI", scope="pool"),
             InboxFilters(process="cpe_actual", version=1, scope="mine"), InboxFilters(process="otro"),
             InboxFilters(process="cpe_actual", segmento="rojo", due="overdue")]
    checked = 0
    for username in (suite.BENCH_USER, "eje.bio", "analista.b"):
        for filters in [InboxFilters(scope=a, order=o, due=d) for a, o, d in combos] + extra:
            for page in (1, 2, 3):
                result = inbox(filled, username, filters, page=page, per_page=4)
                total, ids, visible = _plain_inbox(filled, username, filters, page, 4)
                assert (result.total, [t["id"] for t in result.items]) == (total, ids), (username, filters, page)
                assert result.counts["names"] == visible
                checked += len(ids)
    assert checked > 200


def test_case_list_pages_match_the_plain_query(filled):
    searches = (None, "", "  ", "Viña", "viña", "VIÑA", "EXPORTADORA", "del Sur", "1", "SpA", "76.086", "60.000.01",
                "nada")
    for region, search, page in itertools.product((None, "CL-RM", "CL-BI"), searches, (1, 2)):
        result = cases(filled, region, search, page=page, per_page=6)
        assert (result.total, [c["id"] for c in result.items]) == _plain_cases(filled, region, search, page, 6), \
            (region, search, page)
    [first] = cases(filled, None, "Empresa de prueba", per_page=1).items
    assert set(first) == {"id", "process", "status", "segmento", "resultado", "region", "ejecutivo",
                          "razon_social", "rut", "created_at", "updated_at"}
    assert first["razon_social"] == "Empresa de prueba SpA" and first["status"] == "active"
