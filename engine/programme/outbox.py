"""The outbox: messages the programme writes (notifications, portal links, workshop cancellations,
benefit notices) and their delivery through SMTP from `cpe worker`.

Writers only add an `OutboxMessage` row in their own transaction; a message without an address is
`sin_direccion` from the start and is never attempted. Delivery (`deliver_due`) is exactly once
per message across any number of workers:

1. claim: in its own transaction, the oldest due pending message is locked (FOR UPDATE SKIP LOCKED
   on PostgreSQL; SQLite serializes write transactions with BEGIN IMMEDIATE), gets the worker's
   claim token, one more attempt, and `next_attempt_at` moved to the end of a lease (LEASE);
2. send through smtplib, outside any transaction;
3. mark `sent` only if the claim is still this worker's; a failed attempt keeps it pending with a
   short reason in Spanish (`last_error`, never an internal text) and the next attempt after a
   growing pause (BACKOFF), or `failed` after MAX_ATTEMPTS (at once when the address is not valid,
   the message cannot be built, or the server refuses the address or the message for good, a 5xx
   answer). A message already at MAX_ATTEMPTS is never claimed again: the claim marks it failed.

A worker that dies between claim and mark leaves the message pending: after the lease any worker
takes it again. Only a death after the server accepted and before the mark (a few milliseconds)
can send a message twice; its Message-ID is stable (`<cpe-outbox-ID-…@domain>`), so mail systems
can tell the copy. A slow server cannot make a claim outlive its lease: each SMTP operation waits
at most the timeout (at most MAX_TIMEOUT, 60 s), and just before sending, a claim with less than
SEND_STEPS × timeout left of its lease is given back untouched (no attempt counted) instead of
sent. Once a message has left, the private portal links in its text are removed
(engine.programme.portal.without_links): the database keeps no working link. A failed message
keeps them, so that retrying it sends a working link; pages hide them while SMTP is configured
(`message(..., hide_links=True)`).

Settings come from the environment (`SmtpSettings.from_env`): CPE_SMTP_URL
(`smtp://user:password@host:587?starttls=1`, `smtps://host:465`), CPE_SMTP_USER and
CPE_SMTP_PASSWORD (override the URL's), CPE_MAIL_FROM (the sender). Without CPE_SMTP_URL nothing
is sent: messages stay pending and analysts read them in the app (/correo/).
"""

from __future__ import annotations

import logging
import os
import smtplib
import socket
import ssl
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from email.headerregistry import Address
from email.message import EmailMessage
from email.utils import format_datetime, parseaddr
from functools import partial
from urllib.parse import parse_qsl, unquote, urlsplit

from sqlalchemy import func, select

from engine.basics.clock import as_utc
from engine.basics.errors import Conflict, NotFound
from engine.programme.portal import HIDDEN, without_links
from engine.store.schema import (
    OUTBOX_FAILED,
    OUTBOX_NO_ADDRESS,
    OUTBOX_PENDING,
    OUTBOX_SENT,
    OutboxMessage,
)

log = logging.getLogger("cpe.outbox")

STATUSES = (OUTBOX_PENDING, OUTBOX_SENT, OUTBOX_FAILED, OUTBOX_NO_ADDRESS)
MAX_ATTEMPTS = 8
BACKOFF = tuple(timedelta(minutes=m) for m in (1, 5, 15, 60, 180, 360, 720))  # after attempt 1, 2, …
LEASE = timedelta(minutes=10)  # a claim older than this is taken again (its worker died)
TIMEOUT = 30.0  # seconds for each SMTP operation
MAX_TIMEOUT = 60.0  # the largest timeout allowed: SEND_STEPS of them fit well inside LEASE
SEND_STEPS = 6  # SMTP operations of one send_message (MAIL, RCPT, DATA, content, reply) and a margin
TRUE, FALSE = ("1", "true", "yes", "si", "sí"), ("0", "false", "no", "")


# -- settings ---------------------------------------------------------------------------

