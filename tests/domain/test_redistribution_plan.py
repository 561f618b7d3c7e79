"""Which open cases the regional head moves from one executive to another
(engine/domain/assignment.redistribution_plan; thesis §3.4.2 block 4: "cada ejecutivo esté a cargo
de un grupo de pymes (50 como máximo), ordenados por rubro")."""

from __future__ import annotations

import pytest

from engine.domain.assignment import redistribution_plan

RM = "Región Metropolitana de Santiago"
CASES = [{"id": 3, "rubro": "turismo"}, {"id": 7, "rubro": "vitivinicola"}, {"id": 9, "rubro": "alimentos"},
         {"id": 12, "rubro": "vitivinicola"}, {"id": 15, "rubro": None}]


def _account(role="ejecutivo_cpe", region="CL-RM", active=True, carga=0, rubros=()):
    return {"role": role, "region": region, "active": active, "carga": carga, "rubros": list(rubros)}


ANA, BETO = _account(), _account(carga=10, rubros=["vitivinicola"])

PLANS = [
    # (cases, desde, hacia, modo, cantidad, indicadas, source, target, casos, carga_desde, carga_hacia, motivo)
    (CASES, "ana", "beto", "todas", None, None, ANA, BETO, [3, 7, 9, 12, 15], 0, 15, None),
    # the receiver's rubro first (7, 12), then the newest (15)
    (CASES, "ana", "beto", "cantidad", 3, None, ANA, BETO, [7, 12, 15], 2, 13, None),
    (CASES, "ana", "beto", "cantidad", 1, None, ANA, _account(), [15], 4, 1, None),  # a generalist: the newest
    (CASES, "ana", "beto", "indicadas", None, [9, 3, 9], ANA, BETO, [3, 9], 3, 12, None),  # repeated once
    (CASES, " ana ", "beto ", "cantidad", 5, None, ANA, BETO, [3, 7, 9, 12, 15], 0, 15, None),
    # an executive who left (inactive) still hands over their cases
    (CASES, "ana", "beto", "todas", None, None, _account(active=False), BETO, [3, 7, 9, 12, 15], 0, 15, None),
    # the cap: 46 + 5 > 50, refused with the room left; exactly 50 is fine
    (CASES, "ana", "beto", "todas", None, None, ANA, _account(carga=46), [], None, None,
     "«beto» tiene 46 de 50 empresas a cargo: puede recibir 4 más, no 5."),
    (CASES, "ana", "beto", "todas", None, None, ANA, _account(carga=45), [3, 7, 9, 12, 15], 0, 50, None),
    (CASES, "ana", "beto", "cantidad", 1, None, ANA, _account(carga=50), [], None, None,
     "«beto» tiene 50 de 50 empresas a cargo: puede recibir 0 más, no 1."),
    (CASES, "ana", "beto", "cantidad", 6, None, ANA, BETO, [], None, None,
     "«ana» tiene 5 empresas en curso a su cargo: no puede traspasar 6."),
    (CASES, "ana", "beto", "cantidad", 0, None, ANA, BETO, [], None, None, "Indique cuántas empresas"),
    (CASES, "ana", "beto", "cantidad", None, None, ANA, BETO, [], None, None, "Indique cuántas empresas"),
    (CASES, "ana", "beto", "cantidad", True, None, ANA, BETO, [], None, None, "Indique cuántas empresas"),
    (CASES, "ana", "beto", "indicadas", None, [], ANA, BETO, [], None, None, "Indique los números"),
    (CASES, "ana", "beto", "indicadas", None, [3, 4, 8], ANA, BETO, [], None, None,
     f"No están en curso a cargo de «ana» en {RM}: #4, #8."),
    ([], "ana", "beto", "todas", None, None, ANA, BETO, [], None, None, "«ana» no tiene empresas en curso"),
    (CASES, "ana", "ana", "todas", None, None, ANA, ANA, [], None, None, "El ejecutivo que entrega y el que recibe"),
    (CASES, "", "beto", "todas", None, None, None, BETO, [], None, None,
     "Indique el usuario del ejecutivo que entrega"),
    (CASES, "ana", None, "todas", None, None, ANA, None, [], None, None,
     "Indique el usuario del ejecutivo que recibe"),
    (CASES, "zoe", "beto", "todas", None, None, None, BETO, [], None, None, "No existe el usuario «zoe»."),
    (CASES, "ana", "zoe", "todas", None, None, ANA, None, [], None, None, "No existe el usuario «zoe»."),
    (CASES, "ana", "beto", "todas", None, None, ANA, _account(active=False), [], None, None,
     "El usuario «beto» está desactivado."),
    (CASES, "ana", "beto", "todas", None, None, _account(role="jefe_regional"), BETO, [], None, None,
     "El usuario «ana» no tiene el rol Ejecutivo(a) CPE."),
    (CASES, "ana", "beto", "todas", None, None, ANA, _account(region="CL-BI"), [], None, None,
     f"El usuario «beto» no pertenece a {RM}."),
    (CASES, "ana", "beto", "otra", None, None, ANA, BETO, [], None, None, "Elija una de las opciones"),
]


@pytest.mark.parametrize("cases,desde,hacia,modo,cantidad,indicadas,source,target,casos,carga_desde,carga_hacia,motivo",
                         PLANS)
def test_redistribution_plan(cases, desde, hacia, modo, cantidad, indicadas, source, target, casos, carga_desde,
                             carga_hacia, motivo):
    result = redistribution_plan(cases, desde, hacia, modo, source=source, target=target, role="ejecutivo_cpe",
                                 region="CL-RM", cantidad=cantidad, indicadas=indicadas,
                                 role_label="Ejecutivo(a) CPE", region_label=RM)
    assert (result["casos"], result["carga_desde"], result["carga_hacia"]) == (casos, carga_desde, carga_hacia)
    if motivo is None:
        assert result["motivo"] is None
    else:
        assert result["motivo"].startswith(motivo), result["motivo"]
