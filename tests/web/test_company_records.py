"""The registry pages (/registro/), their exports and `cpe export registro`: region scoping, search,
XLSX and CSV files, and the audit rows every record shown and every export writes."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook
from sqlalchemy import select

from cli.context import CliContext
from cli.main import cpe
from engine.models.validation import collect_files
from engine.programme.audit import entries
from engine.store.schema import Case

from .. import profiles as P
from ..driver import Driver
from .conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[2]
RUT_RM, RUT_BI = "77.777.777-7", "76.543.210-3"


@pytest.fixture
def registry(app, engine, clock):
    """The shipped models and two companies built through them: a derived one in RM, a verde in Biobío."""
    engine.deploy(collect_files([ROOT / "forms", ROOT / "processes"]), author="test", message="inicial")
    engine.create_user("pyme.user", PASSWORD, "pyme", region="CL-RM")
    engine.create_user("jefe.rm", PASSWORD, "jefe_regional", region="CL-RM")
    driver = Driver(engine, clock, "cpe_actual")
    derived = driver.start(rut=RUT_RM, razon_social="Idea Nueva Ltda", ventas_uf=3000, rubro="agroindustria")
    driver.through_interview(derived, P.IDEA_ONLY, P.ENTREVISTA_BAJA)
    verde = driver.start(rut=RUT_BI, razon_social="Conservas del Biobío SpA", ventas_uf=60000,
                         rubro="alimentos_procesados", region="CL-BI")
    driver.through_interview(verde, P.ALIMENTOS_VERDE, P.ENTREVISTA_ALTA)
    with engine.Session() as s:
        ids = dict(s.execute(select(Case.id, Case.company_id).where(Case.id.in_([derived, verde]))).all())
    return {"rm": ids[derived], "bi": ids[verde], "case_rm": derived}


def _audit(engine, **where):
    with engine.Session() as s:
        return entries(s, **where)


def test_executive_sees_only_their_region(client, auth, registry, engine):
    auth.login("eje.rm")
    page = client.get("/registro/")
    html = page.get_data(as_text=True)
    assert page.status_code == 200 and "Idea Nueva Ltda" in html and "Conservas del Biobío" not in html
    assert 'href="/registro/"' in html  # the nav link
    assert client.get(f"/registro/{registry['bi']}").status_code == 404
    assert client.get("/registro/?region=CL-BI").get_data(as_text=True).count("Conservas del Biobío") == 0
    detail = client.get(f"/registro/{registry['rm']}")
    text = detail.get_data(as_text=True)
    # derived (3 000 UF: to the institution the table suggests, SERCOTEC)
    assert detail.status_code == 200 and RUT_RM in text and "Derivada" in text and "SERCOTEC" in text
    assert f'href="/casos/{registry["case_rm"]}"' in text
    assert "Accesos recientes" not in text  # only analysts see who looked
    [row] = _audit(engine, subject="company", subject_id=registry["rm"])
    assert (row["actor"], row["action"]) == ("eje.rm", "view")
    assert _audit(engine, subject="company", subject_id=registry["bi"]) == []  # refused: nothing shown, no row


def test_analyst_sees_every_region_and_the_recent_accesses(client, auth, registry, engine):
    auth.login("eje.rm")
    client.get(f"/registro/{registry['rm']}")
    client.post("/salir")
    auth.login("analista")
    html = client.get("/registro/").get_data(as_text=True)
    assert "Idea Nueva Ltda" in html and "Conservas del Biobío SpA" in html and "2 empresas" in html
    only_bi = client.get("/registro/?region=CL-BI").get_data(as_text=True)
    assert "Conservas del Biobío SpA" in only_bi and "Idea Nueva Ltda" not in only_bi
    detail = client.get(f"/registro/{registry['rm']}").get_data(as_text=True)
    assert "Accesos recientes" in detail and "eje.rm" in detail and "analista" in detail


@pytest.mark.parametrize("query,found,missing", [
    ("q=idea", "Idea Nueva Ltda", "Conservas del Biobío"),
    ("q=76.543", "Conservas del Biobío", "Idea Nueva Ltda"),
    ("segmento=verde", "Conservas del Biobío", "Idea Nueva Ltda"),
    ("estado=egresada", "Idea Nueva Ltda", "Conservas del Biobío"),
    ("estado=en_programa", "Conservas del Biobío", "Idea Nueva Ltda"),
    ("rubro=agroindustria", "Idea Nueva Ltda", "Conservas del Biobío"),
])
def test_search_and_filters(client, auth, registry, query, found, missing):
    auth.login("analista")
    html = client.get(f"/registro/?{query}").get_data(as_text=True)
    assert found in html and missing not in html


def test_bad_filters_get_a_message(client, auth, registry):
    auth.login("analista")
    page = client.get("/registro/?region=XX&estado=perdida")
    html = page.get_data(as_text=True)
    assert page.status_code == 400 and "La región «XX» no existe" in html and "El estado «perdida» no existe" in html
    assert client.get("/registro/exportar.xlsx?segmento=azul").status_code == 400
    assert client.get("/registro/exportar.pdf").status_code == 404
    assert client.get("/registro/999999").status_code == 404


@pytest.mark.parametrize("path", ["/registro/", "/registro/{rm}", "/registro/exportar.xlsx", "/registro/exportar.csv"])
def test_company_users_are_refused(client, auth, registry, engine, path):
    """A company (role pyme) never holds a staff session: it is sent to the login, nothing is shown."""
    auth.login("pyme.user")
    response = client.get(path.format(rm=registry["rm"]))
    assert response.status_code == 302 and "/ingresar" in response.headers["Location"]
    assert _audit(engine, subject="registry") == [] and _audit(engine, subject="company") == []


def test_anonymous_is_sent_to_login(client, registry):
    for path in ("/registro/", f"/registro/{registry['rm']}", "/registro/exportar.csv"):
        response = client.get(path)
        assert response.status_code == 302 and "/ingresar" in response.headers["Location"]


def test_xlsx_export_holds_the_filtered_companies(client, auth, registry, engine):
    auth.login("analista")
    response = client.get("/registro/exportar.xlsx")
    assert response.status_code == 200 and response.mimetype.endswith("spreadsheetml.sheet")
    assert 'filename="registro-cpe-todas-' in response.headers["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(response.data)).active
    rows = list(sheet.iter_rows(values_only=True))
    assert rows[0][:3] == ("RUT", "Razón social", "Región") and "Motivo de egreso" in rows[0]
    by_rut = {r[0]: r for r in rows[1:]}
    assert set(by_rut) == {RUT_RM, RUT_BI}
    assert by_rut[RUT_RM][-1] == "Derivada" and by_rut[RUT_RM][8] is not None  # exit date
    assert by_rut[RUT_BI][4] == "Verde" and by_rut[RUT_BI][-1] is None and by_rut[RUT_BI][6] is not None
    filtered = load_workbook(io.BytesIO(client.get("/registro/exportar.xlsx?estado=en_programa").data)).active
    assert [r[0] for r in filtered.iter_rows(min_row=2, values_only=True)] == [RUT_BI]
    [last, first] = _audit(engine, subject="registry")
    assert (first["actor"], first["action"], first["detail"]["filas"]) == ("analista", "export", 2)
    assert last["detail"]["filtros"] == {"estado": "en_programa"} and last["detail"]["filas"] == 1


def test_regional_csv_export(client, auth, registry, engine):
    auth.login("jefe.rm")
    response = client.get("/registro/exportar.csv?region=CL-BI")  # the region filter cannot widen the scope
    assert response.status_code == 200 and response.mimetype == "text/csv"
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "RUT" and [r[0] for r in rows[1:]] == [RUT_RM]
    assert rows[1][9] == "Derivada"
    [row] = _audit(engine, subject="registry")
    assert (row["actor"], row["action"]) == ("jefe.rm", "export") and row["detail"]["archivo"].endswith(".csv")


# -- `cpe export registro` ---------------------------------------------------------------------

@pytest.fixture
def run(app):
    runner = CliRunner()

    def invoke(*args):
        return runner.invoke(cpe, [str(a) for a in args], obj=CliContext.for_app(app))
    return invoke


def test_cli_export(run, registry, engine, tmp_path):
    out = tmp_path / "registro.xlsx"
    result = run("export", "registro", "--output", out, "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"archivo": str(out), "formato": "xlsx", "filas": 2, "region": None}
    assert {r[0] for r in load_workbook(out).active.iter_rows(min_row=2, values_only=True)} == {RUT_RM, RUT_BI}
    csv_out = tmp_path / "rm.csv"
    assert run("export", "registro", "--output", csv_out, "--region", "CL-RM").exit_code == 0
    rows = list(csv.reader(io.StringIO(csv_out.read_text(encoding="utf-8-sig"))))
    assert [r[0] for r in rows[1:]] == [RUT_RM]
    audit = _audit(engine, subject="registry")
    assert len(audit) == 2 and all(a["actor"].startswith("cli") and a["action"] == "export" for a in audit)
    assert audit[0]["detail"]["region"] == "CL-RM"


@pytest.mark.parametrize("args,message", [
    (("--output", "registro.pdf"), "debe terminar en .xlsx o .csv"),
    (("--output", "registro.xlsx", "--region", "RM"), "región desconocida «RM»"),
])
def test_cli_export_errors(run, registry, engine, tmp_path, args, message):
    result = run("export", "registro", *[tmp_path / a if a.startswith("registro") else a for a in args])
    assert result.exit_code != 0 and message in result.stderr
    assert _audit(engine, subject="registry") == []
