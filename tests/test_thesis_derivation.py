"""Issue 16 item 7: a rojo company is derived to an institution of its region's network, chosen by
the executive with a default suggested by a decision table (thesis §3.1.3)."""

from __future__ import annotations

import json
from datetime import date

import pytest
from sqlalchemy import func, select

from engine.basics.errors import FormError
from engine.domain.derivation import derive, load_directory, network
from engine.domain.regions import REGIONS
from engine.models.rules import rules_of
from engine.store.schema import Derivation

from . import profiles as P
from .driver import AGENDA, Driver
from .test_model_rules import ROOT


@pytest.fixture
def cpe(deployed, clock):
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    deployed.create_user("eje.bi", "secreto-123", "ejecutivo_cpe", region="CL-BI")
    return Driver(deployed, clock, "cpe_actual")


@pytest.mark.parametrize("company, suggested, institution", [
    ({"tipo_persona": "natural", "ventas_uf": 3000}, "fosis",
     "FOSIS — Dirección Regional, Región Metropolitana de Santiago"),
    ({"ventas_uf": 20000}, "sercotec", "SERCOTEC — Centro de Negocios Santiago"),
    ({"ventas_uf": 60000}, "camara_comercio", "Cámara de Comercio de Santiago"),
    ({"ventas_uf": 60000, "region": "CL-BI"}, "camara_comercio", "Cámara de Comercio de Concepción"),
])
def test_a_rojo_company_waits_for_the_executive_with_a_suggested_institution(cpe, company, suggested, institution):
    """Tesis §3.1.3: "Rojo: [...] se deriva a otros organismos complementarios público y/o privado (FOSIS,
    ONG y/o cámaras de comercio de interés), Centro de Desarrollo empresarial (SERCOTEC) etc. [...] El
    procedimiento de derivación será inmediato, utilizando la red de contactos." The derivation is not fixed
    to FOSIS: the executive of the case chooses, the decision table `institucion_rojo` suggests."""
    case_id = cpe.start(**company)
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.IDEA_ONLY})
    cpe.do(case_id, "Task_AgendarEntrevista", AGENDA)
    case = cpe.do(case_id, "Task_Entrevista", {"respuestas": P.ENTREVISTA_BAJA, "brechas": "Solo una idea."})
    assert case["segmento"] == "rojo" and case["status"] == "active"
    [task] = cpe.engine.ready_tasks(case_id=case_id)
    assert task["bpmn_id"] == "Task_ElegirInstitucion" and task["lane"] == "ejecutivo_cpe"
    assert case["data"]["institucion_sugerida"] == suggested
    case = cpe.choose_institution(case_id)
    assert case["status"] == "completed" and case["resultado"] == "derivada"
    with cpe.engine.Session() as s:
        [derivation] = s.scalars(select(Derivation).where(Derivation.case_id == case_id)).all()
    assert (derivation.motivo, derivation.institucion) == ("rojo", institution)


def test_the_executive_may_choose_another_institution_and_bad_choices_change_nothing(cpe):
    case_id = cpe.start(ventas_uf=20000)
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.IDEA_ONLY})
    cpe.do(case_id, "Task_AgendarEntrevista", AGENDA)
    cpe.do(case_id, "Task_Entrevista", {"respuestas": P.ENTREVISTA_BAJA, "brechas": "Solo una idea."})
    task = cpe.ready(case_id)["Task_ElegirInstitucion"]
    for bad in ({"institucion_derivacion": "prochile"}, {"institucion_derivacion": "ong", "otra": 1}, {}):
        with pytest.raises(FormError):
            cpe.engine.complete(task["id"], bad)
    with cpe.engine.Session() as s:
        assert s.scalar(select(func.count()).select_from(Derivation)) == 0
    case = cpe.do(case_id, "Task_ElegirInstitucion", {"institucion_derivacion": "ong",
                                                      "motivo_derivacion": "Formalizar el emprendimiento."})
    assert case["data"]["derivacion"]["institucion"] == (
        "ONG de apoyo al emprendimiento de Región Metropolitana de Santiago")
    assert case["data"]["motivo_derivacion"] == "Formalizar el emprendimiento."


def test_the_regional_network_is_data():
    """A region replaces or adds institutions of the network in the directory file; no code changes."""
    directory = json.loads(json.dumps(load_directory()))
    directory["regiones"]["CL-BI"] = {"red_complementaria": {
        "ong": {"nombre": "Fundación", "institucion": "Fundación Emprende Biobío", "contacto": "Mesa {ciudad}",
                "direccion": "O'Higgins 100, {ciudad}"},
        "corporacion": {"nombre": "Corporación", "institucion": "Corporación de Desarrollo de {ciudad}",
                        "contacto": "Gerencia", "direccion": "{ciudad}"}}}
    assert set(network("CL-BI", directory)) == {"fosis", "ong", "camara_comercio", "sercotec", "corporacion"}
    assert set(network("CL-RM", directory)) == {"fosis", "ong", "camara_comercio", "sercotec"}
    today = date(2026, 5, 4)
    assert derive("rojo", "CL-BI", today, directory, "ong")["direccion"] == "O'Higgins 100, Concepción"
    assert derive("rojo", "CL-BI", today, directory, "corporacion")["institucion"] == (
        "Corporación de Desarrollo de Concepción")
    assert derive("rojo", "CL-RM", today, directory)["institucion"].startswith("FOSIS")  # no choice: the default


@pytest.mark.parametrize("motivo, region, institucion, message", [
    ("micro", "CL-RM", "fosis", "solo una derivación por segmento rojo"),
    ("rojo", "CL-RM", "corporacion", "no está en la red de Región Metropolitana"),
    ("rojo", "CL-RM", "", "no está en la red"),
])
def test_a_choice_outside_the_network_is_refused(motivo, region, institucion, message):
    with pytest.raises(ValueError, match=message):
        derive(motivo, region, date(2026, 5, 4), institucion=institucion)


def test_every_region_has_every_institution_of_the_network():
    for region in REGIONS:
        for key in network(region):
            assert derive("rojo", region, date(2026, 5, 4), institucion=key)["institucion"]


def test_the_suggestion_rules_show_their_source():
    rules = rules_of("decision", (ROOT / "processes" / "derivacion_rojo.dmn").read_bytes())
    assert [r.valor for r in rules] == ['si tipo_persona = "natural": institucion_sugerida = "fosis"',
                                        'si Ventas anuales (UF) < 25000: institucion_sugerida = "sercotec"',
                                        'en otro caso: institucion_sugerida = "camara_comercio"']
    assert {r.origen for r in rules} == {"supuesto"}
