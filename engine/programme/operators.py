"""The service-task operators analysts may call from a diagram (SPEC §4).

`OPERATORS` is the single table that maps an operator id to its parameters and its
Python implementation; the Engine holds it (engine.assembly.build_engine), and deploy-time
checks, the runtime and the catalogue read it from there. Implementations get a
`ServiceContext` (the case, the database session, the clock) and validated parameters
(engine/operators/checks.py), and return a JSON-serialisable dict.
"""

from __future__ import annotations

from sqlalchemy import func, select

from engine.basics.clock import as_utc, iso_utc
from engine.cases.reassign import reassign
from engine.domain import validity
from engine.domain.assignment import (
    EXECUTIVE_CAP,
    HEAD_DECISIONS,
    REDISTRIBUTION_MODES,
    choose_executive,
    head_choice,
    redistribution_plan,
)
from engine.domain.derivation import VALID_MOTIVOS, derive
from engine.domain.regions import REGIONS
from engine.domain.roles import JEFE_REGIONAL, LABELS, PYME, ROLES
from engine.domain.scoring import score_questionnaire
from engine.domain.sizing import classify_size
from engine.operators import checks, deadline, dispatch
from engine.operators.dispatch import Operator, ServiceContext, ServiceError
from engine.programme import benefits
from engine.programme.workshops import attended_workshops, enrol_next_sessions
from engine.store.schema import (
    Activity,
    Case,
    Company,
    CompanyExport,
    Derivation,
    OutboxMessage,
    Tpe,
    TpeHistory,
    User,
    Workshop,
)

TPE_VALID_DAYS = 365
DESTINATARIOS = (PYME, "ejecutivo", JEFE_REGIONAL)


def _benefit(value):
    return benefits.check_benefit(value)


def _period(value):
    return benefits.check_period(value)


# -- implementations ------------------------------------------------------------------

def _company(ctx: ServiceContext) -> Company | None:
    if ctx.case.company_id is None:
        return None
    return ctx.session.get(Company, ctx.case.company_id)


def verificar_tamano(ctx, ventas_uf):
    return classify_size(ventas_uf)


def puntaje_formulario(ctx, formulario, respuestas, registrar=None):
    """The score of a scored questionnaire. The result keeps the answers it scored (`respuestas`), so a
    later form may show them again (`x-default-from`, e.g. the interview at a re-evaluation). When the
    form is the company's register (`x-registro: tpe`) the answers become the company's single TPE,
    with a history row of who gave them and when, unless `registrar` is false (answers read back
    from the stored TPE: scored, not a new revision)."""
    form = ctx.form(formulario)
    try:
        result = score_questionnaire(form.schema, respuestas)
    except ValueError as exc:
        raise ServiceError("puntaje_formulario", str(exc)) from None
    result.update(formulario=formulario, version=form.version, respuestas=respuestas)
    if form.schema.get("x-registro") == "tpe" and registrar is not False:
        _store_tpe(ctx, form, respuestas, result)
    return result


def _store_tpe(ctx, form, respuestas, result):
    """Keep the company's single TPE up to date; every submission is kept in the history with who gave
    it (the user who completed the task, `pyme` for the company in its portal) and when."""
    company = _company(ctx)
    if company is None:
        return
    from datetime import timedelta

    if ctx.session.get_bind().dialect.name == "postgresql":
        # two cases of one company scoring a TPE at once: the second waits here instead of
        # inserting a second Tpe row and failing on the unique company_id
        ctx.session.execute(select(Company.id).where(Company.id == company.id).with_for_update())
    tpe = ctx.session.scalar(select(Tpe).where(Tpe.company_id == company.id))
    if tpe is None:
        tpe = Tpe(company_id=company.id, revision=0)
        ctx.session.add(tpe)
    tpe.form_key, tpe.form_version = form.key, form.version
    tpe.respuestas, tpe.puntaje, tpe.dimensiones = respuestas, result["puntaje"], result["dimensiones"]
    tpe.submitted_at, tpe.valid_until = ctx.now, ctx.now + timedelta(days=TPE_VALID_DAYS)
    tpe.revision = (tpe.revision or 0) + 1
    ctx.session.add(TpeHistory(
        company_id=company.id, case_id=ctx.case.id, revision=tpe.revision, form_key=form.key,
        form_version=form.version, respuestas=respuestas, puntaje=result["puntaje"],
        dimensiones=result["dimensiones"], submitted_at=ctx.now, submitted_by=ctx.actor,
    ))


