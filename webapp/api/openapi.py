"""The OpenAPI 3.1 document of the JSON API (served at /api/v1/openapi.json).

Written by hand, next to the views in routes.py; tests/web/test_api.py checks that every
route under /api/v1 is described here (and nothing else), that the document is valid
OpenAPI 3.1, and that the answers of the happy paths match the schemas below.
"""

from __future__ import annotations

import copy

VERSION = "1.0.0"


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str, headers: dict | None = None) -> dict:
    response = {"description": description, "content": {"application/json": {"schema": schema}}}
    if headers:
        response["headers"] = headers
    return response


def _errors(*codes: int) -> dict:
    return {str(code): {"$ref": f"#/components/responses/{ERROR_RESPONSES[code]}"} for code in codes}


ERROR_RESPONSES = {400: "BadRequest", 401: "Unauthorized", 403: "Forbidden", 404: "NotFound", 409: "Conflict",
                   422: "Unprocessable"}

NULLABLE_STRING = {"type": ["string", "null"]}
NO_NUL = "^[^\\x00]*$"  # query texts: the API refuses the NUL character with 400
TIMESTAMP = {"type": "string", "format": "date-time"}
NULLABLE_TIMESTAMP = {"type": ["string", "null"], "format": "date-time"}

SCHEMAS = {
    "Error": {
        "type": "object",
        "description": "Un error, con un mensaje en español; `errors` indica un mensaje por campo.",
        "required": ["error"],
        "properties": {
            "error": {"type": "string", "examples": ["Revise los campos marcados."]},
            "errors": {"type": "object", "additionalProperties": {"type": "string"},
                       "description": "Campo (ruta con puntos, p. ej. `respuestas.web`) → mensaje.",
                       "examples": [{"respuestas.web": "¿Tiene sitio web en inglés?: Este campo es obligatorio."}]},
        },
    },
    "Model": {
        "type": "object",
        "description": "Una versión desplegada de un proceso (BPMN), una decisión (DMN) o un formulario.",
        "required": ["kind", "key", "version", "name", "created_at", "active_cases"],
        "properties": {
            "kind": {"enum": ["process", "decision", "form"]},
            "key": {"type": "string", "examples": ["cpe_actual"]},
            "version": {"type": "integer", "minimum": 1},
            "name": NULLABLE_STRING,
            "filename": NULLABLE_STRING,
            "checksum": NULLABLE_STRING,
            "author": NULLABLE_STRING,
            "message": NULLABLE_STRING,
            "created_at": TIMESTAMP,
            "dependencies": {"type": ["object", "null"],
                             "description": "Versiones exactas de formularios y decisiones que usa un proceso."},
            "active_cases": {"type": "integer", "minimum": 0},
        },
    },
    "ModelList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": _ref("Model")}},
    },
    "CaseSummary": {
        "type": "object",
        "required": ["id", "process", "status", "region", "created_at", "updated_at"],
        "properties": {
            "id": {"type": "integer"},
            "process": {"type": "string"},
            "status": _ref("CaseStatus"),
            "segmento": NULLABLE_STRING,
            "resultado": NULLABLE_STRING,
            "region": NULLABLE_STRING,
            "ejecutivo": NULLABLE_STRING,
            "razon_social": NULLABLE_STRING,
            "rut": NULLABLE_STRING,
            "created_at": TIMESTAMP,
            "updated_at": TIMESTAMP,
        },
    },
    "CasePage": {
        "type": "object",
        "required": ["items", "total", "page", "per_page", "pages"],
        "properties": {
            "items": {"type": "array", "items": _ref("CaseSummary")},
            "total": {"type": "integer", "minimum": 0},
            "page": {"type": "integer", "minimum": 1},
            "per_page": {"type": "integer", "minimum": 1},
            "pages": {"type": "integer", "minimum": 1},
        },
    },
    "CaseStatus": {"enum": ["active", "completed", "error", "cancelled"]},
    "HistoryEvent": {
        "type": "object",
        "required": ["at", "actor", "kind"],
        "properties": {
            "at": TIMESTAMP,
            "actor": {"type": "string"},
            "kind": {"type": "string", "examples": ["case_started", "task_completed", "step_completed"]},
            "bpmn_id": NULLABLE_STRING,
            "name": NULLABLE_STRING,
            "detail": {"type": ["object", "null"]},
        },
    },
    "Case": {
        "type": "object",
        "required": ["id", "process_id", "version", "status", "data", "region", "created_at", "history"],
        "properties": {
            "id": {"type": "integer"},
            "process_id": {"type": "string"},
            "version": {"type": "integer", "minimum": 1},
            "status": _ref("CaseStatus"),
            "data": {"type": "object", "description": "Variables del caso (SPEC §9)."},
            "segmento": NULLABLE_STRING,
            "resultado": NULLABLE_STRING,
            "ejecutivo": NULLABLE_STRING,
            "region": NULLABLE_STRING,
            "error": {"type": ["object", "null"], "description": "El paso que falló, si el caso está en error."},
            "next_timer_at": NULLABLE_TIMESTAMP,
            "created_at": TIMESTAMP,
            "ended_at": NULLABLE_TIMESTAMP,
            "history": {"type": "array", "items": _ref("HistoryEvent")},
        },
    },
    "StartCase": {
        "type": "object",
        "required": ["process_id"],
        "additionalProperties": False,
        "properties": {
            "process_id": {"type": "string", "minLength": 1, "examples": ["cpe_actual"]},
            "data": {"type": "object", "description": "Datos de inicio; se validan con el formulario del evento de "
                                                      "inicio. Quien no es analista solo inicia casos de su región "
                                                      "(`data.region`)."},
            "version": {"type": ["integer", "null"], "minimum": 1,
                        "description": "Versión del proceso; por omisión, la última."},
        },
    },
    "Task": {
        "type": "object",
        "required": ["id", "case_id", "bpmn_id", "name", "lane", "region", "assignee", "state", "process_id",
                     "process_version", "created_at", "form_id", "form"],
        "properties": {
            "id": {"type": "string", "format": "uuid"},
            "case_id": {"type": "integer"},
            "bpmn_id": {"type": "string"},
            "name": {"type": "string"},
            "lane": NULLABLE_STRING,
            "region": NULLABLE_STRING,
            "assignee": NULLABLE_STRING,
            "state": {"enum": ["ready", "completed", "cancelled"]},
            "process_id": {"type": "string"},
            "process_version": {"type": "integer"},
            "created_at": TIMESTAMP,
            "form_id": NULLABLE_STRING,
            "form": {"type": ["object", "null"], "description": "El JSON Schema (2020-12) del formulario."},
        },
    },
    "TaskList": {
        "type": "object",
        "required": ["items"],
        "properties": {"items": {"type": "array", "items": _ref("Task")}},
    },
    "FormData": {
        "type": "object",
        "description": "Los datos del formulario de la tarea (se validan con su JSON Schema).",
        "examples": [{"respuestas": {"web": "si", "idiomas": "ingles"}}],
    },
    "Completion": {
        "type": "object",
        "required": ["task_id", "case_id", "status"],
        "properties": {
            "task_id": {"type": "string", "format": "uuid"},
            "case_id": {"type": "integer"},
            "status": _ref("CaseStatus"),
        },
    },
}