@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send: `security` is "ssl" (smtps://), "starttls" or "none"."""

    host: str
    port: int
    sender: str  # an address, or "Name <address>"
    security: str = "none"
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    timeout: float = TIMEOUT

    @classmethod
    def from_url(cls, url: str, *, user=None, password=None, sender=None) -> SmtpSettings:
        """Settings from a CPE_SMTP_URL; ValueError (in Spanish, without the password) if unusable."""
        parts = urlsplit(url.strip())
        if parts.scheme not in ("smtp", "smtps"):
            raise ValueError("CPE_SMTP_URL debe empezar con smtp:// o smtps:// (p. ej. smtp://host:587?starttls=1)")
        try:
            host, port = parts.hostname, parts.port
        except ValueError:
            raise ValueError("CPE_SMTP_URL: el puerto no es un número válido") from None
        if not host:
            raise ValueError("CPE_SMTP_URL: falta el nombre del servidor (smtp://host:puerto)")
        options = dict(parse_qsl(parts.query, keep_blank_values=True))
        unknown = sorted(set(options) - {"starttls", "timeout"})
        if unknown:
            raise ValueError(f"CPE_SMTP_URL: opción desconocida «{unknown[0]}» (se admiten starttls y timeout)")
        starttls = options.get("starttls", "0").strip().lower()
        if starttls not in TRUE + FALSE:
            raise ValueError("CPE_SMTP_URL: starttls debe ser 1 o 0")
        if parts.scheme == "smtps":
            if starttls in TRUE:
                raise ValueError("CPE_SMTP_URL: smtps:// ya cifra la conexión; no use starttls con él")
            security = "ssl"
        else:
            security = "starttls" if starttls in TRUE else "none"
        try:
            timeout = float(options.get("timeout", TIMEOUT))
        except ValueError:
            raise ValueError("CPE_SMTP_URL: timeout debe ser un número de segundos") from None
        if not 1 <= timeout <= MAX_TIMEOUT:
            raise ValueError(f"CPE_SMTP_URL: timeout debe estar entre 1 y {MAX_TIMEOUT:.0f} segundos")
        user = user or (unquote(parts.username) if parts.username else None)
        password = password or (unquote(parts.password) if parts.password else None)
        if password and not user:
            raise ValueError("CPE_SMTP_URL: hay contraseña pero no usuario (CPE_SMTP_USER)")
        if not (user or "").isascii() or not (password or "").isascii():
            # smtplib sends the credentials as ASCII: a letter like «ñ» would fail every login
            raise ValueError("el usuario y la contraseña del servidor de correo solo pueden tener caracteres "
                             "ASCII (sin tildes ni «ñ»)")
        sender = (sender or "").strip() or (user if user and "@" in user else "")
        if not sender:
            raise ValueError("falta el remitente: defina CPE_MAIL_FROM (p. ej. cpe@prochile.gob.cl)")
        if any(c in sender for c in "\r\n") or not _valid_address(parseaddr(sender)[1]):
            raise ValueError(f"CPE_MAIL_FROM no es una dirección válida: «{sender[:80]}»")
        return cls(host=host, port=port or (465 if security == "ssl" else 587 if security == "starttls" else 25),
                   sender=sender, security=security, user=user, password=password, timeout=timeout)

    @classmethod
    def from_env(cls, env=None) -> SmtpSettings | None:
        """The configured settings, or None when CPE_SMTP_URL is not set (development: nothing sent)."""
        env = os.environ if env is None else env
        url = (env.get("CPE_SMTP_URL") or "").strip()
        if not url:
            return None
        return cls.from_url(url, user=env.get("CPE_SMTP_USER") or None, password=env.get("CPE_SMTP_PASSWORD") or None,
                            sender=env.get("CPE_MAIL_FROM"))

    def describe(self) -> str:
        tls = {"ssl": "TLS", "starttls": "STARTTLS", "none": "sin cifrar"}[self.security]
        return f"{self.host}:{self.port} ({tls}{', con usuario' if self.user else ''}), remitente {self.sender}"

    def connect(self) -> smtplib.SMTP:
        """An open, authenticated connection (certificates verified against the system's CAs)."""
        context = ssl.create_default_context()
        if self.security == "ssl":
            connection = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout, context=context)
        else:
            connection = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
        try:
            connection.ehlo()
            if self.security == "starttls":
                connection.starttls(context=context)
                connection.ehlo()
            if self.user:
                connection.login(self.user, self.password or "")
        except BaseException:
            _close(connection)
            raise
        return connection


