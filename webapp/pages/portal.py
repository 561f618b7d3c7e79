"""Company portal (no account): register and take the TPE online, then follow the case
through a private link (SPEC §7). Calls only the engine's portal functions and verbs."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import format_datetime
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from engine.basics.errors import Conflict, FormError, NotFound, ValueRefused
from engine.cases.drafts import load_draft, save_draft
from engine.programme import portal, workshops
from webapp.shared import formrender
from webapp.shared.context import current_engine
from webapp.shared.error_responses import back_on_failure, field_errors

bp = Blueprint("portal", __name__, url_prefix="/portal")

STAGE_LABELS = {
    "registro": _l("Registro"), "tpe": _l("Test de Potencialidad Exportadora"), "entrevista": _l("Entrevista"),
    "clasificacion": _l("Clasificación"), "capacitacion": _l("Capacitación y asesoría"),
    "exportacion": _l("Primera exportación"),
}
PLACES = {"empresa": _l("En la empresa"), "oficina_cpe": _l("En la oficina del CPE"),
          "remota": _l("Remota (videollamada)")}  # forms/agendar_entrevista.json lugar_entrevista
DRAFT_OWNER = portal.PORTAL_ACTOR


def _process_id() -> str:
    return current_app.config["PORTAL_PROCESS"]


def _link(token) -> str:
    return url_for("portal.home", token=token, _external=True)


def _compose(token):
    """The email that carries a private link (queued in the outbox)."""
    return (_("Su enlace al portal Centros Pyme Exporta"),
            _("Hola. Este es su enlace privado para seguir el avance de su empresa en el programa "
              "Centros Pyme Exporta de ProChile: %(link)s\n\nNo lo comparta: quien tenga el enlace puede ver "
              "el estado de su empresa. Vence en %(days)s días; puede pedir uno nuevo en el portal.",
              link=_link(token), days=portal.LINK_DAYS))


def _compose_notice(token):
    """The email to a registered company when someone registers its RUT again (nothing changed)."""
    return (_("Alguien pidió registrar su empresa en el portal Centros Pyme Exporta"),
            _("Hola. Alguien pidió registrar su empresa en el portal Centros Pyme Exporta de ProChile con el "
              "RUT de su empresa. Su empresa ya está registrada: no cambiamos ningún dato ni iniciamos un "
              "proceso nuevo.\n\nSi quiere volver a ingresar, seguir su caso o postular de nuevo, use este "
              "enlace privado: %(link)s\n\nSi no fue usted, puede ignorar este mensaje. No comparta el enlace: "
              "quien lo tenga puede ver el estado de su empresa. Vence en %(days)s días.",
              link=_link(token), days=portal.LINK_DAYS))


def _start_schema():
    """The start form of the portal's process, or an error page (503) if it is not deployed."""
    try:
        return current_engine().start_form(_process_id()) or {"type": "object", "properties": {}}, None
    except NotFound:
        message = _("El registro en línea no está disponible: el proceso «%(process)s» no está desplegado. "
                    "Contacte a su Centro Pyme Exporta.", process=_process_id())
        return None, (render_template("errors/error.html", code=503, message=message), 503)


def _company_or_404(token) -> int:
    company_id = portal.company_for_token(current_engine(), token)
    if company_id is None:
        abort(404)
    return company_id


@bp.after_request
def private(response):
    """Private pages carry a secret in their address: never cache them, never leak it."""
    if request.view_args and "token" in request.view_args:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Referrer-Policy"] = "no-referrer"
    return response


@bp.get("/")
def landing():
    return render_template("portal/landing.html", stages=STAGE_LABELS)


@bp.route("/registro", methods=["GET", "POST"])
def register():
    schema, unavailable = _start_schema()
    if unavailable:
        return unavailable
    values, errors = {}, {}
    if request.method == "POST":
        values = formrender.parse(schema, request.form)
        try:
            portal.register(current_engine(), _process_id(), values, _compose, _compose_notice)
        except (FormError, ValueRefused) as exc:
            errors = field_errors(exc)
        except ValueError as exc:  # the RUT, before anything else is checked
            errors = {"rut": str(exc)}
        else:
            # The same answer whether or not the RUT was registered: the link goes only by email,
            # to a new company or, for a registered one, to the email already on file.
            flash(_("Si los datos son correctos, le enviamos a su correo de contacto el enlace privado para "
                    "continuar (responder el TPE, seguir su caso)."), "info")
            return redirect(url_for(".landing"))
    return render_template("portal/register.html", schema=schema, errors=errors,
                           fields=formrender.fields(schema, values, errors)), (422 if errors else 200)


@bp.route("/enlace", methods=["GET", "POST"])
def request_link():
    if request.method == "POST":
        portal.send_link(current_engine(), request.form.get("rut", "")[:20], _compose)
        # The same answer whether or not the RUT is registered: nothing is revealed.
        flash(_("Si el RUT está registrado, enviamos un enlace nuevo al correo de contacto de la empresa."), "info")
        return redirect(url_for(".landing"))
    return render_template("portal/link.html")


