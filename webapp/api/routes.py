"""The JSON API under /api/v1: the CLI's verbs (processes, cases, tasks, complete) for other
systems, authenticated with a personal token (`Authorization: Bearer cpe_…`, see
`cpe tokens`). It calls only the engine's verbs and read-only queries, and the same
role-and-region rules as the pages apply. Every answer is JSON, errors included
(`{"error": "…", "errors": {campo: mensaje}}`); it never redirects to the login page.
The OpenAPI document (openapi.py) is served at /api/v1/openapi.json.
"""

from __future__ import annotations

import re
from datetime import date, datetime

from flask import Blueprint, current_app, g, request, url_for
from werkzeug.exceptions import HTTPException, default_exceptions
from werkzeug.routing import RequestRedirect

from engine.accounts.apitokens import user_for_token
from engine.basics.case_values import check as check_value
from engine.basics.clock import as_utc
from engine.basics.errors import HTTP_STATUS, Forbidden, NotFound, describe
from engine.cases.queries import cases as case_page
from engine.domain import roles
from webapp.api import openapi as api_spec
from webapp.shared import strictjson
from webapp.shared.access_record import record_access
from webapp.shared.context import current_engine
from webapp.shared.extensions import csrf
from webapp.shared.guards import can_see_case

PREFIX = "/api/v1"
bp = Blueprint("api", __name__, url_prefix=PREFIX)
csrf.exempt(bp)

MAX_PER_PAGE = 100
MAX_PAGE = 100_000
MAX_ID = 2**31 - 1
TASK_ID = re.compile(r"^[0-9a-f-]{1,36}$")
KINDS = ("process", "decision", "form")

HTTP_MESSAGES = {
    400: "La solicitud no es válida.",
    401: "Se requiere autenticación.",
    403: "No tiene permiso para esta operación.",
    404: "El recurso no existe.",
    405: "Método no permitido.",
    409: "El recurso cambió mientras trabajaba; vuelva a consultarlo.",
    413: "El envío es demasiado grande.",
    415: "Tipo de contenido no soportado.",
    429: "Demasiadas solicitudes.",
    500: "Ocurrió un error inesperado.",
}


class ApiError(Exception):
    """A request refused before the engine is called: 400 (or `status`) with a message and,
    optionally, one per field."""

    def __init__(self, message: str, errors: dict | None = None, status: int = 400):
        super().__init__(message)
        self.message, self.errors, self.status = message, errors, status


# -- authentication and errors ---------------------------------------------------------
@bp.before_request
def authenticate():
    if request.endpoint == "api.openapi":
        return None
    scheme, _, token = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return _unauthorized("Falta el token: envíe la cabecera «Authorization: Bearer <token>» "
                             "(se crea con `cpe tokens create`).", None)
    user = user_for_token(current_engine(), token.strip())
    if user is None:
        return _unauthorized("El token no es válido, expiró o fue revocado.", "invalid_token")
    if not roles.may(user, roles.SIGN_IN):
        return error_response(403, "Las cuentas de empresa no usan la API: use el portal de empresas.")
    g.api_user = user
    return None


@bp.before_app_request
def api_routing_errors():
    """An unknown path or method under /api/v1 gets a JSON error, not the HTML page."""
    exc = request.routing_exception
    if exc is not None and not isinstance(exc, RequestRedirect) and is_api_path():
        return _http_error(exc)
    return None


def is_api_path() -> bool:
    return request.path == PREFIX or request.path.startswith(PREFIX + "/")


def reply(body, status: int = 200):
    """A JSON answer in UTF-8 (Spanish text stays readable), times as ISO 8601; strict JSON (no NaN,
    no invalid Unicode, whatever a case stored before engine.basics.case_values existed: see strictjson)."""
    text = strictjson.dumps(_plain(body), ensure_ascii=False, separators=(",", ":"))
    return current_app.response_class(text + "\n", status=status, mimetype="application/json")


