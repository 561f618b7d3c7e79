"""The regional head's choice of the executive in charge (engine/domain/assignment.head_choice;
thesis §3.4.2 block 4: at most 50 companies per executive, grouped by rubro)."""

from __future__ import annotations

import pytest

from engine.domain.assignment import head_choice

ANA = {"username": "ana", "rubros": ["vitivinicola"], "carga": 50}
BETO = {"username": "beto", "rubros": [], "carga": 50}
CARLA = {"username": "carla", "rubros": ["turismo"], "carga": 12}
RM = "Región Metropolitana de Santiago"


def _account(role="ejecutivo_cpe", region="CL-RM", active=True):
    return {"role": role, "region": region, "active": active}


CHOICES = [
    # (candidates, decision, usuario, rubro, account, ejecutivo, carga, sobre_tope, motivo)
    ([BETO, ANA], "menor_carga", None, "vitivinicola", None, "ana", 51, True, None),  # equal load: the specialist
    ([ANA, BETO], "menor_carga", None, "alimentos", None, "ana", 51, True, None),  # equal load: by username
    ([ANA, BETO, CARLA], "menor_carga", None, "vitivinicola", None, "carla", 13, False, None),  # least loaded
    ([], "menor_carga", None, "vitivinicola", None, None, None, False,
     f"{RM} no tiene usuarios activos con el rol Ejecutivo(a) CPE"),
    ([ANA, CARLA], "ejecutivo_indicado", "ana", "turismo", _account(), "ana", 51, True, None),  # over the cap
    ([ANA, CARLA], "ejecutivo_indicado", " carla ", None, _account(), "carla", 13, False, None),
    ([ANA], "ejecutivo_indicado", "", None, None, None, None, False, "Indique el usuario del ejecutivo"),
    ([ANA], "ejecutivo_indicado", None, None, None, None, None, False, "Indique el usuario del ejecutivo"),
    ([ANA], "ejecutivo_indicado", "zoe", None, None, None, None, False, "No existe el usuario «zoe»."),
    ([ANA], "ejecutivo_indicado", "zoe", None, _account(active=False), None, None, False,
     "El usuario «zoe» está desactivado."),
    ([ANA], "ejecutivo_indicado", "zoe", None, _account(role="jefe_regional"), None, None, False,
     "El usuario «zoe» no tiene el rol Ejecutivo(a) CPE."),
    ([ANA], "ejecutivo_indicado", "zoe", None, _account(region="CL-BI"), None, None, False,
     f"El usuario «zoe» no pertenece a {RM}."),
    ([ANA], "otra", "ana", None, None, None, None, False, "Elija una de las opciones"),
]


@pytest.mark.parametrize("candidates,decision,usuario,rubro,account,ejecutivo,carga,sobre_tope,motivo", CHOICES)
def test_head_choice(candidates, decision, usuario, rubro, account, ejecutivo, carga, sobre_tope, motivo):
    result = head_choice(candidates, decision, usuario, "ejecutivo_cpe", "CL-RM", rubro=rubro, account=account,
                         role_label="Ejecutivo(a) CPE", region_label=RM)
    assert (result["ejecutivo"], result["carga"], result["sobre_tope"]) == (ejecutivo, carga, sobre_tope)
    if motivo is None:
        assert result["motivo"] is None
    else:
        assert result["motivo"].startswith(motivo)
