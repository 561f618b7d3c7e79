"""Engine verbs on the small test model: bad input changes nothing, a task completes once."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy import func, select

from engine.basics.errors import Conflict, Forbidden, FormError, NotFound
from engine.models.validation import collect_files
from engine.store.schema import Case, CaseEvent, Company

MODEL = Path(__file__).parent / "models" / "diagnostico"
REGISTRO = {"rut": "76.086.428-5", "razon_social": "Conservas del Sur SpA", "region": "CL-RM", "ventas_uf": 9000}


@pytest.fixture
def model(engine):
    engine.deploy(collect_files([MODEL]))
    return engine


def _count(engine, table):
    with engine.Session() as s:
        return s.scalar(select(func.count()).select_from(table))


START_ERRORS = [
    ({**REGISTRO, "rut": "76.086.428-4"}, "rut", "RUT inválido"),
    ({**REGISTRO, "rut": "hola"}, "rut", "RUT inválido"),
    ({**REGISTRO, "ventas_uf": -1}, "ventas_uf", "mayor o igual a 0"),
    ({**REGISTRO, "ventas_uf": 10_000_001}, "ventas_uf", "menor o igual a 10000000"),
    ({**REGISTRO, "ventas_uf": "mucho"}, "ventas_uf", "Debe ser un número"),
    ({**REGISTRO, "region": "CL-XX"}, "region", "Seleccione una de las opciones"),
    ({k: v for k, v in REGISTRO.items() if k != "razon_social"}, "razon_social", "obligatorio"),
    ({**REGISTRO, "extra": 1}, "", "campos no permitidos"),
]


@pytest.mark.parametrize("data,field,message", START_ERRORS)
def test_invalid_start_data_is_refused_and_changes_nothing(model, data, field, message):
    with pytest.raises(FormError) as info:
        model.start("diagnostico_rapido", data)
    assert field in info.value.errors and message in info.value.errors[field], info.value.errors
    assert _count(model, Case) == 0 and _count(model, Company) == 0


def test_unknown_process_and_version(model):
    with pytest.raises(NotFound, match="no existe el proceso 'nada'"):
        model.start("nada", {})
    with pytest.raises(NotFound, match="versión 7"):
        model.start("diagnostico_rapido", REGISTRO, version=7)


def test_one_company_per_rut(model):
    model.start("diagnostico_rapido", REGISTRO)
    model.start("diagnostico_rapido", {**REGISTRO, "rut": "76086428-5", "razon_social": "Nuevo nombre"})
    with model.Session() as s:
        [company] = s.scalars(select(Company)).all()
    assert company.razon_social == "Nuevo nombre"


def test_invalid_completion_keeps_the_task_ready(model):
    case_id = model.start("diagnostico_rapido", REGISTRO)
    [task] = model.ready_tasks(case_id=case_id)
    with pytest.raises(FormError) as info:
        model.complete(task["id"], {"respuestas": {"web": "quizas"}})
    assert "respuestas.web" in info.value.errors and "respuestas.idiomas" in info.value.errors
    assert [t["id"] for t in model.ready_tasks(case_id=case_id)] == [task["id"]]
    assert model.case(case_id)["history"][-1]["kind"] != "task_completed"


def test_second_completion_is_refused(model):
    case_id = model.start("diagnostico_rapido", REGISTRO)
    [task] = model.ready_tasks(case_id=case_id)
    model.complete(task["id"], {"respuestas": {"web": "si", "idiomas": "ingles"}})
    with pytest.raises(Conflict, match="ya no está disponible"):
        model.complete(task["id"], {"respuestas": {"web": "no", "idiomas": "ninguno"}})
    assert model.case(case_id)["data"]["nivel"] == "alto"


def test_concurrent_completions_exactly_one_wins(model):
    case_id = model.start("diagnostico_rapido", REGISTRO)
    [task] = model.ready_tasks(case_id=case_id)
    barrier = threading.Barrier(4)
    outcomes = []

    def attempt(answer):
        barrier.wait()
        try:
            model.complete(task["id"], {"respuestas": {"web": answer, "idiomas": "ingles"}})
            outcomes.append("ok")
        except Conflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=attempt, args=(a,)) for a in ("si", "no", "si", "no")]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(outcomes) == ["conflict"] * 3 + ["ok"]
    with model.Session() as s:
        completed = s.scalar(select(func.count()).select_from(CaseEvent)
                             .where(CaseEvent.case_id == case_id, CaseEvent.kind == "task_completed"))
    assert completed == 1


def test_permissions_by_role_and_region(model):
    model.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    model.create_user("eje.bio", "secreto-123", "ejecutivo_cpe", region="CL-BI")
    model.create_user("jefe.rm", "secreto-123", "jefe_regional", region="CL-RM")
    case_id = model.start("diagnostico_rapido", REGISTRO)
    [task] = model.ready_tasks(case_id=case_id)
    assert [t["id"] for t in model.ready_tasks(user="eje.rm")] == [task["id"]]  # pyme step, on its behalf
    assert model.ready_tasks(user="eje.bio") == []
    assert model.ready_tasks(user="jefe.rm") == []
    with pytest.raises(Forbidden):
        model.complete(task["id"], {"respuestas": {"web": "si", "idiomas": "ingles"}}, user="eje.bio")
    model.complete(task["id"], {"respuestas": {"web": "si", "idiomas": "ingles"}}, user="eje.rm")


def test_user_validation(engine):
    with pytest.raises(ValueError, match="rol desconocido"):
        engine.create_user("x1", "secreto-123", "gerente")
    with pytest.raises(ValueError, match="requiere una región"):
        engine.create_user("x2", "secreto-123", "ejecutivo_cpe")
    with pytest.raises(ValueError, match="al menos 8"):
        engine.create_user("x3", "corta", "analista")
    engine.create_user("x4", "secreto-123", "analista")
    with pytest.raises(Conflict, match="ya existe"):
        engine.create_user("x4", "secreto-123", "analista")
    assert engine.authenticate("x4", "secreto-123").role == "analista"
    assert engine.authenticate("x4", "otra-clave") is None


def test_claim_and_release(model):
    model.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    model.create_user("eje2.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    model.create_user("eje.bio", "secreto-123", "ejecutivo_cpe", region="CL-BI")
    case_id = model.start("diagnostico_rapido", REGISTRO)
    [task] = model.ready_tasks(case_id=case_id)
    with pytest.raises(Forbidden):
        model.claim(task["id"], "eje.bio")
    model.claim(task["id"], "eje.rm")
    model.claim(task["id"], "eje.rm")  # idempotent for the same person
    with pytest.raises(Conflict, match="ya fue tomada por eje.rm"):
        model.claim(task["id"], "eje2.rm")
    assert model.ready_tasks(user="eje2.rm") == []
    with pytest.raises(Forbidden):
        model.complete(task["id"], {"respuestas": {"web": "si", "idiomas": "ingles"}}, user="eje2.rm")
    with pytest.raises(Forbidden, match="Solo quien tiene asignada"):
        model.release(task["id"], "eje2.rm")
    model.release(task["id"], "eje.rm")
    assert [t["id"] for t in model.ready_tasks(user="eje2.rm")] == [task["id"]]
    kinds = [e["kind"] for e in model.case(case_id)["history"]]
    assert kinds.count("task_claimed") == 1 and kinds.count("task_released") == 1
