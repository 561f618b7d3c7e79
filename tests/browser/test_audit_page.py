"""The analysts' access log in a real browser: the nav link, the rows, the filters."""

from __future__ import annotations

from .. import profiles as P
from .conftest import login


def test_the_audit_page(browser, live_server, deployed, shot):
    deployed.create_user("analista", "secreto-123", "analista", full_name="Ana Analista")
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM", full_name="Eje RM")
    case_id = deployed.start("cpe_actual", P.empresa(region="CL-RM"), actor="test")
    page = browser.new_page()
    login(page, live_server, "eje.rm")
    page.goto(f"{live_server}/casos/{case_id}")
    page.context.clear_cookies()
    login(page, live_server, "analista")
    page.goto(f"{live_server}/casos/{case_id}")
    page.click("nav.mainnav >> text=Auditoría")
    page.wait_for_url("**/auditoria/")
    assert page.locator("table.list tbody tr").count() == 2
    page.select_option("select[name=actor]", "eje.rm")
    page.click("form.filters button")
    page.wait_for_url("**actor=eje.rm**")
    rows = page.locator("table.list tbody tr")
    assert rows.count() == 1 and "eje.rm" in rows.first.inner_text()
    shot(page, "auditoria")
