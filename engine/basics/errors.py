"""Errors a person can act on; messages are in Spanish."""


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
