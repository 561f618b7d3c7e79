"""The service-task operators analysts may call from a diagram (SPEC §4).

`OPERATORS` is the single table that maps an operator id to its parameters and its
Python implementation; deploy-time checks, the runtime and the documentation all read
it. Implementations get a `ServiceContext` (the case, the database session, the clock)
and validated parameters, and return a JSON-serialisable dict.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from engine.basics.case_values import check as check_value
from engine.domain.assignment import EXECUTIVE_CAP, choose_executive
from engine.domain.derivation import VALID_MOTIVOS, derive
from engine.domain.regions import is_region
from engine.domain.roles import JEFE_REGIONAL, PYME, ROLES
from engine.domain.scoring import score_questionnaire
from engine.domain.sizing import classify_size
from engine.operators import deadline
from engine.programme import benefits
from engine.programme.workshops import attended_workshops
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


class ServiceError(Exception):
    """An operator refused its parameters or failed; the message is shown to analysts."""

    def __init__(self, operator: str, message: str):
        self.operator = operator
        super().__init__(f"{operator}: {message}")


@dataclass
class ServiceContext:
    session: Any
    case: Case
    now: Any
    form: Callable[[str], Any]  # form id -> engine.models.forms.Form pinned by the case's version
    actor: str = "sistema"


# -- parameter checks ---------------------------------------------------------------

def _number(value):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError("debe ser un número")
    return value


def _text(max_len=2000):
    def check(value):
        if not isinstance(value, str) or not value.strip():
            raise ValueError("debe ser un texto no vacío")
        if len(value) > max_len:
            raise ValueError(f"no puede superar {max_len} caracteres")
        return value.strip()
    return check


def _choice(options):
    def check(value):
        if value not in options:
            raise ValueError(f"debe ser uno de: {', '.join(options)}")
        return value
    return check


def _region(value):
    if not isinstance(value, str) or not is_region(value):
        raise ValueError("debe ser un código de región ISO 3166-2:CL (p. ej. CL-RM)")
    return value


def _dict(value):
    if not isinstance(value, dict):
        raise ValueError("debe ser un objeto con las respuestas")
    return value


def _iso_date(value):
    from datetime import date

    if not isinstance(value, str):
        raise ValueError("debe ser una fecha ISO (AAAA-MM-DD)")
    try:
        parsed = date.fromisoformat(value.strip())
    except ValueError:
        raise ValueError("debe ser una fecha ISO válida (AAAA-MM-DD)") from None
    if len(value.strip()) != 10:
        raise ValueError("debe ser una fecha ISO (AAAA-MM-DD)")
    return parsed.isoformat()


def _positive_amount(value):
    _number(value)
    if value <= 0:
        raise ValueError("debe ser mayor que 0")
    return float(value)


def _optional_region(value):
    return None if value is None or value == "" else _region(value)


def _benefit(value):
    return benefits.check_benefit(value)


def _period(value):
    return benefits.check_period(value)


def _optional_text(value):
    if value is None or value == "":
        return None
    return _text(120)(value)


# -- implementations ------------------------------------------------------------------

def _company(ctx: ServiceContext) -> Company | None:
    if ctx.case.company_id is None:
        return None
    return ctx.session.get(Company, ctx.case.company_id)


def verificar_tamano(ctx, ventas_uf):
    return classify_size(ventas_uf)


def puntaje_formulario(ctx, formulario, respuestas):
    form = ctx.form(formulario)
    try:
        result = score_questionnaire(form.schema, respuestas)
    except ValueError as exc:
        raise ServiceError("puntaje_formulario", str(exc)) from None
    result.update(formulario=formulario, version=form.version)
    if form.schema.get("x-registro") == "tpe":
        _store_tpe(ctx, form, respuestas, result)
    return result


def _store_tpe(ctx, form, respuestas, result):
    """Keep the company's single TPE up to date; every submission is kept in the history."""
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
        dimensiones=result["dimensiones"], submitted_at=ctx.now,
    ))


def asignar_ejecutivo(ctx, rol, region, rubro=None):
    users = ctx.session.scalars(
        select(User).where(User.role == rol, User.region == region, User.active.is_(True))
    ).all()
    names = [u.username for u in users]  # only their loads: not a scan of every active case
    loads = dict(ctx.session.execute(
        select(Case.ejecutivo, func.count()).where(Case.status == "active", Case.ejecutivo.in_(names))
        .group_by(Case.ejecutivo)
    ).all()) if names else {}
    candidates = [
        {"username": u.username, "rubros": list(u.rubros or []),
         "carga": loads.get(u.username, 0) - (1 if ctx.case.ejecutivo == u.username else 0)}
        for u in users
    ]
    choice = choose_executive(candidates, rubro, cap=EXECUTIVE_CAP)
    if choice.get("ejecutivo"):
        ctx.case.ejecutivo = choice["ejecutivo"]
        choice["carga"] = choice["carga"] + 1
    return choice


