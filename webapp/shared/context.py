"""The Engine of the running app (built by create_app, or handed to it in the ENGINE setting)."""

from __future__ import annotations

from flask import current_app


def current_engine():
    return current_app.extensions["cpe_engine"]
