"""One table says how each engine error is told (engine/basics/errors.py): the HTTP status, the
CLI's text, the API's sentence, the fields and the exit code; anything else is a bug (None)."""

from __future__ import annotations

import pytest

from engine.basics import errors
from engine.basics.errors import (
    HTTP_STATUS,
    BrokenModel,
    Conflict,
    DeployError,
    EngineError,
    Forbidden,
    FormError,
    NotFound,
    Outcome,
    Problem,
    ValueRefused,
    describe,
)

PROBLEMS = [Problem("a.bpmn", 3, "task T", "sin nombre"), Problem("b.json", None, "form f", "vacío")]


@pytest.mark.parametrize(("exc", "expected"), [
    (NotFound("no existe el caso 7"),
     Outcome(404, "no existe el caso 7", "No existe el caso 7")),
    (Forbidden("No tiene permiso para ver casos de otra región."),
     Outcome(403, "No tiene permiso para ver casos de otra región.",
             "No tiene permiso para ver casos de otra región.")),
    (Conflict("la tarea ya fue tomada"), Outcome(409, "la tarea ya fue tomada", "La tarea ya fue tomada")),
    (BrokenModel("el formulario f v2 guardado no se puede usar"),
     Outcome(422, "el formulario f v2 guardado no se puede usar", "El formulario f v2 guardado no se puede usar")),
    (FormError({"rut": "RUT inválido", "": "faltan datos"}),
     Outcome(422, "rut: RUT inválido; faltan datos", "Revise los campos marcados.",
             fields={"rut": "RUT inválido", "": "faltan datos"})),
    (ValueRefused("data.monto", "no es un número finito"),
     Outcome(422, "Valor no permitido en «data.monto»: no es un número finito.",
             "Valor no permitido en «data.monto»: no es un número finito.",
             fields={"data.monto": "Valor no permitido en «data.monto»: no es un número finito."})),
    (ValueRefused("", "la clave «a» está repetida en un mismo objeto"),
     Outcome(422, "Valor no permitido en el valor: la clave «a» está repetida en un mismo objeto.",
             "Valor no permitido en el valor: la clave «a» está repetida en un mismo objeto.")),
    (DeployError(PROBLEMS),
     Outcome(422, "a.bpmn:3: task T: sin nombre\nb.json:0: form f: vacío",
             "A.bpmn:3: task T: sin nombre\nb.json:0: form f: vacío",
             problems=("a.bpmn:3: task T: sin nombre", "b.json:0: form f: vacío"))),
    (EngineError("el motor no pudo continuar"),
     Outcome(None, "el motor no pudo continuar", "El motor no pudo continuar")),
    (EngineError(""), Outcome(None, "", "")),
], ids=lambda value: type(value).__name__ if isinstance(value, Exception) else "")
def test_each_error_is_told_one_way(exc, expected):
    assert describe(exc) == expected
    assert describe(exc).exit_code == 1


@pytest.mark.parametrize("exc", [ValueError("fecha no válida"), KeyError("x"), FileNotFoundError("a.bpmn"),
                                 RuntimeError("bug"), Exception()])
def test_anything_else_is_not_described(exc):
    assert describe(exc) is None


def test_the_table_lists_every_error_a_person_can_act_on():
    assert HTTP_STATUS == {NotFound: 404, Forbidden: 403, Conflict: 409, BrokenModel: 422, ValueRefused: 422,
                           FormError: 422, DeployError: 422}
    assert EngineError not in HTTP_STATUS  # a plain engine error is a bug's: 500


def test_a_subclass_takes_its_parents_status():
    class Gone(NotFound):
        pass

    class Stale(Conflict):
        pass

    assert describe(Gone("ya no existe")).status == 404
    assert describe(Stale("cambió")).status == 409
    assert describe(ValueRefused("x", "no")).status == 422  # its own row, not EngineError's (none)


def test_an_outcome_cannot_be_changed():
    outcome = describe(NotFound("no existe"))
    with pytest.raises(AttributeError):
        outcome.status = 500


def test_form_fields_are_a_copy():
    exc = FormError({"rut": "RUT inválido"})
    describe(exc).fields["rut"] = "otro"
    assert exc.errors == {"rut": "RUT inválido"}


def test_the_modules_that_raise_them_use_the_same_classes():
    from engine.basics import case_values
    from engine.models import forms, validation

    assert forms.FormError is FormError and case_values.ValueRefused is ValueRefused
    assert validation.Problem is Problem
    assert errors.sentence("éxito") == "Éxito" and errors.sentence("") == ""
