"""Where a company is derived to (manual §6, §7, §10): institution, contact and address
by reason and region, from an editable data file."""

import json
from datetime import date
from functools import lru_cache
from pathlib import Path

from engine.domain.regions import REGIONS

DIRECTORY = Path(__file__).parent / "data" / "directorio_derivacion.json"
VALID_MOTIVOS = ("micro", "grande", "rojo", "rojo_oscuro", "corfo", "sercotec")


@lru_cache(maxsize=4)
def load_directory(path: str | None = None) -> dict:
    return json.loads(Path(path or DIRECTORY).read_text(encoding="utf-8"))


def derive(motivo: str, region: str, today: date, directory: dict | None = None) -> dict:
    if motivo not in VALID_MOTIVOS:
        raise ValueError(f"motivo de derivación desconocido '{motivo}'; válidos: {', '.join(VALID_MOTIVOS)}")
    if region not in REGIONS:
        raise ValueError(f"región desconocida '{region}'; válidas: {', '.join(REGIONS)}")
    directory = directory or load_directory()
    entry = directory.get("regiones", {}).get(region, {}).get(motivo) or directory["motivos"][motivo]
    values = {"ciudad": directory["ciudades"][region], "region": REGIONS[region]}
    result = {key: entry[key].format(**values) for key in ("institucion", "contacto", "direccion")}
    return {**result, "fecha": today.isoformat(), "motivo": motivo}
