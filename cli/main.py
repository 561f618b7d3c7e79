"""The `cpe` command (SPEC §10): a click group whose context object (cli/context.py) builds the
Engine from the environment as the web app does, so the CLI and the web share one configuration.
Commands call only the engine's verbs; only `serve` and `export registro` build the web app.

Every command that prints data takes --json and then prints one JSON document on
stdout; errors go to stderr with a non-zero exit and change nothing.
"""

from __future__ import annotations

import os
import sys
import time
import traceback

import click
from sqlalchemy.exc import OperationalError, ProgrammingError

from cli.context import CliContext, cli_actor, current_engine
from engine.basics.errors import DeployError, EngineError, FormError, describe, errors_of
from engine.models import versions
from engine.models.validation import collect_files
from engine.programme import audit
from webapp.shared import strictjson


def emit(data, as_json: bool, human=None):
    """One JSON document on stdout (strict: never NaN nor invalid Unicode, see strictjson), or
    the human form."""
    if as_json or human is None:
        click.echo(strictjson.dumps(data, ensure_ascii=False, indent=2, default=str))
    else:
        human(data)


def fail(message: str, code: int = 1):
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


def handle_errors(func):
    import functools

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except (EngineError, FormError, DeployError) as exc:
            outcome = describe(exc)
            for line in _error_lines(exc, outcome):
                click.echo(line, err=True)
            sys.exit(outcome.exit_code)
        except (ValueError, FileNotFoundError) as exc:
            fail(str(exc))
        except (OperationalError, ProgrammingError) as exc:
            fail(f"la base de datos no responde o no tiene el esquema al día (ejecute `cpe db upgrade`): "
                 f"{exc.orig}")
        except (click.exceptions.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise  # click's own: usage errors, --help, Ctrl-C
        except Exception:  # noqa: BLE001 - never exit without saying why, never with internal text
            if os.environ.get("CPE_DEBUG"):
                traceback.print_exc(file=sys.stderr)
            fail("error inesperado: no se completó la operación y no cambió nada. Si se repite, avise al equipo "
                 "de la plataforma (con CPE_DEBUG=1 el comando muestra el detalle técnico).", code=2)
    return wrapper


def _error_lines(exc, outcome) -> list[str]:
    """A deploy's problems as they are, a form's errors one per field, else the error's text."""
    if isinstance(exc, DeployError):
        return list(outcome.problems)
    if isinstance(exc, FormError):
        return [f"error: {field or 'formulario'}: {message}" for field, message in outcome.fields.items()]
    return [f"error: {outcome.text}"]


def parse_json(text: str | None, what: str = "--data"):
    """The JSON of an option, strictly (webapp/shared/strictjson.py): ValueError with a Spanish message
    for text that is not JSON, and ValueRefused (naming the field) for NaN, Infinity, lone
    surrogates, repeated keys, huge numbers or nesting that a case may not hold."""
    if text is None:
        return {}
    if text.startswith("@"):
        try:
            with open(text[1:], encoding="utf-8") as handle:
                text = handle.read()
        except UnicodeDecodeError:
            raise ValueError(f"{what}: el archivo no está codificado en UTF-8") from None
    try:
        return strictjson.loads(text)
    except strictjson.NotJson as exc:
        raise ValueError(f"{what} {exc}") from None
    except strictjson.ValueRefused as exc:
        raise strictjson.ValueRefused(exc.path, f"{exc.reason} (en {what})") from None


def _record_export(subject: str, detail: dict) -> None:
    """One audit row for data the command writes to a file, by `cli:<system user>`
    (engine/programme/audit.py; the row the web's record_access writes, without a request)."""
    audit.record_access(current_engine(), actor=cli_actor(), action="export", subject=subject, detail=detail)


@click.group()
@click.pass_context
def cpe(ctx):
    """CPE Workflow: el proceso de los Centros Pyme Exporta como BPMN ejecutable."""
    if ctx.obj is None:
        ctx.obj = CliContext.from_environment()


# -- db ----------------------------------------------------------------------------
@cpe.group()
def db():
    """Esquema de la base de datos."""


@db.command("upgrade")
@handle_errors
def db_upgrade():
    """Crea o migra el esquema (Alembic) y carga el catálogo de talleres."""
    from engine.programme.workshops import seed_catalogue

    current_engine().upgrade()
    seeded = seed_catalogue(current_engine())
    click.echo(f"esquema al día; catálogo de talleres: {seeded['total']} talleres "
               f"({seeded['created']} nuevos, {seeded['updated']} actualizados)", err=True)


# -- models --------------------------------------------------------------------------
LANE_HELP = ("Rol de un carril que no se llama como un rol, p. ej. --lane \"Ventas=ejecutivo_cpe\" (repetible; "
             "el proceso lo recuerda para sus versiones siguientes).")


def _lane_pairs(pairs) -> dict:
    """The --lane options as {lane: role} (ValueError, in Spanish, for a malformed or unknown one)."""
    from engine.models import lane_roles

    return lane_roles.parse_pairs(pairs)


@cpe.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--lane", "lanes", multiple=True, metavar="CARRIL=ROL", help=LANE_HELP)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def validate(paths, lanes, as_json):
    """Valida archivos .bpmn, .dmn y formularios .json (o carpetas). Los avisos no impiden desplegar."""
    problems = current_engine().validate(collect_files(paths), lanes=_lane_pairs(lanes))
    errors = errors_of(problems)
    if as_json:
        emit({"valid": not errors, "problems": [p.__dict__ for p in problems]}, True)
    else:
        for problem in problems:
            click.echo(str(problem))
        if not errors:
            click.echo(f"sin errores ({len(problems)} avisos)" if problems else "sin problemas", err=True)
    sys.exit(1 if errors else 0)


@cpe.command()
@click.argument("paths", nargs=-1)
@click.option("--message", "-m", default="", help="Motivo del cambio.")
@click.option("--author", default=None, help="Autor (por defecto, el usuario del sistema).")
@click.option("--lane", "lanes", multiple=True, metavar="CARRIL=ROL", help=LANE_HELP)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def deploy(paths, message, author, lanes, as_json):
    """Valida y guarda nuevas versiones de procesos, decisiones y formularios (sin PATHS: los modelos
    del programa, los de processes/ y forms/ o, instalado, la copia que trae el paquete)."""
    import getpass

    from engine.programme import shipped

    paths = paths or (shipped.forms_dir(), shipped.processes_dir())
    results = current_engine().deploy(collect_files(paths), author=author or getpass.getuser(), message=message,
                                      lanes=_lane_pairs(lanes))
    for warning in results.warnings:  # on stderr: --json keeps its document
        click.echo(str(warning), err=True)

    def human(rows):
        for r in rows:
            state = "nueva versión" if r["created"] else "sin cambios"
            click.echo(f"{r['kind']:<9} {r['key']:<28} v{r['version']:<4} {state}")
    emit(results, as_json, human)


@cpe.command()
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def models(as_json):
    """Procesos, decisiones y formularios con sus versiones."""
    def human(rows):
        for r in rows:
            click.echo(f"{r['kind']:<9} {r['key']:<28} v{r['version']:<4} {r['created_at'][:19]} "
                       f"{r['author']:<12} casos activos: {r['active_cases']}  {r['message']}")
    emit(current_engine().models(), as_json, human)


# -- cases ---------------------------------------------------------------------------
@cpe.command()
@click.argument("process_id")
@click.option("--version", type=int, default=None)
@click.option("--data", default=None, help="JSON, o @archivo.json")
@click.option("--user", default=None)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def start(process_id, version, data, user, as_json):
    """Inicia un caso."""
    case_id = current_engine().start(process_id, parse_json(data), version=version, actor=user or "cli")
    emit({"case_id": case_id}, True)


@cpe.command()
@click.option("--case", "case_id", type=int, default=None)
@click.option("--user", default=None)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def tasks(case_id, user, as_json):
    """Tareas de usuario listas."""
    rows = current_engine().ready_tasks(case_id=case_id, user=user)
    for row in rows:
        row["form"] = row.pop("form", None)

    def human(items):
        for t in items:
            click.echo(f"{t['id']}  caso {t['case_id']:<6} {t['lane'] or '-':<18} {t['region'] or '-':<6} "
                       f"{t['assignee'] or '(pool)':<14} {t['name']}")
    emit(rows, as_json, human)


@cpe.command()
@click.argument("task_id")
@click.option("--data", required=True, help="JSON, o @archivo.json")
@click.option("--user", default=None)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def complete(task_id, data, user, as_json):
    """Valida contra el formulario y completa la tarea."""
    emit(current_engine().complete(task_id, parse_json(data), user=user), True)


@cpe.command("case")
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def case_cmd(case_id, as_json):
    """Estado, datos e historial de un caso."""
    def human(c):
        click.echo(f"caso {c['id']}  {c['process_id']} v{c['version']}  estado: {c['status']}  "
                   f"segmento: {c['segmento'] or '-'}  resultado: {c['resultado'] or '-'}")
        if c["error"]:
            click.echo(f"error: {c['error']['message']}")
        for e in c["history"]:
            click.echo(f"  {e['at'][:19]}  {e['actor']:<12} {e['kind']:<15} {e['name'] or ''}")
    emit(current_engine().case(case_id), as_json, human)


@cpe.command()
@click.argument("case_id", type=int)
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def retry(case_id, as_json):
    """Reintenta el paso que falló en un caso en error."""
    emit(current_engine().retry(case_id, actor="cli"), True)


@cpe.command()
@click.argument("case_id", type=int)
@click.option("--reason", "reason", required=True, help="Por qué se omite el paso (queda en el historial).")
@click.option("--data", default=None, help="Valores que el paso habría producido (JSON), p. ej. su resultVariable.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def skip(case_id, reason, data, as_json):
    """Omite el paso que falló en un caso en error (lo da por hecho con los valores indicados)."""
    values = parse_json(data) if data else {}
    emit(current_engine().skip(case_id, "cli", values=values, reason=reason), True)


@cpe.command()
@click.argument("case_id", type=int)
@click.option("--to-version", "to_version", type=int, required=True, help="Versión destino del proceso.")
@click.option("--dry-run", is_flag=True, help="Solo muestra qué cambiaría; no toca el caso.")
@click.option("--user", default="cli", help="Quién migra (queda en el historial).")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def migrate(case_id, to_version, dry_run, user, as_json):
    """Mueve un caso en curso a otra versión de su proceso (o muestra el plan con --dry-run)."""
    result = current_engine().migrate(case_id, to_version, dry_run=dry_run, actor=user)

    def human(r):
        verb = "se puede migrar" if r["safe"] else "NO se puede migrar"
        click.echo(f"caso {r['case_id']}: v{r['from_version']} → v{r['to_version']}: {verb}"
                   + (" (simulación)" if r["dry_run"] else ""))
        for reason in r["reasons"]:
            click.echo(f"  motivo: {reason}")
        for item in r["changed"]:
            click.echo(f"  cambia {item['bpmn_id']} ({item['name']}): {', '.join(item['attributes'])}")
        for item in r["reset"]:
            click.echo(f"  se recalcula {item['bpmn_id']} ({item['name']})")
    emit(result, as_json, human)
    if dry_run and not result["safe"]:
        sys.exit(1)


@cpe.group()
def export():
    """Exporta datos del sistema a archivos."""


@export.command("modelos")
@click.argument("root", type=click.Path(file_okay=False), default=".")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def export_models(root, as_json):
    """Escribe la última versión desplegada de cada modelo en ROOT/processes y ROOT/forms (para git)."""
    from pathlib import Path

    written = []
    for row in versions.newest(current_engine().models()):
        latest = current_engine().model_version(row["kind"], row["key"], row["version"])
        if latest["kind"] == "form" and not latest["filename"].endswith(".json"):
            continue  # generated from its diagram's camunda:formData: exporting the diagram exports it
        folder = Path(root) / ("forms" if latest["kind"] == "form" else "processes")
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / Path(latest["filename"]).name
        path.write_text(latest["content"], encoding="utf-8")
        written.append({"kind": latest["kind"], "key": latest["key"], "version": latest["version"],
                        "path": str(path)})
    emit(written, as_json, lambda rows: [click.echo(f"{r['path']}  ({r['key']} v{r['version']})") for r in rows])


@export.command("registro")
@click.option("--output", "-o", "output", required=True, type=click.Path(dir_okay=False),
              help="Archivo de salida: .xlsx, o .csv si el nombre termina en .csv.")
@click.option("--region", default=None, help="Solo una región (código ISO 3166-2:CL, p. ej. CL-RM).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def export_registry(cli: CliContext, output, region, as_json):
    """Exporta el registro de empresas del programa: una fila por empresa (RUT, razón social, región,
    rubro, segmento, ejecutivo, fechas de ingreso y egreso, motivo)."""
    from pathlib import Path
    from types import SimpleNamespace

    from engine.domain import roles
    from engine.domain.regions import is_region
    from engine.programme.company_records import RegistryFilters, export_rows
    from webapp.pages.company_records import to_csv, to_xlsx

    path = Path(output)
    fmt = "csv" if path.suffix.lower() == ".csv" else "xlsx" if path.suffix.lower() == ".xlsx" else None
    if fmt is None:
        fail("el archivo de salida debe terminar en .xlsx o .csv")
    if region is not None and not is_region(region):
        fail(f"región desconocida «{region}»: use un código ISO 3166-2:CL, p. ej. CL-RM")
    everyone = SimpleNamespace(role=roles.ANALISTA, region=None)  # the command runs with the server's rights
    rows = export_rows(cli.engine, everyone, RegistryFilters(region=region))
    with cli.app.test_request_context():  # the file's headers and labels, in Spanish
        body = to_csv(rows).encode("utf-8") if fmt == "csv" else to_xlsx(rows)
    path.write_bytes(body)
    _record_export("registry", {"archivo": str(path), "filas": len(rows), "region": region, "via": "cli"})
    emit({"archivo": str(path), "formato": fmt, "filas": len(rows), "region": region}, as_json,
         lambda r: click.echo(f"{r['archivo']}: {r['filas']} empresas"))


# -- users ---------------------------------------------------------------------------
@cpe.group()
def users():
    """Usuarios."""


@users.command("create")
@click.argument("name")
@click.option("--role", required=True)
@click.option("--region", default=None)
@click.option("--rubro", "rubros", multiple=True, help="Rubros que atiende (repetible).")
@click.option("--email", default=None)
@click.option("--full-name", default="")
@click.option("--password-stdin", is_flag=True, required=True, help="Lee la contraseña de la entrada estándar.")
@handle_errors
def users_create(name, role, region, rubros, email, full_name, password_stdin):
    """Crea un usuario."""
    password = sys.stdin.readline().rstrip("\n")
    current_engine().create_user(name, password, role, region=region, rubros=rubros, full_name=full_name, email=email)
    click.echo(f"usuario {name} creado", err=True)


# -- running -------------------------------------------------------------------------
@cpe.command()
@click.option("--once", is_flag=True, help="Procesa lo pendiente una vez y termina.")
@click.option("--interval", default=5.0, show_default=True, help="Segundos entre rondas.")
@handle_errors
def worker(once, interval):
    """Trabajador en segundo plano: dispara los temporizadores vencidos (engine/cases/worker.py) y
    envía el correo de la bandeja de salida por SMTP (CPE_SMTP_URL; engine/programme/outbox.py).

    Puede haber varios a la vez, en una o varias máquinas: ninguno dispara dos veces un mismo
    temporizador ni envía dos veces un mismo mensaje. Sigue intentando si la base de datos no
    responde; SIGTERM lo detiene entre lotes."""
    import logging

    from engine.cases.worker import BATCH, Worker
    from engine.programme import outbox

    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(name)s %(levelname)s %(message)s")

    def report(done):
        for name, count in done.items():
            if count:
                click.echo(f"{count} mensaje(s) enviados" if name == "correo" else f"{count} caso(s) avanzados: {name}",
                           err=True)
    from engine.cases import scheduler

    smtp = outbox.SmtpSettings.from_env()  # ValueError: a clear message before anything runs
    eng = current_engine()
    jobs = [("inicios programados", lambda: scheduler.run_due(eng)),
            ("temporizadores", lambda: eng.fire_due_timers(limit=BATCH)),
            ("reintentos", lambda: eng.retry_due(limit=BATCH)),
            ("mensajes", lambda: eng.deliver_messages(limit=BATCH))]
    if smtp is None:
        click.echo("correo: CPE_SMTP_URL no está definido; no se envía nada (los mensajes se leen en /correo/).",
                   err=True)
    else:
        click.echo(f"correo: se envía por {smtp.describe()}.", err=True)
        jobs.append(("correo", lambda: outbox.deliver_due(eng, smtp, limit=BATCH)))
    Worker(eng, jobs=jobs, interval=interval, report=report).run(once=once)


@cpe.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True, type=int)
@click.pass_obj
def serve(cli: CliContext, host, port):
    """Servidor web (desarrollo; en producción use gunicorn, ver README)."""
    from werkzeug.serving import run_simple

    click.echo(f"CPE Workflow en http://{host}:{port}/  (usuarios de la demo: ver README)", err=True)
    if not os.environ.get("CPE_SMTP_URL"):
        click.echo(f"Correo: no se envía (sin CPE_SMTP_URL); léalo como analista en http://{host}:{port}/correo/",
                   err=True)
    run_simple(host, port, cli.app, threaded=True, use_reloader=False)


@cpe.command()
@click.option("--quick", is_flag=True, help="Versión corta (menos de 5 minutos).")
@click.option("--database-url", default=None, help="Base desechable a usar (por defecto, SQLite temporal).")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def bench(quick, database_url, as_json):
    """Suite de rendimiento del motor y de las páginas web (nunca toca la base configurada)."""
    from tooling.bench import http_load, suite
    from tooling.bench.pages import measure

    results = suite.run(quick=quick, database_url=database_url, web=measure, http=http_load.measure,
                        progress=lambda step: click.echo(f"midiendo {step}…", err=True))

    def human(r):
        for key, value in r.items():
            if key != "settings":
                click.echo(f"{key:<28} {value}")
        click.echo(f"{'settings':<28} {r['settings']}")
    emit(results, as_json, human)


@cpe.command()
@click.option("--empresas", "companies", type=click.IntRange(min=0), default=None,
              help="Empresas de los meses ya transcurridos del programa (por defecto 800; 0: solo los casos de hoy).")
@click.option("--meses", "months", type=click.IntRange(min=1, max=120), default=24, show_default=True,
              help="Meses de historia del programa, hasta hoy.")
@click.option("--semilla", "seed", type=int, default=2026, show_default=True,
              help="Semilla: la misma da la misma demo.")
@click.option("--procesos", "workers", type=click.IntRange(min=1, max=64), default=None,
              help="Procesos que recorren las regiones en paralelo (por defecto, hasta 2).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def demo(cli: CliContext, companies, months, seed, workers, as_json):
    """Carga la demo: usuarios de cada rol, dos años de un programa recorridos por el proceso real
    (con fecha retroactiva) y casos de hoy en cada etapa."""
    from tooling.demo import load_demo

    def human(result):
        click.echo(f"demo: {result['usuarios']} usuarios, {result['casos']} casos de hoy, {result['modelos']} modelos, "
                   f"{result.get('talleres', 0)} sesiones de talleres {result.get('nota', '')}".rstrip(), err=True)
        history = result.get("historia")
        if history:
            outcomes = ", ".join(f"{count} {name.replace('_', ' ')}" for name, count in history["resultados"].items())
            click.echo(f"historia: {history['empresas']} empresas en {history['meses']} meses ({outcomes}); "
                       f"{history['tareas']} tareas, {history['talleres'].get('asistencias', 0)} asistencias a "
                       f"talleres", err=True)
        for name, path in result.get("portal", {}).items():
            click.echo(f"portal de {name}: {path}  (en el servidor, p. ej. http://127.0.0.1:5000{path})", err=True)

    def progress(message):
        if not as_json:
            click.echo(f"demo: {message}", err=True)

    emit(load_demo(cli.engine, cli.config["PROCESSES_DIR"], cli.config["FORMS_DIR"], companies=companies,
                   seed=seed, months=months, workers=workers, progress=progress), as_json, human)


# -- API tokens ------------------------------------------------------------------------
@cpe.group()
def tokens():
    """Tokens personales para la API JSON (/api/v1)."""


@tokens.command("create")
@click.argument("username")
@click.option("--name", default="", help="Para qué es el token (p. ej. la integración que lo usa).")
@click.option("--days", type=int, default=None, help="Días de vigencia (por defecto, hasta revocarlo).")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def tokens_create(username, name, days, as_json):
    """Crea un token para USERNAME y lo muestra una sola vez."""
    from engine.accounts import apitokens

    token_id, token = apitokens.create_token(current_engine(), username, name=name, days=days)
    [row] = [t for t in apitokens.list_tokens(current_engine(), username) if t["id"] == token_id]
    if as_json:
        emit({"id": token_id, "username": username, "name": row["name"], "expires_at": row["expires_at"],
              "token": token}, True)
    else:
        click.echo(token)
        until = f"vence el {row['expires_at'][:10]}" if row["expires_at"] else "no vence"
        click.echo(f"token {token_id} de {username} creado ({until}); guárdelo ahora: no se volverá a mostrar",
                   err=True)


@tokens.command("list")
@click.argument("username")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def tokens_list(username, as_json):
    """Tokens de USERNAME (nunca el token mismo)."""
    from engine.accounts import apitokens

    def human(rows):
        for t in rows:
            click.echo(f"{t['id']:<6} {t['state']:<8} creado {t['created_at'][:16]}  "
                       f"vence {(t['expires_at'] or '-')[:16]:<16}  último uso {(t['last_used_at'] or '-')[:16]:<16}  "
                       f"{t['name']}")
        if not rows:
            click.echo(f"{username} no tiene tokens", err=True)
    emit(apitokens.list_tokens(current_engine(), username), as_json, human)


@tokens.command("revoke")
@click.argument("token_id", type=int)
@click.option("--user", "username", required=True, help="Dueño del token.")
@handle_errors
def tokens_revoke(token_id, username):
    """Revoca el token TOKEN_ID de un usuario (deja de funcionar de inmediato)."""
    from engine.accounts import apitokens

    apitokens.revoke(current_engine(), token_id, username)
    click.echo(f"token {token_id} de {username} revocado", err=True)


# -- backup and restore ----------------------------------------------------------------
@cpe.command()
@click.argument("file", type=click.Path(dir_okay=False))
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def backup(file, as_json):
    """Copia todas las tablas a FILE (líneas JSON comprimidas con gzip, con la revisión del esquema)."""
    from engine.store import backup as backups

    def human(r):
        click.echo(f"copia en {r['file']}: {r['rows']} filas de {len(r['tables'])} tablas "
                   f"(revisión {r['revision']} del esquema)", err=True)

    # recorded first, so the copy itself shows who made it (a failed attempt stays recorded too)
    _record_export("backup", {"archivo": str(file)})
    emit(backups.backup(current_engine(), file), as_json, human)


@cpe.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="No pide confirmación.")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def restore(file, yes, as_json):
    """Carga la copia FILE en una base vacía con la misma revisión del esquema (una transacción)."""
    from engine.store import backup as backups

    header = backups.inspect(current_engine(), file)
    if not yes:
        target = current_engine().db.url.render_as_string(hide_password=True)
        click.confirm(f"¿Cargar la copia del {header['created_at'][:19]} ({sum(header['tables'].values())} filas) "
                      f"en {target}?", abort=True, err=True)

    def human(r):
        click.echo(f"restauradas {r['rows']} filas de {len(r['tables'])} tablas desde {r['file']}", err=True)
    emit(backups.restore(current_engine(), file), as_json, human)


@cpe.command()
@click.argument("process_id")
@click.option("--cases", "cases", type=int, required=True, help="Empresas de la cohorte sintética.")
@click.option("--version", type=int, default=None, help="Versión del proceso (por defecto, la última).")
@click.option("--seed", type=int, default=0, show_default=True, help="Semilla: la misma da el mismo resultado.")
@click.option("--horizon-months", type=int, default=24, show_default=True, help="Meses simulados.")
@click.option("--workers", type=int, default=None, help="Procesos en paralelo (no cambia el resultado).")
@click.option("--no-history", "no_history", is_flag=True,
              help="No tomar las duraciones de las tareas del historial de casos (solo la configuración).")
@click.option("--json", "as_json", is_flag=True)
@handle_errors
def simulate(process_id, cases, version, seed, horizon_months, workers, no_history, as_json):
    """Simula una cohorte sintética en un proceso (base desechable; no escribe en la base configurada)."""
    from engine.simulate import simulate as run

    began = time.monotonic()
    config = {"duraciones": {"desde_historial": False}} if no_history else None
    result = run(current_engine(), process_id, cases, version=version, seed=seed, horizon_months=horizon_months,
                 config=config, workers=workers, progress=lambda step: click.echo(f"simulando: {step}…", err=True))
    click.echo(f"simulación: {cases} casos en {time.monotonic() - began:.1f} s", err=True)

    def human(r):
        n = r["casos"]
        click.echo(f"{r['proceso']} v{r['version']} · {n} empresas · semilla {r['semilla']} · "
                   f"{r['configuracion']['horizonte_meses']} meses")
        click.echo(f"{'resultado':<22}{'casos':>8}{'%':>8}")
        for key, value in r["resultados"].items():
            click.echo(f"{key:<22}{value:>8}{100 * value / n:>7.1f}%")
        click.echo(f"{'segmento final':<22}" + ", ".join(f"{k} {v}" for k, v in r["segmentos"].items()))
        d, k, c = r["duracion_dias"], r["indicadores"], r["carga_ejecutivos"]
        click.echo(f"{'duración (días)':<22}mediana {d['mediana']}, p90 {d['p90']}, "
                   f"permanencia media {d['permanencia_media']}")
        def share(value):
            return "—" if value is None else f"{value:.1%}"
        click.echo(f"{'ingreso':<22}{k['ingresadas']} ingresadas (clasificadas) de {k['registradas']}; "
                   f"micro {k['micro']}, grande {k['grande']}, sin TPE {k['sin_tpe']}, "
                   f"en evaluación {k['en_evaluacion']}, cerradas sin ingresar {k['cerrada_sin_ingresar']}")
        click.echo(f"{'indicadores':<22}eficacia {share(k['eficacia'])}, evolución {share(k['evolucion'])}, "
                   f"deserción {share(k['desercion'])}")
        click.echo(f"{'carga ejecutivos':<22}{c['tareas_asignadas']} tareas asignadas a {c['ejecutivos_con_tareas']}"
                   f" (máx. {c['tareas_por_ejecutivo_max']}), {c['tareas_en_pool']} en pool regional")
        spec = r["configuracion"]["duraciones"]
        if spec.get("historial"):
            source = ", ".join(f"{k} del historial ({n} tareas)" for k, n in spec["historial"].items())
        elif spec["desde_historial"]:
            source = "de la configuración (sin historial suficiente)"
        else:
            source = "de la configuración"
        click.echo(f"{'duraciones':<22}{source}")
    emit(result, as_json, human)


@cpe.command()
@click.option("--region", default=None, help="Código de región, p. ej. CL-RM.")
@click.option("--from", "date_from", default=None, help="Registradas (caso creado) desde este día (AAAA-MM-DD).")
@click.option("--to", "date_to", default=None,
              help="Registradas (caso creado) hasta este día, inclusive (AAAA-MM-DD).")
@click.option("--ejecutivo", default=None, help="Usuario del ejecutivo a cargo.")
@click.option("--rubro", default=None, help="Rubro de la empresa.")
@click.option("--pymes-registradas", type=int, default=None,
              help="Denominador de Promoción (por defecto 206 773, tesis §1.1).")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
@handle_errors
def indicators(cli: CliContext, region, date_from, date_to, ejecutivo, rubro, pymes_registradas, as_json):
    """Indicadores del programa (SPEC §6): los mismos números que la página /indicadores/."""
    from engine.programme.indicators import PYMES_REGISTRADAS, parse_filters
    from engine.programme.indicators import indicators as compute

    filters = parse_filters(region, date_from, date_to, ejecutivo, rubro)
    if pymes_registradas is None:
        pymes_registradas = cli.config.get("PYMES_REGISTRADAS", PYMES_REGISTRADAS)

    def human(r):
        reasons = r["motivos"]

        def pct(key, value=None):
            value = r[key] if value is None else value
            return f"{value:.1%}" if value is not None else f"— ({reasons.get(key, '')})"
        for key in ("registradas", "ingresadas", "exportadoras", "evolucionaron", "desertaron", "derivadas"):
            click.echo(f"{key:<16}{r[key]:>8}")
        click.echo("no ingresadas   " + ", ".join(f"{k} {v}" for k, v in r["antes_del_ingreso"].items()))
        for key in ("eficacia", "evolucion", "desercion"):
            click.echo(f"{key:<16}{pct(key):>8}")
        click.echo(f"{'promocion':<16}{r['promocion'] * 100:.4f}%" if r["promocion"] is not None
                   else f"{'promocion':<16}— ({reasons.get('promocion')})")
        for item in r["asistencia"].values():
            value = f"{item['valor']:.1%}" if item["valor"] is not None else f"— ({item['motivo']})"
            click.echo(f"asistencia {item['taller'][:40]:<42}{item['asistieron']:>5}  {value}")
        click.echo(f"exportaron con herramientas CPE {r['exportaron_con_herramientas']}, "
                   f"sin herramientas {r['exportaron_sin_herramientas']}")
    emit(compute(cli.engine, filters, pymes_registradas), as_json, human)


def main():
    cpe(obj=CliContext.from_environment())


if __name__ == "__main__":
    main()
