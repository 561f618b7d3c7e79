"""Errors a person can act on (messages in Spanish), and how each is told: `describe` gives the
HTTP status, the texts, the fields and the exit code that the web pages, the JSON API and the
`cpe` command all read (webapp/shared/error_responses.py, webapp/api/routes.py, cli/main.py)."""

from __future__ import annotations

from dataclasses import dataclass, field


class EngineError(Exception):
    pass


class NotFound(EngineError):
    pass


class Forbidden(EngineError):
    pass


class Conflict(EngineError):
    """The task or case changed meanwhile (completed by someone else, stale version)."""


class BrokenModel(EngineError):
    """A stored model version that today's rules refuse (e.g. a form stored before a check
    existed): it cannot be used until a valid version is deployed."""


class FormError(ValueError):
    """A submission that does not satisfy its form; `errors` maps field path → message."""

    def __init__(self, errors: dict[str, str]):
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" if k else v for k, v in errors.items()))


class ValueRefused(EngineError, ValueError):
    """A value that a case may not hold (engine/basics/case_values.py); `path` says where (dotted
    keys and [indexes])."""

    def __init__(self, path: str, reason: str):
        self.path = path
        self.reason = reason
        where = f"en «{path}»" if path else "en el valor"
        super().__init__(f"Valor no permitido {where}: {reason}.")


@dataclass
class Problem:
    """One reason a set of model files cannot be deployed, where an analyst finds it. A "warning"
    is told by validate and deploy but does not refuse the deploy (e.g. an exclusive gateway
    without a default flow: the case stops with an error only if no condition holds)."""

    file: str
    line: int | None
    element: str
    message: str
    severity: str = "error"  # error | warning

    def __str__(self):
        kind = "aviso: " if self.severity == "warning" else ""
        return f"{self.file}:{self.line or 0}: {self.element}: {kind}{self.message}"


def errors_of(problems) -> list[Problem]:
    """The problems that refuse a deploy (warnings left out)."""
    return [p for p in problems if p.severity != "warning"]


class DeployError(Exception):
    def __init__(self, problems: list[Problem]):
        self.problems = problems
        super().__init__("\n".join(map(str, problems)))


HTTP_STATUS = {NotFound: 404, Forbidden: 403, Conflict: 409, BrokenModel: 422, ValueRefused: 422,
               FormError: 422, DeployError: 422}  # not listed (a plain EngineError, bugs): 500
FORM_MESSAGE = "Revise los campos marcados."


@dataclass(frozen=True)
class Outcome:
    """How a person is told of an error. `status`: the HTTP status (None: not one of
    HTTP_STATUS); `text`: the error's own text (the CLI and the HTML pages show it);
    `message`: the API's sentence; `fields`: field path → message; `problems`: a deploy's
    problems, one line each; `exit_code`: the CLI's."""

    status: int | None
    text: str
    message: str
    fields: dict = field(default_factory=dict)
    problems: tuple[str, ...] = ()
    exit_code: int = 1


def describe(exc: BaseException) -> Outcome | None:
    """The Outcome of an error a person can act on; None for anything else (a bug)."""
    if not isinstance(exc, (EngineError, FormError, DeployError)):
        return None
    status = next((HTTP_STATUS[kind] for kind in type(exc).__mro__ if kind in HTTP_STATUS), None)
    text = str(exc)
    if isinstance(exc, FormError):
        return Outcome(status, text, FORM_MESSAGE, fields=dict(exc.errors))
    if isinstance(exc, ValueRefused):
        return Outcome(status, text, sentence(text), fields={exc.path: text} if exc.path else {})
    if isinstance(exc, DeployError):
        return Outcome(status, text, sentence(text), problems=tuple(str(p) for p in exc.problems))
    return Outcome(status, text, sentence(text))


def sentence(text: str) -> str:
    """The text with a capital first letter, as a sentence on its own."""
    return text[:1].upper() + text[1:] if text else text