@bp.get("/e/<token>")
def home(token):
    company_id = _company_or_404(token)
    info = portal.overview(current_engine(), company_id)
    return render_template("portal/home.html", token=token, info=info, stages=STAGE_LABELS,
                           in_progress=portal.IN_PROGRESS, link_days=portal.LINK_DAYS, places=PLACES,
                           sessions=workshops.sessions_for_company(current_engine(), company_id),
                           my_workshops=workshops.company_workshops(current_engine(), company_id))


@bp.route("/e/<token>/postular", methods=["GET", "POST"])
def start_again(token):
    """A registered company (a returning one, or one added by the team) starts a new process:
    the registration form filled in with its data on file, its RUT fixed."""
    company_id = _company_or_404(token)
    schema, unavailable = _start_schema()
    if unavailable:
        return unavailable
    schema = dict(schema, properties={k: v for k, v in schema.get("properties", {}).items() if k != "rut"},
                  required=[k for k in schema.get("required", []) if k != "rut"])
    info = portal.overview(current_engine(), company_id)
    in_progress = _("Su empresa ya tiene un proceso en curso: siga sus próximos pasos en esta página.")
    if info["case"] and info["case"]["status"] in portal.IN_PROGRESS:
        flash(in_progress, "info")
        return redirect(url_for(".home", token=token))
    errors = {}
    if request.method == "POST":
        values = formrender.parse(schema, request.form)
        try:
            with back_on_failure(url_for(".home", token=token), Conflict, category="info", prefix=in_progress):
                portal.start_again(current_engine(), _process_id(), company_id, values)
        except (FormError, ValueRefused) as exc:
            errors = field_errors(exc)
        else:
            flash(_("Comenzó un nuevo proceso. Su siguiente paso aparece en esta página."), "success")
            return redirect(url_for(".home", token=token))
    else:
        values = portal.company_values(current_engine(), company_id)
    return render_template("portal/start_again.html", token=token, company=info["company"], errors=errors,
                           schema=schema, fields=formrender.fields(schema, values, errors)), (422 if errors else 200)


@bp.post("/e/<token>/talleres/<int:session_id>")
def register_workshop(token, session_id):
    """The company registers itself in a session open to it (its region, national or online)."""
    company_id = _company_or_404(token)
    with back_on_failure(url_for(".home", token=token), Conflict):  # the message: at the top of the page
        session = workshops.get_session(current_engine(), session_id)
        workshops.register(current_engine(), session_id, company_id, portal.PORTAL_ACTOR, self_service=True)
    flash(_("Quedó inscrita en «%(name)s» del %(date)s. Le esperamos.", name=session["workshop"],
            date=format_datetime(session["starts_at"], "dd-MM-yyyy HH:mm")), "success")
    return redirect(url_for(".home", token=token, _anchor="talleres"))


@bp.post("/e/<token>/talleres/<int:session_id>/anular")
def unregister_workshop(token, session_id):
    """The company cancels its own registration before the session starts."""
    company_id = _company_or_404(token)
    with back_on_failure(url_for(".home", token=token), Conflict):
        workshops.unregister(current_engine(), session_id, company_id)
    flash(_("Anulamos su inscripción. El cupo queda disponible para otra empresa."), "success")
    return redirect(url_for(".home", token=token, _anchor="talleres"))


@bp.route("/e/<token>/tareas/<task_id>", methods=["GET", "POST"])
def task(token, task_id):
    company_id = _company_or_404(token)
    with back_on_failure(url_for(".home", token=token), Conflict, category="info"):
        task = portal.company_task(current_engine(), company_id, task_id)
    schema = task["form"] or {"type": "object", "properties": {}}
    values, errors, restored, status = {}, {}, None, 200
    if request.method == "POST":
        values = formrender.parse(schema, request.form)
        try:
            with back_on_failure(url_for(".home", token=token), Conflict, category="info"):
                if request.form.get("accion") == "borrador":
                    draft = save_draft(current_engine(), task_id, DRAFT_OWNER, values)
                    flash(_("Borrador guardado. Puede volver a esta página con su enlace y seguir donde quedó."),
                          "success")
                    restored = draft["updated_at"]
                else:
                    current_engine().complete(task_id, values, actor=DRAFT_OWNER)
                    flash(_("¡Gracias! Recibimos sus respuestas de «%(name)s».", name=task["name"]), "success")
                    return redirect(url_for(".home", token=token))
        except (FormError, ValueRefused) as exc:
            errors, status = field_errors(exc), 422
        except ValueError as exc:
            flash(_("No se guardó el borrador: %(reason)s", reason=str(exc)), "error")
            status = 422
    else:
        draft = load_draft(current_engine(), task_id, DRAFT_OWNER)
        if draft is not None:
            values, restored = draft["data"], draft["updated_at"]
    return render_template("portal/task.html", token=token, task=task, schema=schema, errors=errors,
                           restored=restored, fields=formrender.fields(schema, values, errors)), status
