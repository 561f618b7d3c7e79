"""`cpe demo` loads users, cases at every stage and private portal links, once."""

from __future__ import annotations

from engine.programme import portal
from tooling.demo import DEMO_COMPANIES, DEMO_PORTAL, load_demo

from .conftest import ROOT


def test_demo_loads_once_with_working_portal_links(engine):
    result = load_demo(engine, ROOT / "processes", ROOT / "forms")
    assert result["usuarios"] == 8 and result["casos"] == len(DEMO_COMPANIES)
    assert set(result["portal"]) == set(DEMO_PORTAL)
    for name, path in result["portal"].items():
        company_id = portal.company_for_token(engine, path.rsplit("/", 1)[1])
        assert portal.overview(engine, company_id)["company"]["razon_social"] == name
    segments = {c["segmento"] for c in (engine.case(i) for i in range(1, len(DEMO_COMPANIES) + 1))}
    assert {"amarillo", "verde", "rojo_oscuro"} <= segments
    again = load_demo(engine, ROOT / "processes", ROOT / "forms")
    assert again["casos"] == 0 and again["nota"] == "la demo ya estaba cargada"