def tpe_guardado(ctx, formulario=None, vigencia_meses=None):
    """The company's stored TPE (thesis §3.4.2: one TPE per company, "actualizados en el TPE guardado
    por el ejecutivo"): `existe`, `vigente` (stored with form `formulario`, if given, and answered or
    updated less than `vigencia_meses` calendar months ago by the engine's clock, if given),
    `formulario`, `respuestas` (empty if none), `puntaje`, `revision`, `fecha` and `vigente_hasta` (ISO,
    UTC). A diagram reuses a valid TPE instead of asking the company again, and shows the stored
    answers to the executive who updates them (`x-default-from: tpe_guardado.respuestas`)."""
    company = _company(ctx)
    tpe = ctx.session.scalar(select(Tpe).where(Tpe.company_id == company.id)) if company else None
    if tpe is None:
        return {"existe": False, "vigente": False, "formulario": None, "respuestas": {}, "puntaje": None,
                "revision": 0, "fecha": None, "vigente_hasta": None}
    since = as_utc(tpe.submitted_at)
    until = validity.valid_until(since, vigencia_meses) if vigencia_meses is not None else None
    vigente = (formulario is None or tpe.form_key == formulario) and (
        vigencia_meses is None or validity.still_valid(since, ctx.now, vigencia_meses))
    return {"existe": True, "vigente": vigente, "formulario": tpe.form_key, "respuestas": tpe.respuestas or {},
            "puntaje": tpe.puntaje, "revision": tpe.revision, "fecha": iso_utc(since), "vigente_hasta": iso_utc(until)}


def _loads(ctx, names: list[str]) -> dict[str, int]:
    """How many active cases each of the users `names` has in charge (only theirs: not a scan of every
    active case); a user with none is absent."""
    return dict(ctx.session.execute(
        select(Case.ejecutivo, func.count()).where(Case.status == "active", Case.ejecutivo.in_(names))
        .group_by(Case.ejecutivo)
    ).all()) if names else {}


def _candidates(ctx, rol, region) -> list[dict]:
    """The active users of `rol` in `region` with their load: the active cases in their charge
    (this case not counted, so assigning it again does not count it twice)."""
    users = ctx.session.scalars(
        select(User).where(User.role == rol, User.region == region, User.active.is_(True)).order_by(User.username)
    ).all()
    loads = _loads(ctx, [u.username for u in users])
    return [
        {"username": u.username, "nombre": u.full_name or u.username, "rubros": list(u.rubros or []),
         "carga": loads.get(u.username, 0) - (1 if ctx.case.ejecutivo == u.username else 0)}
        for u in users
    ]


def asignar_ejecutivo(ctx, rol, region, rubro=None):
    choice = choose_executive(_candidates(ctx, rol, region), rubro, cap=EXECUTIVE_CAP)
    if choice.get("ejecutivo"):
        ctx.case.ejecutivo = choice["ejecutivo"]
        choice["carga"] = choice["carga"] + 1
    return choice


def cargas_ejecutivos(ctx, rol, region):
    """The users of `rol` in `region` and how many open cases each has in charge (what the regional
    head sees to assign a company nobody could take, §3.4.2 block 4), also as one line of text."""
    people = _candidates(ctx, rol, region)
    gone = _inactive_with_cases(ctx, rol, region)  # one who left still holds cases to hand over
    listed = [{"usuario": p["username"], "nombre": p["nombre"], "carga": p["carga"], "rubros": p["rubros"],
               "activo": True} for p in people] + gone
    if not people and not gone:
        resumen = f"Sin usuarios activos con el rol {LABELS.get(rol, rol)} en la región."
    else:
        resumen = "; ".join(f"{p['usuario']}" + (f" ({p['nombre']})" if p["nombre"] != p["usuario"] else "")
                            + ("" if p["activo"] else " [desactivado]")
                            + f": {p['carga']} de {EXECUTIVE_CAP} empresas"
                            + (f", rubros {', '.join(p['rubros'])}" if p["rubros"] else "") for p in listed)
    return {"ejecutivos": listed, "resumen": resumen, "tope": EXECUTIVE_CAP,
            "disponibles": sum(1 for p in people if p["carga"] < EXECUTIVE_CAP)}


def _inactive_with_cases(ctx, rol, region) -> list[dict]:
    """The inactive users of `rol` in `region` still in charge of active cases, with how many."""
    users = ctx.session.scalars(select(User).where(User.role == rol, User.region == region,
                                                   User.active.is_(False)).order_by(User.username)).all()
    loads = _loads(ctx, [u.username for u in users])
    return [{"usuario": u.username, "nombre": u.full_name or u.username, "carga": loads[u.username],
             "rubros": list(u.rubros or []), "activo": False} for u in users if loads.get(u.username)]


