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


def network(region: str, directory: dict | None = None) -> dict[str, dict]:
    """The complementary institutions a rojo company may be derived to in `region` (tesis §3.1.3:
    "FOSIS, ONG y/o cámaras de comercio de interés, … SERCOTEC", "utilizando la red de contactos"):
    the programme's network with the region's own entries replacing or adding to it."""
    directory = directory or load_directory()
    return {**directory.get("red_complementaria", {}),
            **directory.get("regiones", {}).get(region, {}).get("red_complementaria", {})}


def derive(motivo: str, region: str, today: date, directory: dict | None = None,
           institucion: str | None = None) -> dict:
    """Where a company goes for `motivo` in `region`: the directory's entry, or for a rojo company the
    institution of the regional network the executive chose (`institucion`, a key of `network`)."""
    if motivo not in VALID_MOTIVOS:
        raise ValueError(f"motivo de derivación desconocido '{motivo}'; válidos: {', '.join(VALID_MOTIVOS)}")
    if region not in REGIONS:
        raise ValueError(f"región desconocida '{region}'; válidas: {', '.join(REGIONS)}")
    directory = directory or load_directory()
    if institucion is not None:
        if motivo != "rojo":
            raise ValueError(f"solo una derivación por segmento rojo elige la institución (motivo '{motivo}')")
        choices = network(region, directory)
        if institucion not in choices:
            raise ValueError(f"la institución '{institucion}' no está en la red de {REGIONS[region]}; "
                             f"válidas: {', '.join(choices)}")
        entry = choices[institucion]
    else:
        entry = directory.get("regiones", {}).get(region, {}).get(motivo) or directory["motivos"][motivo]
    values = {"ciudad": directory["ciudades"][region], "region": REGIONS[region]}
    result = {key: entry[key].format(**values) for key in ("institucion", "contacto", "direccion")}
    return {**result, "fecha": today.isoformat(), "motivo": motivo}
