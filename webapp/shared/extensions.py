"""The Flask extensions every part of the web app shares (created once, bound by create_app) and the
languages the interface offers."""

from __future__ import annotations

from flask_babel import Babel
from flask_login import LoginManager
from flask_wtf.csrf import CSRFProtect

LANGUAGES = {"es_CL": "Español", "en": "English"}

login_manager = LoginManager()
csrf = CSRFProtect()
babel = Babel()