def fijar_ejecutivo(ctx, decision, rol, region, usuario=None, rubro=None):
    """Put the executive the regional head chose in charge of the case (§3.4.2 block 4). A choice that
    does not fit (unknown user, other role or region, inactive) changes nothing and comes back as
    `{"ejecutivo": None, "motivo": ...}`, so the diagram can ask again."""
    account = None
    if usuario:
        user = ctx.session.scalar(select(User).where(User.username == usuario))
        if user is not None:
            account = {"role": user.role, "region": user.region, "active": bool(user.active)}
    choice = head_choice(_candidates(ctx, rol, region), decision, usuario, rol, region, rubro=rubro,
                         account=account, role_label=LABELS.get(rol, rol), region_label=REGIONS.get(region, region))
    if choice["ejecutivo"]:
        ctx.case.ejecutivo = choice["ejecutivo"]
    return choice


def _account(ctx, username) -> dict | None:
    """The user `username` wherever it is (role, region, active, rubros, and its load: the active cases
    in its charge), None if there is none."""
    if not username:
        return None
    user = ctx.session.scalar(select(User).where(User.username == username.strip()))
    if user is None:
        return None
    return {"role": user.role, "region": user.region, "active": bool(user.active),
            "carga": _loads(ctx, [user.username]).get(user.username, 0),
            "rubros": list(user.rubros or [])}


def redistribuir_casos(ctx, rol, region, desde, hacia, modo, cantidad=None, casos=None, variable=None):
    """Move open cases of one executive (`desde`) to another (`hacia`) of `rol` in `region`, as the
    regional head decided (§3.4.2 block 4; the choice is engine/domain/assignment.redistribution_plan):
    `modo` `todas`, `cantidad` (with `cantidad`) or `indicadas` (with `casos`, their numbers). Each moved
    case gets `hacia` as executive in charge, its ready tasks assigned to `desde` go to `hacia`, the case
    variable `variable` (the one the diagram's `asignadoA` reads, e.g. `responsable`) is rewritten where it
    named `desde`, and its history says who moved it. Never over the cap of 50: a plan that does not fit,
    or names a user or a case that does not fit, changes nothing and comes back with `motivo`."""
    desde_name, hacia_name = (desde or "").strip(), (hacia or "").strip()
    open_cases = [{"id": case_id, "rubro": rubro} for case_id, rubro in ctx.session.execute(
        select(Case.id, Case.rubro).where(Case.status == "active", Case.ejecutivo == desde_name,
                                          Case.region == region).order_by(Case.id)).all()] if desde_name else []
    plan = redistribution_plan(open_cases, desde_name, hacia_name, modo, source=_account(ctx, desde_name),
                               target=_account(ctx, hacia_name), role=rol, region=region, cantidad=cantidad,
                               indicadas=casos, role_label=LABELS.get(rol, rol),
                               region_label=REGIONS.get(region, region))
    if plan["motivo"]:
        return {**plan, "movidos": [], "resumen": plan["motivo"]}
    reason = f"Redistribución de cartera (caso #{ctx.case.id})"
    moved = [case_id for case_id in plan["casos"]
             if reassign(ctx.session, case_id, desde_name, hacia_name, ctx.now, ctx.actor, variable, reason)]
    missed = len(plan["casos"]) - len(moved)  # a case closed or reassigned since the plan was read
    loads = {"carga_desde": plan["carga_desde"] + missed, "carga_hacia": plan["carga_hacia"] - missed}
    listed = ", ".join(f"#{n}" for n in moved) or "ninguna"
    return {**plan, **loads, "movidos": moved,
            "resumen": f"{len(moved)} empresa(s) pasaron de {desde_name} a {hacia_name}: {listed}. "
                       f"{desde_name} queda con {loads['carga_desde']} y {hacia_name} con {loads['carga_hacia']} "
                       f"de {EXECUTIVE_CAP}."}


def derivar(ctx, motivo, region, institucion=None):
    try:
        result = derive(motivo, region, ctx.now.date(), institucion=institucion)
    except ValueError as exc:
        raise ServiceError("derivar", str(exc)) from None
    company = _company(ctx)
    ctx.session.add(Derivation(
        case_id=ctx.case.id, company_id=company.id if company else None, motivo=motivo, region=region,
        institucion=result["institucion"], contacto=result["contacto"], direccion=result["direccion"],
        fecha=result["fecha"], created_at=ctx.now,
    ))
    return result


