"""The workshop catalogue (talleres; SPEC §6, manual §4.1): the catalogue file
(`talleres.json` beside this module), checked and brought into the `workshops` table, and the list
of workshops offered. Part of `engine.programme.workshops`, which re-exports these names."""

from __future__ import annotations

import json
from pathlib import Path

from sqlalchemy import select

from engine.store.db import serialize_setup
from engine.store.schema import Workshop

CATALOGUE = Path(__file__).parent / "talleres.json"
STAGES = ("introduccion", "intermedia", "profundizacion")


def load_catalogue(path: str | Path = CATALOGUE) -> list[dict]:
    """The workshops of the catalogue file, checked (ValueError in Spanish if malformed)."""
    with open(path, encoding="utf-8") as handle:
        items = json.load(handle).get("talleres")
    if not isinstance(items, list) or not items:
        raise ValueError(f"{path}: falta la lista «talleres»")
    keys = set()
    for item in items:
        key = item.get("key") if isinstance(item, dict) else None
        if not isinstance(key, str) or not key or len(key) > 60 or key in keys:
            raise ValueError(f"{path}: cada taller necesita una clave «key» única (máx. 60 caracteres)")
        if not isinstance(item.get("name"), str) or not item["name"].strip():
            raise ValueError(f"{path}: el taller «{key}» no tiene nombre")
        if item.get("stage") is not None and item["stage"] not in STAGES:
            raise ValueError(f"{path}: el taller «{key}» tiene una etapa desconocida «{item['stage']}»")
        keys.add(key)
    return items


def seed_catalogue(engine, path: str | Path = CATALOGUE, items: list[dict] | None = None) -> dict:
    """Bring the `workshops` table in step with the catalogue file (idempotent), or with `items`
    already read (as `catalogue` gives them: the simulation copies a database's catalogue).

    New keys are added, changed names, descriptions and stages are updated, and a workshop
    no longer in the file (or marked `"active": false`) stops being offered; its past
    sessions and attendance are kept.
    """
    items = load_catalogue(path) if items is None else items
    created = updated = 0
    with engine.transaction() as s:
        serialize_setup(s)  # several machines may load it at once as they start (`cpe db upgrade`)
        existing = {w.key: w for w in s.scalars(select(Workshop))}
        for position, item in enumerate(items, 1):
            fields = {"name": item["name"].strip(), "description": (item.get("description") or "").strip(),
                      "stage": item.get("stage"), "position": position, "active": item.get("active", True) is True}
            workshop = existing.pop(item["key"], None)
            if workshop is None:
                s.add(Workshop(key=item["key"], **fields))
                created += 1
            elif any(getattr(workshop, name) != value for name, value in fields.items()):
                for name, value in fields.items():
                    setattr(workshop, name, value)
                updated += 1
        for workshop in existing.values():
            if workshop.active:
                workshop.active = False
                updated += 1
    return {"created": created, "updated": updated, "total": len(items)}


def catalogue(engine, active_only: bool = True) -> list[dict]:
    with engine.Session() as s:
        query = select(Workshop).order_by(Workshop.position, Workshop.id)
        if active_only:
            query = query.where(Workshop.active.is_(True))
        return [{"key": w.key, "name": w.name, "description": w.description, "stage": w.stage, "active": w.active}
                for w in s.scalars(query)]
