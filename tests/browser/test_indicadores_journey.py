"""The indicators dashboard and the process heatmap in a real browser (Chart.js, bpmn-js overlays)."""

from __future__ import annotations

from engine.programme.indicators import indicators, parse_filters

from ..driver import Driver
from ..test_indicators import mix  # noqa: F401 - the known mix of cases, driven through the engine
from .conftest import login

WIDE = {"width": 1360, "height": 900}


def _more_cases(engine, clock):
    """A few more companies over the following months and regions, so the charts have a shape."""
    from .. import profiles as P

    d = Driver(engine, clock, "cpe_actual")
    regions = ("CL-RM", "CL-VS", "CL-BI", "CL-RM", "CL-ML", "CL-RM")
    for region in set(regions):  # an executive per region takes its companies (else the regional head assigns)
        if engine.get_user(f"eje.{region.lower()}") is None:
            engine.create_user(f"eje.{region.lower()}", "secreto-123", "ejecutivo_cpe", region=region)
    for i in range(12):
        number = str(77_000_000 + i * 1111)
        from stdnum.cl import rut

        case_id = d.start(rut=rut.format(number + rut.calc_check_digit(number)), region=regions[i % 6],
                          rubro=("vitivinicola", "alimentos_procesados", "manufacturas")[i % 3],
                          ventas_uf=1500 if i % 5 == 0 else 20000)
        if i % 5:
            d.through_interview(case_id, P.IDEA_ONLY if i % 3 == 0 else P.VINA_AMARILLO,
                                P.ENTREVISTA_BAJA if i % 3 == 0 else P.ENTREVISTA_MEDIA)
        if i % 4 == 3:
            clock.advance(days=20)


def test_dashboard_and_heatmap_in_the_browser(browser, live_server, mix, clock, shot):  # noqa: F811
    engine, _ = mix
    engine.create_user("analista", "secreto-123", "analista", full_name="Ana Analista")
    _more_cases(engine, clock)
    page = browser.new_context(viewport=WIDE, device_scale_factor=1).new_page()
    errors = []
    page.on("console", lambda msg: errors.append(msg.text) if msg.type == "error" else None)
    login(page, live_server, "analista")
    page.click("nav.mainnav >> text=Indicadores")
    page.wait_for_url("**/indicadores/")
    page.wait_for_selector("body[data-charts-ready='1']")
    # entered = classified (SPEC §6): the mix's 6 and the 9 interviewed here (the 3 micro are not entries)
    assert page.locator(".ind-number[data-key='ingresadas']").inner_text() == "15"
    assert page.locator(".ind-number[data-key='exportadoras']").inner_text() == "2"
    assert page.locator(".ind-chart-ready").count() == 5
    shot(page, "indicadores-dashboard")

    page.select_option("select[name=region]", "CL-BI")
    page.click(".ind-filters button[type=submit]")
    page.wait_for_selector("body[data-charts-ready='1']")
    assert "region=CL-BI" in page.url
    assert page.locator(".ind-number[data-key='ingresadas']").inner_text() == str(
        indicators(engine, parse_filters(region="CL-BI"))["ingresadas"])
    page.fill("input[name=desde]", "2020-01-01")
    page.fill("input[name=hasta]", "2020-12-31")
    page.click(".ind-filters button[type=submit]")
    page.wait_for_selector("body[data-charts-ready='1']")
    assert page.locator("td[data-key='eficacia']").inner_text().startswith("—")
    assert "no ingresaron empresas" in page.locator("td[data-key='eficacia']").inner_text()
    shot(page, "indicadores-dashboard-vacio")

    page.click("text=Mapa de calor del proceso")
    page.wait_for_selector("#heatmap[data-ready='1']")
    badges = page.locator(".heat-badge")
    assert badges.count() >= 10
    assert page.locator(".heat-badge[data-element='Task_TPE_Bienes']").inner_text().startswith("15 casos")
    shot(page, "indicadores-heatmap")
    page.select_option("select[name=color]", "duracion")
    page.click(".ind-filters button[type=submit]")
    page.wait_for_selector("#heatmap[data-ready='1']")
    shot(page, "indicadores-heatmap-duracion")
    assert errors == []