def registrar_sra(ctx, tipo, detalle):
    company = _company(ctx)
    activity = Activity(case_id=ctx.case.id, company_id=company.id if company else None,
                        tipo=tipo, detalle=detalle, created_at=ctx.now)
    ctx.session.add(activity)
    ctx.session.flush()
    return {"actividad_id": activity.id}


def registrar_exportacion(ctx, pais, fecha, monto_usd, producto):
    """Keep an export the company reported (registry, SPEC §6): country, date, amount, product."""
    company = _company(ctx)
    export = CompanyExport(company_id=company.id if company else None, case_id=ctx.case.id, pais=pais,
                           fecha=fecha, monto_usd=monto_usd, producto=producto, created_at=ctx.now)
    ctx.session.add(export)
    ctx.session.flush()
    return {"exportacion_id": export.id}


def notificar(ctx, destinatario, asunto, mensaje, region=None):
    address = None
    if destinatario == PYME:
        company = _company(ctx)
        address = company.contacto_email if company else None
    elif destinatario == "ejecutivo" and ctx.case.ejecutivo:
        address = ctx.session.scalar(select(User.email).where(User.username == ctx.case.ejecutivo))
    elif destinatario == JEFE_REGIONAL:
        address = ctx.session.scalar(select(User.email).where(
            User.role == JEFE_REGIONAL, User.region == (region or ctx.case.region), User.active.is_(True)))
    message = OutboxMessage(case_id=ctx.case.id, destinatario=destinatario, to_address=address,
                            asunto=asunto, mensaje=mensaje, created_at=ctx.now)
    ctx.session.add(message)
    ctx.session.flush()
    # Delivery happens outside the transaction: `cpe worker` sends the outbox through SMTP when
    # CPE_SMTP_URL is set (engine/programme/outbox.py); without an address the message is sin_direccion.
    return {"enviado": False, "en_cola": True, "mensaje_id": message.id}


def extraer_beneficiarios(ctx, beneficio, periodo):
    """One extract per region of the companies entitled to `beneficio` in `periodo` (manual §8;
    the rule is engine/programme/benefits.py). Result: the counts per region and the extract ids."""
    return benefits.extract(ctx.session, beneficio, periodo, ctx.case.id, ctx.now)


def verificar_capacitacion(ctx, taller=None):
    """Whether the case's company attended at least one workshop session (of `taller`, a
    catalogue key, if given): the training every company needs before promotion (manual §4.1)."""
    if taller is not None and ctx.session.scalar(select(Workshop.id).where(Workshop.key == taller)) is None:
        raise ValueError(f"taller desconocido '{taller}'")
    company = _company(ctx)
    count = attended_workshops(ctx.session, company.id, taller) if company else 0
    return {"capacitada": count > 0, "talleres": count}


def inscribir_taller(ctx, talleres):
    """Enrol the case's company in the next session of each workshop of `talleres` (catalogue keys)
    open to its region (manual §4.1: "capacitada previa a las acciones de promoción"). Result:
    `inscripciones` (taller, nombre, sesion_id, fecha ISO, lugar, en_linea), `sin_sesion` (the
    workshops with no upcoming session with seats), `ultima_sesion` (ISO date-time of the latest
    enrolled session, or None) and `resumen` (a text for the SRA)."""
    company = _company(ctx)
    return enrol_next_sessions(ctx.session, company.id if company else None, talleres, ctx.now, ctx.actor)