def _valid_address(address: str | None) -> bool:
    """A plain ASCII address (`local@domain.tld`) that email.headerregistry takes as it is: no
    control character, space or line separator (U+2028, U+0085…), which the parser would drop."""
    text = (address or "").strip()
    if not text or not text.isascii() or any(c.isspace() or not c.isprintable() for c in text):
        return False
    try:
        parsed = Address(addr_spec=text)
    except Exception:  # noqa: BLE001 - header defects (ValueError), HeaderParseError, …
        return False
    return bool(parsed.username and "." in parsed.domain and parsed.addr_spec == text)


def _close(connection) -> None:
    try:
        connection.quit()
    except (OSError, smtplib.SMTPException):
        connection.close()


# -- why an attempt failed (what analysts read) --------------------------------------------

UNKNOWN = "error al enviar el mensaje"


class _Permanent(Exception):
    """The server (or the address) will never take this message: failed at once."""


def reason(exc: BaseException) -> tuple[str, bool]:
    """A short reason in Spanish for a failed attempt, and whether it is permanent."""
    if isinstance(exc, _Permanent):
        return str(exc), True
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = sorted({code for code, _ in exc.recipients.values()})
        return f"el servidor rechazó la dirección de destino (código {', '.join(map(str, codes))})", \
            all(code >= 500 for code in codes)
    if isinstance(exc, smtplib.SMTPAuthenticationError):
        return "el servidor de correo rechazó el usuario o la contraseña", False
    if isinstance(exc, smtplib.SMTPSenderRefused):
        return f"el servidor rechazó el remitente (código {exc.smtp_code}); revise CPE_MAIL_FROM", False
    if isinstance(exc, smtplib.SMTPDataError):
        return f"el servidor rechazó el mensaje (código {exc.smtp_code})", exc.smtp_code >= 500
    if isinstance(exc, smtplib.SMTPNotSupportedError):
        return "el servidor de correo no ofrece lo pedido (STARTTLS o autenticación)", False
    if isinstance(exc, smtplib.SMTPServerDisconnected):
        return "el servidor de correo cortó la conexión", False
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"el servidor de correo respondió con un error (código {exc.smtp_code})", False
    if isinstance(exc, ssl.SSLError):
        return "falló la conexión cifrada (TLS) con el servidor de correo", False
    if isinstance(exc, TimeoutError | socket.timeout):
        return "el servidor de correo no respondió a tiempo", False
    if isinstance(exc, socket.gaierror):
        return "no se encontró el servidor de correo (nombre desconocido)", False
    if isinstance(exc, OSError):
        return "no se pudo conectar con el servidor de correo", False
    return UNKNOWN, False


def backoff(attempts: int) -> timedelta:
    """The pause after the `attempts`-th failed attempt."""
    return BACKOFF[min(max(attempts, 1), len(BACKOFF)) - 1]


# -- delivery --------------------------------------------------------------------------------

EXHAUSTED = "se agotaron los intentos de envío"


def _claim(engine, token: str, max_attempts: int = MAX_ATTEMPTS) -> dict | None:
    """The oldest due message, claimed for `token` until its lease ends; a due message already at
    `max_attempts` (its worker died mid-attempt each time) becomes failed instead."""
    now = engine.now()
    with engine.transaction() as s:
        query = (select(OutboxMessage).where(OutboxMessage.status == OUTBOX_PENDING,
                                             OutboxMessage.next_attempt_at <= now)
                 .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(1))
        while (row := s.scalar(engine.locked(query, skip_locked=True))) is not None:
            if row.attempts < max_attempts:
                break
            row.status, row.next_attempt_at = OUTBOX_FAILED, None
            row.claimed_by = row.claimed_at = None
            row.last_error = row.last_error or EXHAUSTED
            s.flush()
            log.warning("mensaje %s: fallido tras %s intentos", row.id, row.attempts)
        if row is None:
            return None
        row.claimed_by, row.claimed_at = token, now
        row.attempts += 1
        row.next_attempt_at = now + LEASE
        return {"id": row.id, "to": row.to_address, "asunto": row.asunto, "mensaje": row.mensaje,
                "created_at": as_utc(row.created_at), "lease_ends": now + LEASE}


