"""Simulation behind `cpe simulate`: a synthetic cohort of companies run through a deployed
process version by simulated people, on the real engine (same diagrams, operators and decision
tables), in a throwaway database and on a virtual clock. The configured database is only read.

- The cohort is drawn with `random.Random(seed)` from configurable distributions (`DEFAULTS`,
  config.py; cohort.py); every company has a latent `potencial` in [0, 1] that drives its answers.
- `answer(schema, profile, rng, now)` (people.py) fills any form from its JSON Schema, so a
  redesigned diagram with new forms simulates without Python changes.
- Task durations, drop-out and the learning effect of each task are configurable; a task the
  configuration does not time takes its durations from the process's case history when the
  configured database has enough completed tasks of it (history.py); timers,
  escalations, follow-ups and desertion happen in simulated time (`fire_due_timers`).
- The cohort is split by region into shards (cohort.py), each drawn and run in its own process on
  its own throwaway database (shard.py); each shard reduces its cases to a summary and the
  summaries are merged into the figures (figures.py). The parent process never holds the
  companies, and a worker holds only its own.
- Workshops in the simulation (workshop_attendance.py) go through the engine's own workshop
  functions; compare_designs.py runs two designs on one cohort for the web page «Simulación»
  (a background process, `python -m engine.simulate.compare_designs`).

Same seed and configuration → identical result, whatever the number of worker processes; every
random draw of a case comes from its own generator, so a case's answers do not depend on the
order in which other cases advance.
"""

from engine.simulate.cohort import cohort, shard_items, shards, split
from engine.simulate.config import DEFAULTS, RESULTS, merged_config
from engine.simulate.people import answer
from engine.simulate.run import model_files, model_lanes, simulate

__all__ = ["DEFAULTS", "RESULTS", "answer", "cohort", "merged_config", "model_files", "model_lanes", "shard_items",
           "shards", "simulate", "split"]
