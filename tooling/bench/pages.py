"""Page timings for `cpe bench`: the inbox, the case page and the case search measured as HTTP
requests through the real Flask app (routing, session and login, queries, templates) on the
bench's throwaway engine. It lives in tooling/ (it imports webapp; engine/ and webapp/ never import tooling); the bench
calls it through the `web` hook of `tooling.bench.suite.run`.
"""

from __future__ import annotations

import random
import time
from urllib.parse import urlencode

from sqlalchemy import func, select

from engine.cases.queries import inbox
from engine.domain import roles
from engine.store.schema import Case, Company, TaskRow
from tooling.bench.suite import FILL_NAMES, FILL_PLACES, _p95, fill_name

ANALYST, ANALYST_PASSWORD = "bench.analista", "bench-analista-password"
FILTERED = "?plazo=vencidas&orden=plazo"
WARMUP = 3


def measure(engine, runs: int = 40, executive: str = "bench.eje", password: str = "bench-password",
            seed: int = 2026) -> dict:
    """p95 in milliseconds of each page over `runs` requests (after a few warm-up requests):

    - web_inbox_p95_ms: GET /bandeja, first page, default filters, for `executive` (a regional
      executive; the bench's works in the region that holds most open tasks);
    - web_inbox_filtered_p95_ms: GET /bandeja?plazo=vencidas&orden=plazo, same person;
    - web_case_p95_ms: GET /casos/<id> for random cases, as an analyst (who may see every case);
    - web_cases_list_p95_ms: GET /casos?q=… as the analyst, the search text drawn from a company
      name word or place, a name with its number, a number fragment or a RUT.
    - dashboard_p95_ms: GET /indicadores/ as the analyst (every region, no filter: the whole table);
    - dashboard_region_p95_ms: GET /indicadores/ as `executive` (their region);
    - heatmap_p95_ms: GET /indicadores/mapa for cpe_actual v1 as the analyst (every case of the version).

    `executive` must exist with `password`; the analyst is created if missing. Every request
    must answer 200, or RuntimeError is raised (a redirect to the login page is no timing).
    """
    from webapp import create_app

    if engine.get_user(ANALYST) is None:
        engine.create_user(ANALYST, ANALYST_PASSWORD, roles.ANALISTA)
    app = create_app({"ENGINE": engine, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    chooser = random.Random(seed)
    with engine.Session() as s:
        case_ids = list(s.scalars(select(Case.id)))
        ruts = list(s.scalars(select(Company.rut).limit(1000)))
        busiest = s.execute(select(TaskRow.region, func.count()).where(TaskRow.state == "ready")
                            .group_by(TaskRow.region).order_by(func.count().desc()).limit(1)).first()
    executive_client, analyst_client = _login(app, executive, password), _login(app, ANALYST, ANALYST_PASSWORD)

    def search():
        n = chooser.randrange(len(case_ids))
        return chooser.choice([FILL_NAMES[n % len(FILL_NAMES)], FILL_PLACES[n % len(FILL_PLACES)], fill_name(n)[:-4],
                               str(n)[:4], chooser.choice(ruts) if ruts else str(n)])

    pages = {
        "web_inbox_p95_ms": (executive_client, lambda: "/bandeja"),
        "web_inbox_filtered_p95_ms": (executive_client, lambda: "/bandeja" + FILTERED),
        "web_case_p95_ms": (analyst_client, lambda: f"/casos/{chooser.choice(case_ids)}"),
        "web_cases_list_p95_ms": (analyst_client, lambda: "/casos?" + urlencode({"q": search()})),
        "dashboard_p95_ms": (analyst_client, lambda: "/indicadores/"),
        "dashboard_region_p95_ms": (executive_client, lambda: "/indicadores/"),
        "heatmap_p95_ms": (analyst_client, lambda: "/indicadores/mapa?modelo=cpe_actual:1"),
    }
    results = {}
    for key, (client, url) in pages.items():
        samples = []
        for i in range(WARMUP + runs):
            target = url()
            begin = time.perf_counter()
            response = client.get(target)
            elapsed = (time.perf_counter() - begin) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"GET {target} answered {response.status_code}, not 200")
            if i >= WARMUP:
                samples.append(elapsed)
        results[key] = _p95(samples)
    results["web_inbox_tasks"] = inbox(engine, executive, per_page=1).total
    results["web_settings"] = {"runs": runs, "warmup": WARMUP, "executive": executive,
                               "executive_region": engine.get_user(executive).region,
                               "busiest_region": busiest[0] if busiest else None,
                               "inbox_filtered": FILTERED, "client": "flask test_client"}
    return results


def _login(app, username, password):
    client = app.test_client()
    response = client.post("/ingresar", data={"username": username, "password": password})
    if response.status_code != 302:
        raise RuntimeError(f"could not log in as {username} (status {response.status_code})")
    return client