OPERATORS: dict[str, Operator] = {op.id: op for op in (
    Operator("verificar_tamano", verificar_tamano, {"ventas_uf": checks.number},
             description="Tramo de tamaño por ventas anuales en UF y si es elegible para el CPE."),
    Operator("puntaje_formulario", puntaje_formulario,
             {"formulario": checks.text(120), "respuestas": checks.answers, "registrar": checks.boolean},
             optional=("registrar",),
             description="Puntaje 0–100 y por dimensión de un cuestionario puntuado de forms/, con las respuestas "
                         "puntuadas; si es el TPE (x-registro), lo guarda como el TPE de la empresa con quién y "
                         "cuándo lo respondió, salvo `registrar` falso (respuestas leídas del TPE guardado)."),
    Operator("tpe_guardado", tpe_guardado, {"formulario": checks.optional_text, "vigencia_meses": checks.months},
             optional=("formulario", "vigencia_meses"),
             description="El TPE guardado de la empresa (uno por empresa, tesis §3.4.2): si existe, si está vigente "
                         "(del `formulario` indicado y respondido o actualizado hace menos de `vigencia_meses` "
                         "meses), sus respuestas, puntaje, revisión y fecha."),
    Operator("asignar_ejecutivo", asignar_ejecutivo,
             {"rol": checks.choice(ROLES), "region": checks.region, "rubro": checks.optional_text},
             optional=("rubro",),
             description="Ejecutivo con menos carga del rol y región (máx. 50 casos, por rubro)."),
    Operator("cargas_ejecutivos", cargas_ejecutivos, {"rol": checks.choice(ROLES), "region": checks.region},
             description="Usuarios del rol en la región con las empresas que tienen a cargo (tope 50), "
                         "y los desactivados que aún tienen casos en curso, en lista y en una línea de texto "
                         "(`resumen`) para mostrar en un formulario."),
    Operator("fijar_ejecutivo", fijar_ejecutivo,
             {"decision": checks.choice(HEAD_DECISIONS), "rol": checks.choice(ROLES), "region": checks.region,
              "usuario": checks.optional_text, "rubro": checks.optional_text},
             optional=("usuario", "rubro"),
             description="Deja a cargo del caso al ejecutivo que eligió el jefe regional (`menor_carga` o "
                         "`ejecutivo_indicado` con `usuario`), aunque supere el tope; si el usuario no existe, "
                         "está inactivo o es de otro rol o región, no cambia nada y devuelve `motivo`."),
    Operator("redistribuir_casos", redistribuir_casos,
             {"rol": checks.choice(ROLES), "region": checks.region, "desde": checks.optional_text,
              "hacia": checks.optional_text, "modo": checks.choice(REDISTRIBUTION_MODES),
              "cantidad": checks.optional_count, "casos": checks.case_numbers, "variable": checks.optional_text},
             optional=("cantidad", "casos", "variable"),
             description="Traspasa casos en curso del ejecutivo `desde` al ejecutivo `hacia` (rol y región): "
                         "`todas`, una `cantidad` (primero las del rubro de quien recibe, luego las más nuevas) "
                         "o los números de `casos` indicados; cambia el ejecutivo a cargo, sus tareas abiertas "
                         "y la variable del caso `variable` (p. ej. responsable), y lo anota en el historial de "
                         "cada caso. Nunca sobre el tope de 50: si no cabe, o un usuario o caso no corresponde, "
                         "no cambia nada y devuelve `motivo`."),
    Operator("derivar", derivar, {"motivo": checks.choice(VALID_MOTIVOS), "region": checks.region,
                                  "institucion": checks.optional_text}, optional=("institucion",),
             description="Deriva la empresa a la institución que corresponde y lo registra; una empresa rojo, "
                         "a la institución de la red regional elegida (institucion)."),
    Operator("registrar_sra", registrar_sra, {"tipo": checks.text(60), "detalle": checks.text(4000)},
             description="Registra una actividad en el SRA de la empresa."),
    Operator("registrar_exportacion", registrar_exportacion,
             {"pais": checks.text(80), "fecha": checks.iso_date, "monto_usd": checks.positive_amount,
              "producto": checks.text(200)},
             description="Registra una exportación de la empresa (país, fecha, monto USD, producto)."),
    Operator("notificar", notificar,
             {"destinatario": checks.choice(DESTINATARIOS), "asunto": checks.text(300), "mensaje": checks.text(4000),
              "region": checks.optional_region}, optional=("region",),
             description="Deja un mensaje en la bandeja de salida (SMTP si está configurado); "
                         "`region` elige el jefe regional de esa región en vez del de la región del caso."),
    Operator("extraer_beneficiarios", extraer_beneficiarios, {"beneficio": _benefit, "periodo": _period},
             description="Guarda por región el listado de empresas con derecho al beneficio en el mes "
                         "(AAAA-MM): del programa y, si son personas naturales, con autorización firmada. "
                         "Repetir un mes no cambia nada."),
    Operator("verificar_capacitacion", verificar_capacitacion, {"taller": checks.optional_text},
             optional=("taller",),
             description="Si la empresa asistió a algún taller (o al taller indicado por su clave del catálogo)."),
    Operator("inscribir_taller", inscribir_taller, {"talleres": checks.text_list()},
             description="Inscribe a la empresa del caso en la próxima sesión, abierta a su región y con cupo, "
                         "de cada taller indicado (claves del catálogo); da las inscripciones y los talleres "
                         "sin sesión disponible."),
)}


def call(ctx: ServiceContext, operator_id: str, params: dict, timeout: float = deadline.DEFAULT_SECONDS) -> dict:
    """`operator_id` of this table, run as a service task runs it (engine.operators.dispatch.call)."""
    return dispatch.call(OPERATORS, ctx, operator_id, params, timeout)
