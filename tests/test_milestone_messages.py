"""Issue 16 item 11 (the company's side): a company gets a message at each milestone of its case —
the interview date, its classification, and a derivation with the institution's contact — written by
the diagrams' own `notificar` service tasks (destinatario "pyme"), not by special cases in Python.

Thesis §5.2 (recommendations): "que exista un sistema en que cada pyme que participe del programa pueda
acceder y encontrar ahí su historial para saber cómo está posicionada, qué más necesita y cuáles son los
siguientes pasos a seguir". Manual §3.2: the executive interviews the company "de manera de determinar
cuáles son las brechas que ésta presenta frente al proceso exportador, permitiendo con esto, tener una
primera aproximación a una ruta de trabajo conjunta, o bien, si corresponde, derivarla". Manual §6: "las
empresas que sean derivadas a otra institución, serán enviadas a un contacto y dirección especifica".

Each test drives the real shipped diagrams (cpe_actual and cpe_propuesto) through the Engine and reads
the messages the company would receive from the outbox (to its contact email), as the portal shows them.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from engine.domain.derivation import derive
from engine.store.schema import Derivation, OutboxMessage

from . import profiles as P
from .driver import AGENDA, Driver

PROCESSES = ("cpe_actual", "cpe_propuesto")


@pytest.fixture(params=PROCESSES)
def cpe(request, deployed, clock):
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM", email="eje@prochile.cl")
    deployed.create_user("pro.rm", "secreto-123", "ejecutivo_prochile", region="CL-RM")
    deployed.create_user("jefe.rm", "secreto-123", "jefe_regional", region="CL-RM", email="jefe@prochile.cl")
    return Driver(deployed, clock, request.param)


def _to_company(engine, case_id):
    """The messages of the case addressed to the company, oldest first, as (asunto, mensaje, address)."""
    with engine.Session() as s:
        return [(m.asunto, m.mensaje, m.to_address) for m in s.scalars(
            select(OutboxMessage).where(OutboxMessage.case_id == case_id, OutboxMessage.destinatario == "pyme")
            .order_by(OutboxMessage.id))]


def test_the_company_is_told_the_interview_date_time_and_place(cpe):
    """The executive schedules the interview (forms/agendar_entrevista.json): the company gets the
    date (dd-mm-aaaa), the time and where it takes place, before the interview task is offered."""
    case_id = cpe.start()
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    assert _to_company(cpe.engine, case_id) == []  # nothing before the milestone
    cpe.do(case_id, "Task_AgendarEntrevista", {**AGENDA, "lugar_entrevista": "oficina_cpe",
                                                "observaciones": "Llamar antes a la gerente."})
    [(asunto, mensaje, address)] = _to_company(cpe.engine, case_id)
    assert address == "contacto@empresa.cl"
    assert asunto == "Entrevista de diagnóstico agendada: 05-03-2026 a las 10:30"
    assert mensaje.startswith("Estimada empresa Viña Los Aromos SpA: ")
    assert "para el 05-03-2026 a las 10:30 horas, en la oficina del Centro PYME Exporta." in mensaje
    assert "brechas" in mensaje
    assert "Llamar antes" not in mensaje  # the executive's internal note stays internal
    assert "Task_Entrevista" in cpe.ready(case_id)


@pytest.mark.parametrize("lugar, words", [("empresa", "en su empresa"), ("remota", "por videollamada")])
def test_the_place_is_said_in_words(cpe, lugar, words):
    case_id = cpe.start()
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    cpe.do(case_id, "Task_AgendarEntrevista", {**AGENDA, "lugar_entrevista": lugar})
    [(_, mensaje, _)] = _to_company(cpe.engine, case_id)
    assert f"10:30 horas, {words}." in mensaje


NEXT_STEPS = {
    "verde": "un ejecutivo(a) de ProChile la acompañará",
    "amarillo": "la inscribirá en talleres de capacitación",
    "rojo_oscuro": "Su empresa ya exporta",
}
CLASSIFIED = [
    ("amarillo", {"ventas_uf": 20000}, P.VINA_AMARILLO, P.ENTREVISTA_MEDIA, "amarillo"),
    ("verde", {"ventas_uf": 60000, "rubro": "alimentos_procesados"}, P.ALIMENTOS_VERDE, P.ENTREVISTA_ALTA, "verde"),
    ("rojo_oscuro", {"ventas_uf": 80000}, P.EXPORTADORA_REGULAR, P.ENTREVISTA_ALTA, "rojo oscuro"),
]


@pytest.mark.parametrize("segment, company, tpe, interview, label", CLASSIFIED, ids=[c[0] for c in CLASSIFIED])
def test_the_company_is_told_its_segment_score_and_next_steps(cpe, segment, company, tpe, interview, label):
    """After the classification (DMN segmento_cpe) the company learns where it stands — segment and final
    score — and what comes next on its segment's route (thesis §5.2: "cómo está posicionada")."""
    case_id = cpe.start(**company)
    case = cpe.through_interview(case_id, tpe, interview)
    assert case["segmento"] == segment
    messages = _to_company(cpe.engine, case_id)
    [classification] = [m for m in messages if m[0].startswith("Resultado de su evaluación")]
    asunto, mensaje, address = classification
    assert asunto == f"Resultado de su evaluación en el Centro PYME Exporta: segmento {label}"
    assert address == "contacto@empresa.cl"
    assert f"puntaje final de {case['data']['puntaje_final']} de 100 y quedó en el segmento {label}." in mensaje
    assert NEXT_STEPS[segment] in mensaje
    assert "brechas detectadas en la entrevista" in mensaje  # where to read them: the portal
    # the order of the milestones: the interview date first, then the classification
    assert messages.index(classification) > 0 and messages[0][0].startswith("Entrevista de diagnóstico agendada")