def derivar(ctx, motivo, region):
    try:
        result = derive(motivo, region, ctx.now.date())
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
    # Delivery happens outside the transaction (the worker sends the outbox when SMTP is set).
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


@dataclass(frozen=True)
class Operator:
    id: str
    run: Callable
    params: dict[str, Callable] = field(default_factory=dict)
    optional: tuple[str, ...] = ()
    description: str = ""


OPERATORS: dict[str, Operator] = {op.id: op for op in (
    Operator("verificar_tamano", verificar_tamano, {"ventas_uf": _number},
             description="Tramo de tamaño por ventas anuales en UF y si es elegible para el CPE."),
    Operator("puntaje_formulario", puntaje_formulario, {"formulario": _text(120), "respuestas": _dict},
             description="Puntaje 0–100 y por dimensión de un cuestionario puntuado de forms/."),
    Operator("asignar_ejecutivo", asignar_ejecutivo,
             {"rol": _choice(ROLES), "region": _region, "rubro": _optional_text}, optional=("rubro",),
             description="Ejecutivo con menos carga del rol y región (máx. 50 casos, por rubro)."),
    Operator("derivar", derivar, {"motivo": _choice(VALID_MOTIVOS), "region": _region},
             description="Deriva la empresa a la institución que corresponde y lo registra."),
    Operator("registrar_sra", registrar_sra, {"tipo": _text(60), "detalle": _text(4000)},
             description="Registra una actividad en el SRA de la empresa."),
    Operator("registrar_exportacion", registrar_exportacion,
             {"pais": _text(80), "fecha": _iso_date, "monto_usd": _positive_amount, "producto": _text(200)},
             description="Registra una exportación de la empresa (país, fecha, monto USD, producto)."),
    Operator("notificar", notificar,
             {"destinatario": _choice(DESTINATARIOS), "asunto": _text(300), "mensaje": _text(4000),
              "region": _optional_region}, optional=("region",),
             description="Deja un mensaje en la bandeja de salida (SMTP si está configurado); "
                         "`region` elige el jefe regional de esa región en vez del de la región del caso."),
    Operator("extraer_beneficiarios", extraer_beneficiarios, {"beneficio": _benefit, "periodo": _period},
             description="Guarda por región el listado de empresas con derecho al beneficio en el mes "
                         "(AAAA-MM): del programa y, si son personas naturales, con autorización firmada. "
                         "Repetir un mes no cambia nada."),
    Operator("verificar_capacitacion", verificar_capacitacion, {"taller": _optional_text}, optional=("taller",),
             description="Si la empresa asistió a algún taller (o al taller indicado por su clave del catálogo)."),
)}


def call(ctx: ServiceContext, operator_id: str, params: dict, timeout: float = deadline.DEFAULT_SECONDS) -> dict:
    """Validate the parameters of `operator_id` and run it within `timeout` seconds."""
    operator = OPERATORS.get(operator_id)
    if operator is None:
        raise ServiceError(operator_id, "operador desconocido")
    unknown = set(params) - set(operator.params)
    if unknown:
        raise ServiceError(operator_id, f"parámetros desconocidos: {', '.join(sorted(unknown))}")
    values = {}
    for name, check in operator.params.items():
        if name not in params:
            if name in operator.optional:
                values[name] = None
                continue
            raise ServiceError(operator_id, f"falta el parámetro '{name}'")
        try:
            values[name] = check(params[name])
        except ValueError as exc:
            raise ServiceError(operator_id, f"parámetro '{name}' {exc}") from None
    watch = None
    try:
        # a savepoint: an operator that wrote rows and then failed (or ran out of time) leaves
        # none of them behind (the case's error state is stored in the same transaction, and a
        # retry starts clean)
        with ctx.session.begin_nested():
            with deadline.limited(ctx.session, timeout) as watch:
                result = operator.run(ctx, **values)
                ctx.session.flush()  # the operator's rows are written within its time limit
                # what it returns enters the case: plain JSON only (a ValueRefused is a ValueError:
                # the step fails with the reason, and the savepoint drops the rows it wrote)
                check_value(result, "resultado")
            if watch.expired:
                raise deadline.Expired
            return result
    except ValueError as exc:
        raise ServiceError(operator_id, str(exc)) from None
    except (deadline.Expired, DBAPIError):
        if watch is not None and watch.expired:
            raise ServiceError(operator_id, f"no terminó dentro del tiempo límite ({deadline.describe(timeout)}); "
                                            "se canceló sin dejar nada escrito") from None
        raise
