"""Login, logout and the language switch."""

from __future__ import annotations

import math
from datetime import timedelta

from flask import Blueprint, abort, flash, redirect, render_template, request, session, url_for
from flask_babel import format_time
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from engine.accounts import logins
from engine.domain import roles
from webapp.shared.context import current_engine
from webapp.shared.extensions import LANGUAGES, login_manager
from webapp.shared.redirects import safe_next

bp = Blueprint("auth", __name__)

class UserProxy(UserMixin):
    """The logged-in person as the web app sees them (no database object leaks into views)."""

    def __init__(self, user):
        self.id = user.username
        self.username = user.username
        self.role = user.role
        self.region = user.region
        self.full_name = user.full_name or user.username

    @property
    def role_name(self):
        return roles.LABELS.get(self.role, self.role)

    @property
    def region_scope(self):
        """The region this person is limited to (None: every region)."""
        return roles.region_scope(self)

    def may(self, permission: str) -> bool:
        return roles.may(self, permission)


@login_manager.user_loader
def load_user(username):
    user = current_engine().get_user(username)
    # companies (role pyme) use the portal's private link, never a staff session
    return UserProxy(user) if user is not None and user.active and roles.may(user, roles.SIGN_IN) else None


@bp.route("/ingresar", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip().lower()[:80]
        password = request.form.get("password", "")[:200]
        engine = current_engine()
        # Locked (too many recent failures for this username or from this address): the
        # password is not checked and the answer is the same whether the username exists or not.
        allowed, retry_after = logins.check_allowed(engine, username, request.remote_addr)
        if not allowed:
            error = _("Demasiados intentos fallidos. Intente de nuevo a las %(hora)s (en %(minutos)s min).",
                      hora=format_time(engine.now() + timedelta(seconds=retry_after), "HH:mm"),
                      minutos=math.ceil(retry_after / 60))
            return (render_template("auth/login.html", error=error), 429,
                    {"Retry-After": str(retry_after)})
        user = engine.authenticate(username, password) if username else None
        logins.record(engine, username, request.remote_addr, success=user is not None)
        if user is None:
            error = _("Usuario o contraseña incorrectos.")
        elif not roles.may(user, roles.SIGN_IN):
            return render_template("auth/login.html", error=_(
                "Las empresas no ingresan aquí: use el enlace privado del portal de empresas.")), 403
        else:
            session.clear()
            login_user(UserProxy(user))
            return redirect(safe_next(request.args.get("next")) or url_for("inbox.index"))
    return render_template("auth/login.html", error=error), (401 if error else 200)


@bp.post("/salir")
@login_required
def logout():
    logout_user()
    flash(_("Sesión cerrada."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/idioma/<code>")
def language(code):
    if code not in LANGUAGES:
        abort(404)
    session["language"] = code
    return redirect(safe_next(request.form.get("next")) or url_for("home"))