def error_response(status: int, message: str, errors: dict | None = None, headers=None):
    body = {"error": message}
    if errors:
        body["errors"] = errors
    response = reply(body, status)
    for key, value in headers or ():
        response.headers[key] = value
    return response


def _unauthorized(message: str, error: str | None):
    challenge = 'Bearer realm="cpe"' + (f', error="{error}"' if error else "")
    return error_response(401, message, headers=[("WWW-Authenticate", challenge)])


def _http_error(exc: HTTPException):
    code = exc.code or 500
    headers = [(k, v) for k, v in exc.get_headers() if k.lower() != "content-type"]
    return error_response(code, HTTP_MESSAGES.get(code, f"Error HTTP {code}."), headers=headers)


for _code in default_exceptions:
    bp.register_error_handler(_code, _http_error)
bp.register_error_handler(HTTPException, _http_error)


@bp.errorhandler(ApiError)
def _api_error(exc: ApiError):
    return error_response(exc.status, exc.message, exc.errors)


def _engine_error(exc):
    """An engine error a person can act on (engine/basics/errors.py): its status, its sentence and,
    for a form or a refused value, the message of each field."""
    outcome = describe(exc)
    return error_response(outcome.status, outcome.message, outcome.fields or None)


for _kind in HTTP_STATUS:
    bp.register_error_handler(_kind, _engine_error)


# -- helpers -------------------------------------------------------------------------
def _user():
    return g.api_user


def _body() -> dict:
    raw = request.get_data(cache=True)
    if not raw.strip():
        return {}
    try:
        data = strictjson.parse(raw)  # NaN, Infinity, repeated keys: refused or left for case_values.check
    except strictjson.NotJson:
        raise ApiError("El cuerpo no es JSON válido.") from None
    if not isinstance(data, dict):
        raise ApiError("El cuerpo debe ser un objeto JSON.")
    if _has_nul(data):
        raise ApiError("El texto no puede contener el carácter nulo (\\u0000).")
    check_value(data)  # ValueRefused: 422 naming the field (data.rut, respuestas.web, …)
    return data


def _has_nul(value) -> bool:
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if "\x00" in item:
                return True
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return False


def _int_arg(name: str, default: int | None, low: int, high: int) -> int | None:
    text = request.args.get(name)
    if text is None or text == "":
        return default
    try:
        value = int(text)
    except ValueError:
        value = None
    if value is None or not low <= value <= high:
        raise ApiError("Parámetros no válidos.", {name: f"Debe ser un número entero entre {low} y {high}."})
    return value


def _plain(value):
    """JSON-ready values: times as ISO 8601 in UTC (Flask would write them as HTTP dates)."""
    if isinstance(value, datetime):
        return as_utc(value).isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _utc_text(value):
    """A stored time as ISO 8601 with its zone (SQLite gives times back without one: they are UTC)."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            return value
    return value if value is None else as_utc(value)


def _start_role(process_id: str, version: int | None) -> str | None:
    """The role of the lane of the process's start event (NotFound, a 404, for an unknown process)."""
    return current_engine().start_role(process_id, version)


def _visible_case(case_id: int) -> dict:
    if not 1 <= case_id <= MAX_ID:
        raise NotFound(f"no existe el caso {case_id}")
    case = current_engine().case(case_id)
    if not can_see_case(case, _user()):
        raise Forbidden("No tiene permiso para ver casos de otra región.")
    return case


def _visible_task(task_id: str) -> dict:
    if not TASK_ID.match(task_id):
        raise NotFound(f"no existe la tarea {task_id}")
    task = current_engine().task(task_id)
    if not can_see_case(task, _user()):
        raise Forbidden("No tiene permiso para ver tareas de otra región.")
    return task


# -- endpoints -------------------------------------------------------------------------
@bp.get("/openapi.json")
def openapi():
    return reply(api_spec.document())