ERROR_DESCRIPTIONS = {
    "BadRequest": "JSON mal formado, cuerpo que no es un objeto, texto con el carácter nulo (\\u0000) "
                  "o parámetros no válidos.",
    "Unauthorized": "Falta el token, o no es válido, expiró o fue revocado.",
    "Forbidden": "El caso o la tarea es de otra región, o su rol no permite la operación.",
    "NotFound": "No existe.",
    "Conflict": "La tarea ya fue completada, cancelada o tomada por otra persona, o el caso no está activo.",
    "Unprocessable": "Los datos no cumplen el formulario, o traen un valor que un caso no puede guardar (NaN, "
                     "Infinity, un sustituto Unicode aislado, un entero de más de 18 cifras, una clave repetida "
                     "o `typename`, más de 32 niveles de anidación); `errors` da un mensaje por campo y nada "
                     "cambia.",
}

RESPONSES = {name: _json(_ref("Error"), text) for name, text in ERROR_DESCRIPTIONS.items()}
RESPONSES["Unauthorized"]["headers"] = {
    "WWW-Authenticate": {"description": "`Bearer realm=\"cpe\"` (con `error=\"invalid_token\"` si el token "
                                        "no sirve).", "schema": {"type": "string"}},
}

CASE_ID = {"type": "integer", "minimum": 1, "maximum": 2**31 - 1}  # api.MAX_ID

PARAMETERS = {
    "CaseId": {"name": "case_id", "in": "path", "required": True, "schema": CASE_ID},
    "TaskId": {"name": "task_id", "in": "path", "required": True, "schema": {"type": "string", "format": "uuid"}},
}


def _task_action(summary: str, description: str, operation_id: str) -> dict:
    return {"post": {
        "operationId": operation_id, "tags": ["tareas"], "summary": summary, "description": description,
        "responses": {"200": _json(_ref("Task"), "La tarea, tras el cambio."), **_errors(401, 403, 404, 409)},
    }}


