"""Login, logout and the language switch."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, session, url_for
from flask_babel import gettext as _
from flask_login import UserMixin, current_user, login_required, login_user, logout_user

from . import LANGUAGES, login_manager

bp = Blueprint("auth", __name__)

ROLE_NAMES = {
    "analista": "Analista de procesos", "ejecutivo_cpe": "Ejecutivo(a) CPE",
    "ejecutivo_prochile": "Ejecutivo(a) ProChile", "jefe_regional": "Jefe(a) regional", "pyme": "Empresa",
}


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
        return ROLE_NAMES.get(self.role, self.role)


@login_manager.user_loader
def load_user(username):
    user = current_app.extensions["cpe_engine"].get_user(username)
    return UserProxy(user) if user is not None and user.active else None


def _safe_next(target):
    return target if target and target.startswith("/") and not target.startswith("//") else None


@bp.route("/ingresar", methods=["GET", "POST"])
def login():
    if current_user.is_authenticated:
        return redirect(url_for("inbox.index"))
    error = None
    if request.method == "POST":
        username = request.form.get("username", "").strip().lower()[:80]
        password = request.form.get("password", "")[:200]
        user = current_app.extensions["cpe_engine"].authenticate(username, password) if username else None
        if user is None:
            error = _("Usuario o contraseña incorrectos.")
        else:
            session.clear()
            login_user(UserProxy(user))
            return redirect(_safe_next(request.args.get("next")) or url_for("inbox.index"))
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
    return redirect(_safe_next(request.form.get("next")) or url_for("home"))