def test_a_rojo_company_is_told_its_route_on_each_design(cpe):
    """Rojo: the current process derives it at once (thesis §3.1.3), the proposal first agrees a
    strengthening plan (thesis §3.4.2): each diagram says its own next step."""
    case_id = cpe.start(tipo_persona="natural", ventas_uf=3000, razon_social="Juana Soto")
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.IDEA_ONLY})
    cpe.do(case_id, "Task_AgendarEntrevista", AGENDA)
    case = cpe.do(case_id, "Task_Entrevista", {"respuestas": P.ENTREVISTA_BAJA, "brechas": "Solo una idea."})
    assert case["segmento"] == "rojo"
    [(asunto, mensaje, _)] = [m for m in _to_company(cpe.engine, case_id)
                              if m[0].startswith("Resultado de su evaluación")]
    assert asunto.endswith("segmento rojo") and mensaje.startswith("Estimada empresa Juana Soto: ")
    if cpe.process_id == "cpe_actual":
        assert "la derivará a una de ellas y le enviaremos su contacto" in mensaje
    else:
        assert "plan de fortalecimiento con SERCOTEC o CORFO" in mensaje


def _derivation(engine, case_id):
    with engine.Session() as s:
        [row] = s.scalars(select(Derivation).where(Derivation.case_id == case_id)).all()
        return {"institucion": row.institucion, "contacto": row.contacto, "direccion": row.direccion,
                "motivo": row.motivo}


def _assert_derivation_message(engine, case_id, reason):
    derivation = _derivation(engine, case_id)
    [(asunto, mensaje, address)] = [m for m in _to_company(engine, case_id)
                                    if m[0].startswith("Su empresa fue derivada")]
    assert asunto == f"Su empresa fue derivada a {derivation['institucion']}"
    assert address == "contacto@empresa.cl"
    assert f"{reason}, el Centro PYME Exporta derivó a su empresa a {derivation['institucion']}," in mensaje
    assert f"Contacto: {derivation['contacto']}. Dirección: {derivation['direccion']}." in mensaje
    return derivation


@pytest.mark.parametrize("ventas, motivo, reason", [
    (1500, "micro", "por el tamaño de su empresa (ventas de microempresa)"),
    (150000, "grande", "por el tamaño de su empresa (ventas de gran empresa)"),
])
def test_a_company_derived_for_its_size_gets_the_institution_and_its_contact(cpe, ventas, motivo, reason):
    case_id = cpe.start(ventas_uf=ventas)
    assert cpe.engine.case(case_id)["resultado"] == "derivada"
    derivation = _assert_derivation_message(cpe.engine, case_id, reason)
    # the contact is the regional directory's (engine/domain/data/directorio_derivacion.json)
    expected = derive(motivo, "CL-RM", cpe.clock.now().date())
    assert (derivation["institucion"], derivation["contacto"]) == (expected["institucion"], expected["contacto"])


