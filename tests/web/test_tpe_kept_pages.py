"""Issue 16 item 5 in the web pages: the executive's TPE update opens with the stored answers checked,
and the case page shows each version of the TPE with who gave it and when (thesis §3.4.2: one TPE per
company, "actualizados en el TPE guardado por el ejecutivo")."""

from __future__ import annotations

import re

from engine.models.validation import collect_files
from engine.programme.portal import PORTAL_ACTOR

from .. import profiles as P
from ..conftest import ROOT
from ..driver import AGENDA, Driver


def _checked(html: str) -> dict:
    return dict(re.findall(r'<input type="radio" name="respuestas\.([a-z_]+)" value="([^"]+)" checked>', html))


def test_the_update_opens_with_the_stored_answers_and_the_case_page_shows_who_and_when(engine, clock, client, auth):
    engine.deploy(collect_files([ROOT / "forms", ROOT / "processes"]), author="test", message="modelos")
    d = Driver(engine, clock, "cpe_actual")
    case_id = d.start()
    engine.complete(d.ready(case_id)["Task_TPE_Bienes"]["id"], {"respuestas": P.VINA_AMARILLO}, actor=PORTAL_ACTOR)
    d.do(case_id, "Task_AgendarEntrevista", AGENDA, user="eje.rm")
    d.do(case_id, "Task_Entrevista", {"respuestas": P.ENTREVISTA_MEDIA, "brechas": "Mercados."}, user="eje.rm")
    d.train(case_id, user="eje.rm")
    d.do(case_id, "Task_Asesoria", {"plan_negocios": "en_desarrollo"}, user="eje.rm")
    auth.login("eje.rm")

    interview = client.get(f"/tareas/{d.ready(case_id)['Task_Actualizar_Entrevista']['id']}").text
    assert _checked(interview) == P.ENTREVISTA_MEDIA and "Mercados." in interview
    d.do(case_id, "Task_Actualizar_Entrevista", {"respuestas": P.ENTREVISTA_MEDIA, "brechas": "Mercados."},
         user="eje.rm")
    update = client.get(f"/tareas/{d.ready(case_id)['Task_Actualizar_TPE_Bienes']['id']}").text
    assert _checked(update) == P.VINA_AMARILLO

    d.do(case_id, "Task_Actualizar_TPE_Bienes", {"respuestas": P.ALIMENTOS_VERDE}, user="eje.rm")
    page = client.get(f"/casos/{case_id}").text
    section = page[page.index('id="historial-tpe"'):]
    section = section[:section.index("</section>")]
    assert "Revisión 2" in section and "Eje RM (eje.rm)" in section
    assert "Revisión 1" in section and "la empresa (portal)" in section
    assert section.index("Revisión 2") < section.index("Revisión 1")  # newest first
