"""Error pages: a clear message in the user's language, never a stack trace. What an engine error
means is engine/basics/errors.py's (`describe`); this module only renders it for the pages."""

from __future__ import annotations

from contextlib import contextmanager

from flask import abort, flash, redirect, render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from engine.basics.errors import BrokenModel, Conflict, Forbidden, FormError, NotFound, ValueRefused, describe
from webapp.shared import formrender


def init_app(app):
    messages = {
        400: lambda: _("La solicitud no es válida."),
        403: lambda: _("No tiene permiso para ver esta página."),
        404: lambda: _("La página que busca no existe."),
        405: lambda: _("Método no permitido."),
        409: lambda: _("El recurso cambió mientras trabajaba; recargue la página."),
        413: lambda: _("El envío es demasiado grande."),
        500: lambda: _("Ocurrió un error inesperado. El equipo fue notificado."),
    }

    def render(code, message=None):
        return page(code, message or messages[code]())

    for code in messages:
        app.register_error_handler(code, lambda exc, code=code: render(code))

    # an engine error no page caught: the generic page of its status, as abort() gives, for
    # NotFound and Forbidden (their texts may name what the user may not see); the error's own
    # text for a conflict and for a stored model today's rules refuse (it says what to deploy)
    for kind in (NotFound, Forbidden):
        app.register_error_handler(kind, lambda exc: render(describe(exc).status))
    for kind in (Conflict, BrokenModel):
        app.register_error_handler(kind, lambda exc: render(describe(exc).status, describe(exc).text))

    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        return render(400, _("El formulario expiró o no es válido. Recargue la página e intente de nuevo."))


def page(code: int, message: str):
    """The error page: the code and a message for people (never a stack trace nor a bug's text)."""
    return render_template("errors/error.html", code=code, message=message), code


@contextmanager
def back_on_failure(to: str, *kinds: type[Exception], category: str = "error", prefix: str | None = None):
    """On one of `kinds` (errors whose text is written for people), flash it and go back to `to`.
    The flash is the error's text, or `prefix` (a translated text) with `%(reason)s` standing for
    it; a prefix without `%(reason)s` replaces it."""
    try:
        yield
    except kinds as exc:
        flash(str(exc) if prefix is None else prefix % {"reason": str(exc)}, category)
        abort(redirect(to))


def field_errors(exc: FormError | ValueRefused) -> dict:
    """The form's errors (field path → message) of a refused submission."""
    if isinstance(exc, ValueRefused):
        return formrender.refused_errors(exc)
    return describe(exc).fields