def _release(engine, message_id: int, token: str) -> None:
    """Give a claim back untouched (not sent, the attempt not counted): due again at once."""
    with engine.transaction() as s:
        row = s.scalar(engine.locked(select(OutboxMessage).where(OutboxMessage.id == message_id)))
        if row is not None and row.claimed_by == token and row.status == OUTBOX_PENDING:
            row.claimed_by = row.claimed_at = None
            row.attempts = max(row.attempts - 1, 0)
            row.next_attempt_at = engine.now()


def _settle(engine, message_id: int, token: str, *, error: str | None = None, permanent=False,
            max_attempts=MAX_ATTEMPTS) -> bool:
    """Mark a claimed message sent (error None) or record the failed attempt; False if the claim
    is no longer this worker's (its lease ran out and another worker took it)."""
    now = engine.now()
    with engine.transaction() as s:
        row = s.scalar(engine.locked(select(OutboxMessage).where(OutboxMessage.id == message_id)))
        if row is None or row.claimed_by != token or row.status != OUTBOX_PENDING:
            log.warning("mensaje %s: el reclamo venció antes de terminar (otro trabajador lo tomó)", message_id)
            return False
        row.claimed_by = row.claimed_at = None
        if error is None:
            row.status, row.sent_at, row.next_attempt_at, row.last_error = OUTBOX_SENT, now, None, None
        elif permanent or row.attempts >= max_attempts:
            row.status, row.next_attempt_at, row.last_error = OUTBOX_FAILED, None, error[:300]
        else:
            row.next_attempt_at, row.last_error = now + backoff(row.attempts), error[:300]
        if row.status == OUTBOX_SENT:  # a failed message keeps its links: retrying it sends working ones
            row.mensaje = without_links(s, row.mensaje)
        return True


def _email(message: dict, sender: str) -> EmailMessage:
    if not _valid_address(message["to"]):
        raise _Permanent("la dirección de destino no es válida")
    email = EmailMessage()
    email["From"] = sender
    email["To"] = message["to"].strip()
    email["Subject"] = " ".join((message["asunto"] or "").split())  # one line, whatever the diagram wrote
    email["Date"] = format_datetime(message["created_at"])
    email["Message-ID"] = (f"<cpe-outbox-{message['id']}-{int(message['created_at'].timestamp())}"
                           f"@{parseaddr(sender)[1].rpartition('@')[2]}>")
    email.set_content(message["mensaje"] or "")
    return email


