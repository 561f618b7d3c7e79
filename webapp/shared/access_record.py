"""The audit rows of access to companies' personal data (issue 8) that pages, the API and exports
write, and the names the audit page shows for them."""

from __future__ import annotations

from flask import g, has_request_context, request
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.programme import audit
from webapp.shared.context import current_engine

SUBJECTS = {"case": _l("Caso"), "task": _l("Tarea"), "attendance": _l("Asistencia a talleres"),
            "backup": _l("Copia de seguridad"), "company": _l("Empresa"), "registry": _l("Registro CPE"),
            "benefit_extract": _l("Extracto de beneficios"), "outbox": _l("Mensaje de correo")}
ACTIONS = {"view": _l("Vio"), "export": _l("Exportó"), "download": _l("Descargó")}


def record_access(action: str, subject: str, subject_id=None, detail: dict | None = None,
                  actor: str | None = None) -> None:
    """One audit row for what the current request shows or exports; `actor` defaults to the
    logged-in person, or the API token's owner. The client address goes in the detail."""
    if actor is None:
        api_user = g.get("api_user") if has_request_context() else None
        actor = api_user.username if api_user is not None else current_user.username
    detail = dict(detail or {})
    if has_request_context():
        detail.setdefault("ip", request.remote_addr)
        detail.setdefault("via", "api" if request.blueprint == "api" else "web")
    audit.record_access(current_engine(), actor=actor, action=action, subject=subject, subject_id=subject_id,
                        detail=detail)
