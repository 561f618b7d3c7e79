"""engine/simulate/run.py, shard.py and figures.py: the cohort split by region into shards, each
shard on its own throwaway database (in memory or a temporary file) and in its own process, and
the shards' summaries merged into figures that do not depend on the split."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import text

import engine.simulate.shard as shard_module
from engine.simulate import merged_config, shards, simulate, split
from engine.simulate.figures import figures
from engine.simulate.run import model_files
from engine.simulate.shard import _throwaway_pragmas, run_shard
from engine.store.db import open_database

START = datetime(2026, 3, 2, 9, tzinfo=UTC)


def _dump(result):
    return json.dumps(result, sort_keys=True, ensure_ascii=False)


def _config(months=6):
    cfg = merged_config()
    cfg["horizonte_meses"] = months
    return cfg


def test_shards_hold_every_company_once_and_never_split_a_region():
    cfg = _config()
    whole = shards(300, 4, cfg, START, workers=1)
    assert len(whole) == 1 and [i for i, _, _ in whole[0]] == list(range(300))
    for workers in (2, 3, 5):
        split = shards(300, 4, cfg, START, workers=workers)
        assert len(split) == workers
        items = sorted((item for part in split for item in part), key=lambda item: item[0])
        assert items == whole[0]  # the same companies, arriving at the same moments
        regions = [{company["region"] for _, company, _ in part} for part in split]
        assert all(not (a & b) for n, a in enumerate(regions) for b in regions[n + 1:])
        sizes = [len(part) for part in split]
        largest = max(Counter(company["region"] for _, company, _ in whole[0]).values())
        assert max(sizes) - min(sizes) <= largest  # regions go, largest first, to the lightest shard
    assert shards(300, 5, cfg, START, workers=2) != shards(300, 4, cfg, START, workers=2)


def test_the_result_does_not_depend_on_the_process_split(deployed):
    progress = []
    one = simulate(deployed, "cpe_actual", 24, seed=6, horizon_months=6, workers=1)
    two = simulate(deployed, "cpe_actual", 24, seed=6, horizon_months=6, workers=2, progress=progress.append)
    assert _dump(one) == _dump(two)
    assert sum(one["resultados"].values()) == 24
    # each worker process reports its progress through the parent
    assert {m.split(":")[0] for m in progress} == {"proceso 1", "proceso 2"}
    assert all(", terminado (" in m and "memoria máxima" in m for m in progress)


def test_figures_merge_shards_in_any_order(deployed):
    cfg = _config()
    _, files = model_files(deployed, "cpe_actual")
    end = datetime(2026, 9, 1, tzinfo=UTC)
    parts = [run_shard(files, "cpe_actual", 30, indices, 3, cfg, START, end)
             for indices in split(30, 3, cfg, workers=3)]
    assert len(parts) == 3 and all(p["results"] for p in parts)
    forward, backward = figures(parts, 30, cfg), figures(parts[::-1], 30, cfg)
    assert _dump(forward) == _dump(backward)
    assert sum(forward["resultados"].values()) == 30
    assert forward["duracion_dias"]["casos_terminados"] == sum(len(p["durations"]) for p in parts)
    assert forward["carga_ejecutivos"]["tareas_asignadas"] + forward["carga_ejecutivos"]["tareas_en_pool"] == \
        forward["personas"]["tareas_completadas"]


def test_a_large_shard_runs_on_a_temporary_file_with_the_same_result(deployed, monkeypatch):
    in_memory = simulate(deployed, "cpe_actual", 15, seed=9, horizon_months=6, workers=1)
    urls = []
    real_engine = shard_module.build_engine

    def spy(url, **kwargs):
        urls.append(url)
        return real_engine(url=url, **kwargs)

    monkeypatch.setattr(shard_module, "build_engine", spy)
    monkeypatch.setattr(shard_module, "MEMORY_LIMIT", 10)
    on_disk = simulate(deployed, "cpe_actual", 15, seed=9, horizon_months=6, workers=1)
    assert urls and urls[0].startswith("sqlite:///") and urls[0].endswith("simulacion.sqlite3")
    assert _dump(in_memory) == _dump(on_disk)


def test_throwaway_pragmas_win_over_the_engines(tmp_path):
    db = open_database(f"sqlite:///{tmp_path}/x.sqlite3")  # sets WAL and synchronous=NORMAL on connect
    _throwaway_pragmas(db)
    with db.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "memory"
        assert connection.execute(text("PRAGMA synchronous")).scalar() == 0
    db.dispose()


def test_a_finished_case_keeps_only_what_the_figures_need(deployed):
    """Memory: a company whose case ended drops its generator, data and bookkeeping; the ones
    still in the process keep them."""
    from engine.assembly import build_engine
    from engine.basics.clock import VirtualClock
    from engine.simulate.shard import _Run

    cfg = _config(months=12)
    _, files = model_files(deployed, "cpe_actual")
    end = datetime(2027, 3, 1, tzinfo=UTC)
    clock = VirtualClock(START)
    sim = build_engine(url="sqlite://", clock=clock)
    try:
        sim.upgrade()
        sim.deploy(files, author="simulacion")
        run = _Run(sim, clock, "cpe_actual", shards(20, 2, cfg, START, workers=1)[0], 2, cfg, START, end, None)
        summary = run.execute()
        with sim.db.connect() as connection:
            statuses = dict(connection.execute(text("SELECT id, status FROM cases")).all())
    finally:
        sim.db.dispose()
    companies = list(run.companies.values())
    assert sum(summary["results"].values()) == 20
    finished = [c for c in companies if statuses.get(c.case_id) != "active"]
    assert finished and all(c.done and c.rng is None and c.data is None and c.scheduled is None for c in finished)
    assert all(not c.done and c.rng is not None and c.data for c in companies if c not in finished)


def test_the_bench_measures_the_simulation(deployed):
    from tooling.bench import suite

    figures = suite._simulation(deployed, 12)
    assert set(figures) == {"simulation_s", "simulation_cases_per_s", "simulation_steps"}
    assert figures["simulation_s"] > 0 and figures["simulation_cases_per_s"] > 0
    assert figures["simulation_steps"] >= 12 * 3  # every case at least starts, checks its size and scores
