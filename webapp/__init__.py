"""Flask application factory: builds the app from configuration and registers each part."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from flask import Flask, redirect, request, session, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from engine.assembly import build_engine
from engine.basics.installation import instance_dir
from engine.domain import roles
from engine.programme import shipped
from webapp.shared.extensions import LANGUAGES, babel, csrf, login_manager


def create_app(config: dict | None = None) -> Flask:
    app = Flask(__name__, instance_path=str(instance_dir()))  # CPE_INSTANCE_DIR: engine/basics/installation.py
    from webapp.shared.strictjson import StrictJSONProvider

    app.json = StrictJSONProvider(app)  # jsonify never writes NaN nor invalid Unicode (strictjson.py)
    app.config.from_mapping(
        DATABASE_URL=os.environ.get("CPE_DATABASE_URL"),
        SECRET_KEY=os.environ.get("CPE_SECRET_KEY"),
        PROCESSES_DIR=str(shipped.processes_dir()),
        FORMS_DIR=str(shipped.forms_dir()),
        BABEL_DEFAULT_LOCALE="es_CL",
        BABEL_DEFAULT_TIMEZONE="America/Santiago",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=os.environ.get("CPE_SECURE_COOKIES", "0") == "1",
        REMEMBER_COOKIE_HTTPONLY=True,
        WTF_CSRF_TIME_LIMIT=None,
        MAX_CONTENT_LENGTH=2 * 1024 * 1024,
        PORTAL_PROCESS=os.environ.get("CPE_PORTAL_PROCESS", "cpe_actual"),
        PROXY_HOPS=os.environ.get("CPE_PROXY_HOPS", "0"),
        MAIL_SENT=bool((os.environ.get("CPE_SMTP_URL") or "").strip()),  # the workers send (else: /correo/ only)
    )
    if config:
        app.config.update(config)
    if not app.config["SECRET_KEY"]:
        app.config["SECRET_KEY"] = _instance_secret(Path(app.instance_path))
    engine = app.config.get("ENGINE") or build_engine(url=app.config["DATABASE_URL"], instance_dir=app.instance_path)
    app.extensions["cpe_engine"] = engine
    from webapp.shared.proxy import trust_proxies

    trust_proxies(app)

    login_manager.init_app(app)
    login_manager.login_view = "auth.login"
    login_manager.login_message = _l("Inicie sesión para continuar.")
    csrf.init_app(app)
    babel.init_app(app, locale_selector=_locale)

    from webapp.api import routes as api
    from webapp.pages import audit, auth, cases, inbox, models, portal, tasks, workshops
    from webapp.shared import error_responses, filters, vendor

    app.register_blueprint(auth.bp)
    app.register_blueprint(inbox.bp)
    app.register_blueprint(tasks.bp)
    app.register_blueprint(cases.bp)
    app.register_blueprint(vendor.bp)
    app.register_blueprint(portal.bp)
    app.register_blueprint(models.bp)
    from webapp.pages import model_editors

    app.register_blueprint(model_editors.bp)
    from webapp.pages import simulation

    app.register_blueprint(simulation.bp)
    app.register_blueprint(api.bp)
    app.register_blueprint(workshops.bp)
    app.register_blueprint(audit.bp)
    from webapp.pages import benefits

    app.register_blueprint(benefits.bp)
    from webapp.pages import indicators

    app.register_blueprint(indicators.bp)
    from webapp.pages import company_records

    app.register_blueprint(company_records.bp)
    from webapp.pages import outbox

    app.register_blueprint(outbox.bp)
    error_responses.init_app(app)
    filters.init_app(app)

    @app.get("/")
    def home():
        return redirect(url_for("inbox.index") if current_user.is_authenticated else url_for("auth.login"))

    @app.get("/salud")
    def health():
        """For a load balancer or a deploy script: 200 once this process serves requests (no session,
        no database query; `cpe db upgrade` is what checks the database)."""
        return {"estado": "ok"}

    @app.before_request
    def refuse_nul():
        """A NUL character in the address, a query parameter or a posted field: no browser form
        sends one and PostgreSQL cannot store or compare it, so the request is refused before any
        page sees it (changing nothing)."""
        fields = request.form.items(multi=True) if request.method in ("POST", "PUT", "PATCH") else ()
        texts = [request.path, *(part for pair in request.args.items(multi=True) for part in pair),
                 *(part for pair in fields for part in pair)]
        if any("\x00" in text for text in texts):
            message = _("La solicitud contiene un carácter nulo, que no se admite: quítelo del texto e intente "
                        "de nuevo.")
            return api.error_response(400, message) if api.is_api_path() else error_responses.page(400, message)

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy",
                                    "default-src 'self'; img-src 'self' data:; font-src 'self' data:; "
                                    "object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'")
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("X-Frame-Options", "DENY")
        response.headers.setdefault("Referrer-Policy", "same-origin")
        return response

    @app.context_processor
    def globals_for_templates():
        return {"languages": LANGUAGES, "current_language": _locale(), "roles": roles}

    return app


def _locale():
    """Spanish (Chile) unless the person chose another language with the switch."""
    chosen = session.get("language")
    return chosen if chosen in LANGUAGES else "es_CL"


def _instance_secret(folder: Path) -> str:
    """A per-installation secret kept under instance/, so sessions survive restarts."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "secret_key"
    if not path.exists():
        path.write_text(secrets.token_hex(32))
        path.chmod(0o600)
    return path.read_text().strip()