def deliver_due(engine, settings: SmtpSettings, limit: int = 50, worker: str | None = None,
                max_attempts: int = MAX_ATTEMPTS) -> int:
    """Send up to `limit` due messages over one SMTP connection; returns how many were sent
    (0 when nothing is due or the server cannot be reached: the round stops there, and the
    message in hand waits for its next attempt with the reason)."""
    token = worker or f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"
    sent, connection = 0, None
    try:
        for _ in range(limit):
            message = _claim(engine, token, max_attempts)
            if message is None:
                break
            failed = partial(_settle, engine, message["id"], token, max_attempts=max_attempts)
            try:
                email = _email(message, settings.sender)
            except Exception as exc:  # noqa: BLE001 - this message can never be built: failed, the round goes on
                text = str(exc) if isinstance(exc, _Permanent) else "el mensaje no se pudo preparar para el envío"
                log.warning("mensaje %s no enviado: %s (%s: %s)", message["id"], text, type(exc).__name__, exc)
                failed(error=text, permanent=True)
                continue
            try:
                if connection is None:
                    connection = settings.connect()
            except Exception as exc:  # noqa: BLE001 - the server or the settings are at fault
                text, _permanent = reason(exc)
                text = text if text != UNKNOWN else "no se pudo abrir la sesión con el servidor de correo"
                log.warning("mensaje %s no enviado: %s (%s: %s)", message["id"], text, type(exc).__name__, exc)
                failed(error=text)  # pending, with the reason: the rest waits for a later round
                break
            if engine.now() + timedelta(seconds=settings.timeout * SEND_STEPS) > message["lease_ends"]:
                # a slow connection ate the lease: sending now could outlive it (another worker would
                # send the message too), so the claim is given back for a later round
                log.warning("mensaje %s: el plazo del reclamo casi venció; se envía en otra ronda", message["id"])
                _release(engine, message["id"], token)
                break
            try:
                connection.send_message(email)
            except (OSError, smtplib.SMTPException) as exc:
                text, permanent = reason(exc)
                log.warning("mensaje %s no enviado: %s (%s: %s)", message["id"], text, type(exc).__name__, exc)
                failed(error=text, permanent=permanent)
                if not isinstance(exc, smtplib.SMTPRecipientsRefused | smtplib.SMTPDataError):
                    break  # the server or the connection is at fault: leave the rest for a later round
                continue
            except Exception as exc:  # noqa: BLE001 - something in this message the sending cannot take
                log.warning("mensaje %s no enviado (%s: %s)", message["id"], type(exc).__name__, exc)
                failed(error="el mensaje no se pudo enviar (contenido o dirección no admitidos)", permanent=True)
                _close(connection)  # its SMTP dialogue may be cut half-way: a fresh one for the next
                connection = None
                continue
            if _settle(engine, message["id"], token, max_attempts=max_attempts):
                sent += 1
    finally:
        if connection is not None:
            _close(connection)
    return sent


# -- what analysts read ---------------------------------------------------------------------

def _summary(row) -> dict:
    return {"id": row.id, "case_id": row.case_id, "destinatario": row.destinatario, "to_address": row.to_address,
            "asunto": row.asunto, "status": row.status, "attempts": row.attempts, "last_error": row.last_error,
            "created_at": as_utc(row.created_at), "sent_at": as_utc(row.sent_at),
            "next_attempt_at": as_utc(row.next_attempt_at) if row.status == OUTBOX_PENDING else None}


def messages(engine, status: str | None = None, limit: int = 100, offset: int = 0) -> list[dict]:
    """The newest messages first, optionally of one status (without their text)."""
    if status is not None and status not in STATUSES:
        raise ValueError(f"estado de mensaje desconocido: {status}")
    query = select(OutboxMessage).order_by(OutboxMessage.id.desc()).limit(limit).offset(offset)
    if status is not None:
        query = query.where(OutboxMessage.status == status)
    with engine.Session() as s:
        return [_summary(row) for row in s.scalars(query)]


def counts(engine) -> dict[str, int]:
    """How many messages are in each status (every status present, 0 when none)."""
    with engine.Session() as s:
        found = dict(s.execute(select(OutboxMessage.status, func.count()).group_by(OutboxMessage.status)).all())
    return {status: found.get(status, 0) for status in STATUSES}


def message(engine, message_id: int, *, hide_links: bool = False) -> dict | None:
    """One message with its full text, or None; with `hide_links` (mail is really sent) a private
    portal link still working in it is masked: it belongs to the company's mailbox, not the page."""
    with engine.Session() as s:
        row = s.get(OutboxMessage, message_id)
        if row is None:
            return None
        text = without_links(s, row.mensaje, HIDDEN) if hide_links else row.mensaje
        return {**_summary(row), "mensaje": text}



def retry(engine, message_id: int, by: str) -> None:
    """A failed message is tried again from scratch (its attempts start over), e.g. after the
    address or the server's settings were fixed. Conflict for any other state."""
    with engine.transaction() as s:
        row = s.scalar(engine.locked(select(OutboxMessage).where(OutboxMessage.id == message_id)))
        if row is None:
            raise NotFound(f"no existe el mensaje {message_id}")
        if row.status != OUTBOX_FAILED:
            raise Conflict("Solo se reintenta un mensaje fallido.")
        row.status, row.attempts, row.next_attempt_at, row.last_error = OUTBOX_PENDING, 0, engine.now(), None
    log.info("mensaje %s: %s pidió reintentarlo", message_id, by)
