"""Error pages: a clear message in the user's language, never a stack trace."""

from __future__ import annotations

from flask import render_template
from flask_babel import gettext as _
from flask_wtf.csrf import CSRFError

from engine.basics.errors import BrokenModel


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

    @app.errorhandler(BrokenModel)
    def broken_model(exc):  # a stored model today's rules refuse: its message says what to deploy
        return render(422, str(exc))

    @app.errorhandler(CSRFError)
    def csrf_error(_exc):
        return render(400, _("El formulario expiró o no es válido. Recargue la página e intente de nuevo."))


def page(code: int, message: str):
    """The error page: the code and a message for people (never an exception's text)."""
    return render_template("errors/error.html", code=code, message=message), code