@bp.get("/processes")
def processes():
    kind = request.args.get("kind", "process")
    if kind not in (*KINDS, "all"):
        raise ApiError("Parámetros no válidos.", {"kind": "Use process, decision, form o all."})
    items = [dict(m, created_at=_utc_text(m["created_at"])) for m in current_engine().models()
             if kind == "all" or m["kind"] == kind]
    return reply({"items": items})


@bp.get("/cases")
def list_cases():
    user = _user()
    restricted = roles.region_scope(user) is not None
    region = request.args.get("region") or None
    if restricted:
        if region not in (None, user.region):
            raise Forbidden("No tiene permiso para ver casos de otra región.")
        region = user.region
    page = _int_arg("page", 1, 1, MAX_PAGE)
    per_page = _int_arg("per_page", 25, 1, MAX_PER_PAGE)
    q = (request.args.get("q") or "").strip()[:200] or None
    result = case_page(current_engine(), region, q, page=page, per_page=per_page)
    return reply({"items": result.items, "total": result.total, "page": result.page,
                  "per_page": result.per_page, "pages": result.pages})


@bp.post("/cases")
def start_case():
    user, body = _user(), _body()
    errors = {}
    process_id, data, version = body.get("process_id"), body.get("data", {}), body.get("version")
    if not isinstance(process_id, str) or not process_id.strip():
        errors["process_id"] = "Este campo es obligatorio (el id del proceso, p. ej. cpe_actual)."
    if data is None:
        data = {}
    if not isinstance(data, dict):
        errors["data"] = "Debe ser un objeto."
    if isinstance(version, float) and version.is_integer():
        version = int(version)  # 2.0 is the integer 2 in JSON
    if version is not None and (isinstance(version, bool) or not isinstance(version, int) or version < 1):
        errors["version"] = "Debe ser un número entero mayor o igual a 1."
    unknown = sorted(set(body) - {"process_id", "data", "version"})
    for name in unknown:
        errors[name] = "Campo no permitido."
    if errors:
        raise ApiError("Revise los campos marcados.", errors, status=422)
    if not roles.may(user, roles.START_CASES):
        raise Forbidden("Su rol no puede iniciar casos.")
    if not roles.may(user, roles.ALL_REGIONS) and data.get("region") != user.region:
        raise Forbidden(f"Solo puede iniciar casos de su región ({user.region}).")
    if not roles.may_start(user, _start_role(process_id, version)):
        raise Forbidden("Su rol no puede iniciar casos de este proceso.")
    case_id = current_engine().start(process_id, data, version=version, actor=user.username)
    response = reply(current_engine().case(case_id), 201)
    response.headers["Location"] = url_for("api.get_case", case_id=case_id)
    return response


@bp.get("/cases/<int:case_id>")
def get_case(case_id):
    case = _visible_case(case_id)
    record_access("view", "case", case_id)
    return reply(case)


@bp.get("/tasks")
def list_tasks():
    case_id = _int_arg("case_id", None, 1, MAX_ID)
    return reply({"items": current_engine().ready_tasks(case_id=case_id, user=_user().username)})


@bp.get("/tasks/<task_id>")
def get_task(task_id):
    task = _visible_task(task_id)
    record_access("view", "task", task_id, {"caso": task["case_id"]})
    return reply(task)


@bp.post("/tasks/<task_id>/complete")
def complete_task(task_id):
    data = _body()
    _visible_task(task_id)
    result = current_engine().complete(task_id, data, user=_user().username)
    return reply({"task_id": task_id, **result})


@bp.post("/tasks/<task_id>/claim")
def claim_task(task_id):
    _visible_task(task_id)
    current_engine().claim(task_id, _user().username)
    return reply(current_engine().task(task_id))


@bp.post("/tasks/<task_id>/release")
def release_task(task_id):
    _visible_task(task_id)
    current_engine().release(task_id, _user().username)
    return reply(current_engine().task(task_id))