PATHS = {
    "/openapi.json": {"get": {
        "operationId": "openapi", "tags": ["api"], "summary": "Este documento (OpenAPI 3.1)", "security": [],
        "responses": {"200": _json({"type": "object"}, "El documento OpenAPI.")},
    }},
    "/processes": {"get": {
        "operationId": "listProcesses", "tags": ["modelos"], "summary": "Procesos desplegados y sus versiones",
        "description": "Como `cpe models`. Por omisión solo procesos; `kind` elige decisiones, formularios o todo.",
        "parameters": [{"name": "kind", "in": "query", "required": False,
                        "schema": {"enum": ["process", "decision", "form", "all"], "default": "process"}}],
        "responses": {"200": _json(_ref("ModelList"), "Versiones desplegadas."), **_errors(400, 401)},
    }},
    "/cases": {
        "get": {
            "operationId": "listCases", "tags": ["casos"], "summary": "Casos (paginados, los más recientes primero)",
            "description": "Quien tiene región (salvo el analista) ve solo los casos de su región.",
            "parameters": [
                {"name": "page", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100000, "default": 1}},
                {"name": "per_page", "in": "query", "required": False,
                 "schema": {"type": "integer", "minimum": 1, "maximum": 100, "default": 25}},
                {"name": "q", "in": "query", "required": False, "description": "Busca en razón social o RUT.",
                 "schema": {"type": "string", "maxLength": 200, "pattern": NO_NUL}},
                {"name": "region", "in": "query", "required": False,
                 "description": "Código ISO 3166-2:CL; quien tiene región solo puede pedir la suya.",
                 "schema": {"type": "string", "pattern": NO_NUL, "examples": ["CL-RM"]}},
            ],
            "responses": {"200": _json(_ref("CasePage"), "Una página de casos."), **_errors(400, 401, 403)},
        },
        "post": {
            "operationId": "startCase", "tags": ["casos"], "summary": "Inicia un caso",
            "description": "Como `cpe start`. Pueden iniciar casos el analista y, en su región, los roles "
                           "ejecutivo_cpe y jefe_regional.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("StartCase")}}},
            "responses": {
                "201": _json(_ref("Case"), "El caso creado.",
                             {"Location": {"description": "URL del caso.", "schema": {"type": "string"}}}),
                **_errors(400, 401, 403, 404, 422),
            },
        },
    },
    "/cases/{case_id}": {
        "parameters": [{"$ref": "#/components/parameters/CaseId"}],
        "get": {
            "operationId": "getCase", "tags": ["casos"], "summary": "Estado, datos e historial de un caso",
            "description": "Como `cpe case`.",
            "responses": {"200": _json(_ref("Case"), "El caso."), **_errors(401, 403, 404)},
        },
    },
    "/tasks": {"get": {
        "operationId": "listTasks", "tags": ["tareas"], "summary": "Tareas listas que puedo trabajar",
        "description": "Como `cpe tasks --user`: las asignadas a mí y las del pool de mi rol y región "
                       "(a lo más 200), con el JSON Schema de su formulario.",
        "parameters": [{"name": "case_id", "in": "query", "required": False, "schema": CASE_ID}],
        "responses": {"200": _json(_ref("TaskList"), "Tareas listas."), **_errors(400, 401)},
    }},
    "/tasks/{task_id}": {
        "parameters": [{"$ref": "#/components/parameters/TaskId"}],
        "get": {
            "operationId": "getTask", "tags": ["tareas"], "summary": "Una tarea, con su formulario",
            "responses": {"200": _json(_ref("Task"), "La tarea."), **_errors(401, 403, 404)},
        },
    },
    "/tasks/{task_id}/complete": {
        "parameters": [{"$ref": "#/components/parameters/TaskId"}],
        "post": {
            "operationId": "completeTask", "tags": ["tareas"], "summary": "Valida y completa una tarea",
            "description": "Como `cpe complete`: el cuerpo son los datos del formulario. Si no cumplen el "
                           "formulario responde 422 con un mensaje por campo y la tarea sigue lista.",
            "requestBody": {"required": True, "content": {"application/json": {"schema": _ref("FormData")}}},
            "responses": {"200": _json(_ref("Completion"), "Tarea completada; estado del caso."),
                          **_errors(400, 401, 403, 404, 409, 422)},
        },
    },
    "/tasks/{task_id}/claim": {
        "parameters": [{"$ref": "#/components/parameters/TaskId"}],
        **_task_action("Toma una tarea del pool", "Queda asignada a quien la toma.", "claimTask"),
    },
    "/tasks/{task_id}/release": {
        "parameters": [{"$ref": "#/components/parameters/TaskId"}],
        **_task_action("Devuelve una tarea al pool", "Solo quien la tiene asignada.", "releaseTask"),
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "CPE Workflow API",
        "version": VERSION,
        "description": "API JSON del proceso de los Centros Pyme Exporta: los mismos verbos que el comando "
                       "`cpe` (procesos, casos, tareas, completar). Autenticación con un token personal "
                       "(`cpe tokens create USUARIO`) en la cabecera `Authorization: Bearer cpe_…`. Valen las "
                       "mismas reglas de rol y región que en la aplicación web. Los errores son "
                       "`{\"error\": \"…\", \"errors\": {campo: mensaje}}`.",
    },
    "servers": [{"url": "/api/v1"}],
    "security": [{"bearerAuth": []}],
    "tags": [{"name": "api"}, {"name": "modelos"}, {"name": "casos"}, {"name": "tareas"}],
    "paths": PATHS,
    "components": {
        "securitySchemes": {"bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "cpe_…",
                                           "description": "Token personal creado con `cpe tokens create`."}},
        "schemas": SCHEMAS,
        "responses": RESPONSES,
        "parameters": PARAMETERS,
    },
}


def document() -> dict:
    """A fresh copy of the document (callers may change it)."""
    return copy.deepcopy(DOCUMENT)