def test_an_exporting_company_derived_to_prochile_gets_the_contact(cpe):
    case_id = cpe.start(ventas_uf=80000)
    case = cpe.through_interview(case_id, P.EXPORTADORA_REGULAR, P.ENTREVISTA_ALTA)
    assert case["segmento"] == "rojo_oscuro" and case["resultado"] == "derivada"
    derivation = _assert_derivation_message(cpe.engine, case_id, "porque su empresa ya exporta")
    assert derivation["institucion"].startswith("ProChile")
    # the three milestones, in order: interview date, classification, derivation
    assert [m[0].split(":")[0] for m in _to_company(cpe.engine, case_id)] == [
        "Entrevista de diagnóstico agendada", "Resultado de su evaluación en el Centro PYME Exporta",
        "Su empresa fue derivada a ProChile — Dirección Regional, Región Metropolitana de Santiago"]


def test_a_rojo_company_gets_the_contact_of_the_institution_its_executive_chose(deployed, clock):
    """Current process: the executive chooses among the regional network (issue 16 item 7); the message
    carries the chosen institution's contact, not a fixed FOSIS."""
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    cpe = Driver(deployed, clock, "cpe_actual")
    case_id = cpe.start(ventas_uf=20000)
    cpe.do(case_id, "Task_TPE_Bienes", {"respuestas": P.IDEA_ONLY})
    cpe.do(case_id, "Task_AgendarEntrevista", AGENDA)
    cpe.do(case_id, "Task_Entrevista", {"respuestas": P.ENTREVISTA_BAJA, "brechas": "Solo una idea."})
    cpe.choose_institution(case_id, "ong")
    derivation = _assert_derivation_message(deployed, case_id, "según el resultado de su evaluación")
    assert derivation["institucion"] == "ONG de apoyo al emprendimiento de Región Metropolitana de Santiago"



# -- every classification, also a re-classification, is told to the company ---------------------------

def _classifications(engine, case_id):
    return [m for m in _to_company(engine, case_id) if m[0].startswith("Resultado de su ")]


