"""A service task's automatic retries, read from its properties in the diagram: `reintentos` (how
many, 0–10) and `espera_reintento` (ISO 8601 duration between them, default PT5M).

Deploy refuses bad values (engine/models/validation.py); engine/cases/recovery.py schedules the retries.
"""

from __future__ import annotations

from datetime import timedelta

from engine.basics import clock as clockmod

MAX_RETRIES = 10
DEFAULT_WAIT = "PT5M"


def retry_policy(properties: dict) -> tuple[int, timedelta] | None:
    """(retries, wait) from a task's properties, or None when it asks for no automatic retry.
    Raises ValueError with a Spanish message for values deploy must refuse."""
    raw = properties.get("reintentos")
    if raw in (None, ""):
        return None
    try:
        retries = int(str(raw).strip())
    except ValueError:
        raise ValueError(f"'reintentos' debe ser un número entero entre 0 y {MAX_RETRIES}") from None
    if not 0 <= retries <= MAX_RETRIES:
        raise ValueError(f"'reintentos' debe ser un número entero entre 0 y {MAX_RETRIES}")
    wait = clockmod.duration_property(properties, "espera_reintento", DEFAULT_WAIT, timedelta(seconds=1),
                                      timedelta(days=7), "PT5M", "1 segundo y 7 días (sin meses ni años)")
    return (retries, wait) if retries else None