@pytest.mark.parametrize("tpe_after, segment, label, before, next_step", [
    (P.EXPORTADORA_REGULAR, "rojo_oscuro", "rojo oscuro", " (antes, segmento amarillo)", "Su empresa ya exporta"),
    (P.VINA_AMARILLO, "amarillo", "amarillo", "", "continúa en el programa"),
], ids=["to_rojo_oscuro", "stays_amarillo"])
def test_a_reevaluation_tells_the_company_its_new_segment(cpe, tpe_after, segment, label, before, next_step):
    """Thesis §5.2 ("cómo está posicionada"): every classification reaches the company, the first and
    each re-evaluation's (Service_AvisoReclasificacion), saying it is a re-evaluation, the new score and
    segment, the previous segment if it changed, and what comes next on the re-evaluation's route."""
    case_id = cpe.start()
    case = cpe.through_interview(case_id, P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    cpe.train(case_id)
    cpe.do(case_id, "Task_Asesoria", {"plan_negocios": "en_desarrollo"})
    assert len(_classifications(cpe.engine, case_id)) == 1
    case = cpe.reevaluate(case_id, tpe_after)
    assert case["segmento"] == segment
    first, again = _classifications(cpe.engine, case_id)
    assert first[0] == "Resultado de su evaluación en el Centro PYME Exporta: segmento amarillo"
    asunto, mensaje, address = again
    assert asunto == f"Resultado de su reevaluación en el Centro PYME Exporta: segmento {label}"
    assert address == "contacto@empresa.cl" and mensaje.startswith("Estimada empresa Viña Los Aromos SpA: ")
    assert "en su reevaluación" in mensaje
    assert f"puntaje final de {case['data']['puntaje_final']} de 100 y quedó en el segmento {label}{before}." in mensaje
    assert next_step in mensaje


def test_the_new_tpe_after_the_strengthening_plan_is_told_as_a_reevaluation(deployed, clock):
    """Proposal (thesis §3.4.2): the rojo company's new TPE after its strengthening plan classifies it
    again; the company is told its new segment as a re-evaluation (Service_AvisoSegmento, reached again)."""
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    cpe = Driver(deployed, clock, "cpe_propuesto")
    case_id = cpe.start(ventas_uf=6000, rubro="agroindustria")
    cpe.through_interview(case_id, P.IDEA_ONLY, P.ENTREVISTA_MEDIA)
    cpe.do(case_id, "Task_PlanFortalecimiento", {"brechas_priorizadas": "Formalizar la producción.",
                                                 "acciones": ["Curso de costos"], "fecha_revision": "2026-09-01"})
    cpe.clock.advance(days=190)
    deployed.fire_due_timers()
    case = cpe.do(case_id, "Task_Nuevo_TPE_Bienes", {"respuestas": P.VINA_AMARILLO})
    assert case["segmento"] == "amarillo"
    first, again = _classifications(deployed, case_id)
    assert first[0].endswith("segmento rojo") and first[0].startswith("Resultado de su evaluación")
    asunto, mensaje, _ = again
    assert asunto == "Resultado de su reevaluación en el Centro PYME Exporta: segmento amarillo"
    assert "en su reevaluación tras el plan de fortalecimiento" in mensaje
    assert f"puntaje final de {case['data']['puntaje_final']} de 100 y quedó en el segmento amarillo." in mensaje
    assert NEXT_STEPS["amarillo"] in mensaje


# -- derivations inside the programme: complementary programme and strengthening plan ----------------

def _derivation_row(engine, case_id, motivo):
    with engine.Session() as s:
        [row] = s.scalars(select(Derivation).where(Derivation.case_id == case_id, Derivation.motivo == motivo)).all()
        return row


@pytest.mark.parametrize("programa", ["corfo", "sercotec"])
def test_a_company_sent_to_a_complementary_programme_gets_the_institution_and_its_contact(cpe, programa):
    """Manual §6: "las empresas que sean derivadas a otra institución, serán enviadas a un contacto y
    dirección especifica". The executive sends an amarillo company to a CORFO/SERCOTEC programme in
    parallel (Service_DerivarPrograma): the company gets the institution, its contact and address
    (Service_AvisoPrograma), and is told it stays in the programme."""
    case_id = cpe.start()
    cpe.through_interview(case_id, P.VINA_AMARILLO, P.ENTREVISTA_MEDIA)
    assert not [m for m in _to_company(cpe.engine, case_id) if m[0].startswith("Programa complementario")]
    cpe.train(case_id, programa=programa)
    row = _derivation_row(cpe.engine, case_id, programa)
    [(asunto, mensaje, address)] = [m for m in _to_company(cpe.engine, case_id)
                                    if m[0].startswith("Programa complementario")]
    assert asunto == f"Programa complementario para su empresa: {row.institucion}"
    assert address == "contacto@empresa.cl" and mensaje.startswith("Estimada empresa Viña Los Aromos SpA: ")
    assert f"a un programa complementario de {row.institucion}. Contacto: {row.contacto}. " \
           f"Dirección: {row.direccion}." in mensaje
    assert "sigue en el programa" in mensaje
    expected = derive(programa, "CL-RM", cpe.clock.now().date())
    assert (row.institucion, row.contacto) == (expected["institucion"], expected["contacto"])
    assert "Task_Asesoria" in cpe.ready(case_id)


@pytest.mark.parametrize("ventas, motivo", [(6000, "sercotec"), (30000, "corfo")])
def test_a_rojo_company_sent_to_its_strengthening_plan_gets_the_institution_and_its_contact(deployed, clock,
                                                                                            ventas, motivo):
    """Proposal (thesis §3.4.2; manual §6): a rojo company is derived to SERCOTEC or CORFO for its
    strengthening plan (Service_DerivarFortalecimiento); the company gets the institution, its contact
    and address (Service_AvisoFortalecimiento) before the plan is agreed."""
    deployed.create_user("eje.rm", "secreto-123", "ejecutivo_cpe", region="CL-RM")
    cpe = Driver(deployed, clock, "cpe_propuesto")
    case_id = cpe.start(ventas_uf=ventas)
    case = cpe.through_interview(case_id, P.IDEA_ONLY, P.ENTREVISTA_BAJA)
    assert case["segmento"] == "rojo" and list(cpe.ready(case_id)) == ["Task_PlanFortalecimiento"]
    row = _derivation_row(deployed, case_id, motivo)
    [(asunto, mensaje, address)] = [m for m in _to_company(deployed, case_id)
                                    if m[0].startswith("Plan de fortalecimiento")]
    assert asunto == f"Plan de fortalecimiento: su empresa fue derivada a {row.institucion}"
    assert address == "contacto@empresa.cl"
    assert f"derivó a su empresa a {row.institucion}, con quien su ejecutivo(a) acordará un plan de fortalecimiento." \
           in mensaje
    assert f"Contacto: {row.contacto}. Dirección: {row.direccion}." in mensaje
    # the order: classification first, then the strengthening derivation
    subjects = [m[0] for m in _to_company(deployed, case_id)]
    assert subjects.index(asunto) == len(subjects) - 1 and subjects[-2].startswith("Resultado de su evaluación")
