"""The outbox leaves through a real SMTP server on loopback (aiosmtpd): exactly once per message
across workers, retries with a reason while the server is down, failed after the last attempt,
no address is a state of its own (engine/programme/outbox.py)."""

from __future__ import annotations

import hashlib
import socket
import threading
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from engine.assembly import build_engine
from engine.basics.clock import as_utc
from engine.basics.errors import Conflict
from engine.programme import outbox, portal
from engine.programme.outbox import LEASE, MAX_ATTEMPTS, SEND_STEPS, SmtpSettings, backoff, deliver_due
from engine.store.schema import Company, OutboxMessage, PortalLink


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mailbox:
    """What the loopback server accepted; addresses in `refuse` get that SMTP answer instead."""

    def __init__(self):
        self.received, self.refuse, self.lock = [], {}, threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            self.received.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 Message accepted for delivery"

    def subjects(self) -> list[str]:
        return sorted(str(m["Subject"]) for m in self.received)


class Server:
    def __init__(self):
        self.mailbox, self.port, self.controller = Mailbox(), free_port(), None

    def start(self):
        self.controller = Controller(self.mailbox, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self):
        if self.controller is not None:
            self.controller.stop()
            self.controller = None


@pytest.fixture
def server():
    running = Server()
    running.start()
    yield running
    running.stop()


@pytest.fixture
def smtp(server):
    return SmtpSettings.from_url(f"smtp://127.0.0.1:{server.port}?timeout=5", sender="cpe@prochile.test")


def queue(engine, *addresses, asunto="Aviso", mensaje="Hola.") -> list[int]:
    """Rows as the programme's writers add them (they never set a delivery state)."""
    with engine.transaction() as s:
        rows = [OutboxMessage(destinatario="pyme", to_address=address, asunto=f"{asunto} {n}", mensaje=mensaje,
                              created_at=engine.now()) for n, address in enumerate(addresses)]
        s.add_all(rows)
        s.flush()
        return [row.id for row in rows]


def states(engine) -> dict[int, tuple]:
    with engine.Session() as s:
        return {m.id: (m.status, m.attempts, m.last_error) for m in s.scalars(select(OutboxMessage))}


def test_two_workers_send_every_message_exactly_once(engine, clock, server, smtp):
    ids = queue(engine, *[f"empresa{n}@example.cl" for n in range(40)])
    other = build_engine(url=engine.url, clock=clock)  # a second worker process on the same database
    sent, failures = [], []

    def work(eng, name):
        try:
            while (count := deliver_due(eng, smtp, limit=7, worker=name)):
                sent.append(count)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)
    threads = [threading.Thread(target=work, args=(eng, name)) for eng, name in ((engine, "a"), (other, "b"))]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        other.db.dispose()
    assert failures == []
    assert sum(sent) == 40
    assert server.mailbox.subjects() == sorted(f"Aviso {n}" for n in range(40))
    assert sorted(str(m["To"]) for m in server.mailbox.received) == sorted(f"empresa{n}@example.cl" for n in range(40))
    assert set(states(engine).values()) == {("sent", 1, None)}
    with engine.Session() as s:
        assert {as_utc(m.sent_at) for m in s.scalars(select(OutboxMessage))} == {clock.now()}
        assert len(ids) == 40
    first = server.mailbox.received[0]
    assert first["From"] == "cpe@prochile.test" and first["Message-ID"].startswith("<cpe-outbox-")
    assert first.get_content().strip() == "Hola."


def test_a_server_that_is_down_leaves_messages_pending_with_a_reason_until_it_returns(engine, clock, server, smtp):
    server.stop()
    first, second = queue(engine, "uno@example.cl", "dos@example.cl")
    assert deliver_due(engine, smtp) == 0  # the round stops at the first failed connection
    assert deliver_due(engine, smtp) == 0  # the next round tries the next message
    assert deliver_due(engine, smtp) == 0  # both wait for their next attempt
    reason = "no se pudo conectar con el servidor de correo"
    assert states(engine) == {first: ("pending", 1, reason), second: ("pending", 1, reason)}
    with engine.Session() as s:
        due = {as_utc(m.next_attempt_at) for m in s.scalars(select(OutboxMessage))}
    assert due == {clock.now() + backoff(1)}

    server.start()
    assert deliver_due(engine, smtp) == 0  # not yet due
    clock.advance(backoff(1))
    assert deliver_due(engine, smtp) == 2
    assert server.mailbox.subjects() == ["Aviso 0", "Aviso 1"]
    assert states(engine) == {first: ("sent", 2, None), second: ("sent", 2, None)}


def test_after_the_last_attempt_a_message_is_failed_and_never_tried_again(engine, clock, server, smtp):
    server.stop()
    [message] = queue(engine, "uno@example.cl")
    for attempt in range(1, MAX_ATTEMPTS + 1):
        assert deliver_due(engine, smtp) == 0
        assert states(engine)[message][:2] == ("pending" if attempt < MAX_ATTEMPTS else "failed", attempt)
        clock.advance(backoff(attempt))
    server.start()
    clock.advance(days=30)
    assert deliver_due(engine, smtp) == 0
    assert states(engine) == {message: ("failed", MAX_ATTEMPTS, "no se pudo conectar con el servidor de correo")}
    assert server.mailbox.received == []
    outbox.retry(engine, message, by="analista")  # an analyst, once the cause is fixed
    assert states(engine) == {message: ("pending", 0, None)}
    with pytest.raises(Conflict):
        outbox.retry(engine, message, by="analista")
    assert deliver_due(engine, smtp) == 1 and states(engine) == {message: ("sent", 1, None)}


def test_the_server_refusing_an_address_fails_it_for_good_and_a_busy_mailbox_is_retried(engine, clock, server, smtp):
    server.mailbox.refuse = {"nadie@example.cl": "550 5.1.1 No such user", "lleno@example.cl": "452 4.2.2 Full"}
    gone, full, fine = queue(engine, "nadie@example.cl", "lleno@example.cl", "bien@example.cl")
    assert deliver_due(engine, smtp) == 1  # one refusal does not stop the others
    assert states(engine) == {
        gone: ("failed", 1, "el servidor rechazó la dirección de destino (código 550)"),
        full: ("pending", 1, "el servidor rechazó la dirección de destino (código 452)"),
        fine: ("sent", 1, None)}
    server.mailbox.refuse = {}
    clock.advance(backoff(1))
    assert deliver_due(engine, smtp) == 1
    assert server.mailbox.subjects() == ["Aviso 1", "Aviso 2"]
    assert states(engine)[full] == ("sent", 2, None)


def test_a_message_without_an_address_is_a_state_not_an_error(engine, clock, server, smtp):
    nobody, blank, malformed = queue(engine, None, "  ", "no-es-correo")
    assert states(engine)[nobody] == states(engine)[blank] == ("sin_direccion", 0, None)
    assert deliver_due(engine, smtp) == 0
    clock.advance(days=1)
    assert deliver_due(engine, smtp) == 0
    assert states(engine) == {nobody: ("sin_direccion", 0, None), blank: ("sin_direccion", 0, None),
                              malformed: ("failed", 1, "la dirección de destino no es válida")}
    assert server.mailbox.received == []


@pytest.mark.parametrize("address", ["a@\u2028b.cl", "a\u0085b@c.cl", "a@\x00b.cl", "ñandú@b.cl", "a b@c.cl",
                                     "a@b.cl>", "<a@b.cl>", "a..b@c.cl", "a@b"])
def test_a_bad_address_fails_its_message_and_the_round_goes_on(engine, server, smtp, address):
    if "\x00" in address and engine.db.dialect.name == "postgresql":
        pytest.skip("PostgreSQL cannot store a NUL, so no stored address holds one there")
    bad, good = queue(engine, address, "uno@example.cl")
    assert deliver_due(engine, smtp) == 1
    assert states(engine) == {bad: ("failed", 1, "la dirección de destino no es válida"), good: ("sent", 1, None)}
    assert [str(m["To"]) for m in server.mailbox.received] == ["uno@example.cl"]


def test_an_error_opening_the_session_leaves_the_message_pending_with_a_reason(engine, server, smtp, monkeypatch):
    def login_fails(settings):  # e.g. smtplib encoding a credential it cannot send
        raise UnicodeEncodeError("ascii", "ñ", 0, 1, "ordinal not in range(128)")
    monkeypatch.setattr(SmtpSettings, "connect", login_fails)
    first, second = queue(engine, "uno@example.cl", "dos@example.cl")
    assert deliver_due(engine, smtp) == 0
    assert states(engine) == {first: ("pending", 1, "no se pudo abrir la sesión con el servidor de correo"),
                              second: ("pending", 0, None)}


def test_a_message_the_sending_cannot_take_fails_alone(engine, server, smtp, monkeypatch):
    import smtplib
    send = smtplib.SMTP.send_message

    def picky(connection, email, *args, **kwargs):  # an error smtplib raises for this one message only
        if email["To"] == "raro@example.cl":
            raise UnicodeEncodeError("ascii", "ñ", 0, 1, "ordinal not in range(128)")
        return send(connection, email, *args, **kwargs)
    monkeypatch.setattr(smtplib.SMTP, "send_message", picky)
    odd, fine = queue(engine, "raro@example.cl", "bien@example.cl")
    assert deliver_due(engine, smtp) == 1
    assert states(engine) == {odd: ("failed", 1, "el mensaje no se pudo enviar (contenido o dirección no admitidos)"),
                              fine: ("sent", 1, None)}
    assert [str(m["To"]) for m in server.mailbox.received] == ["bien@example.cl"]


def test_a_message_at_its_last_attempt_is_failed_not_claimed_again(engine, clock, server, smtp):
    [message] = queue(engine, "uno@example.cl")
    with engine.transaction() as s:  # its worker died in the middle of every attempt
        s.get(OutboxMessage, message).attempts = MAX_ATTEMPTS
    assert deliver_due(engine, smtp) == 0
    assert states(engine) == {message: ("failed", MAX_ATTEMPTS, "se agotaron los intentos de envío")}
    assert server.mailbox.received == []


def test_a_claim_whose_lease_is_nearly_over_is_given_back_not_sent(engine, clock, server, smtp, monkeypatch):
    [message] = queue(engine, "uno@example.cl")
    connect = SmtpSettings.connect

    def slow(settings):  # the connection took so long that sending could outlive the claim
        clock.advance(LEASE - timedelta(seconds=smtp.timeout * SEND_STEPS) + timedelta(seconds=1))
        return connect(settings)
    monkeypatch.setattr(SmtpSettings, "connect", slow)
    assert deliver_due(engine, smtp) == 0
    assert server.mailbox.received == [] and states(engine) == {message: ("pending", 0, None)}
    monkeypatch.setattr(SmtpSettings, "connect", connect)
    assert deliver_due(engine, smtp) == 1 and states(engine) == {message: ("sent", 1, None)}


def test_a_claim_whose_worker_died_is_taken_again_after_its_lease(engine, clock, server, smtp):
    [message] = queue(engine, "uno@example.cl")
    claimed = outbox._claim(engine, "muerto")  # a worker claims, then dies before sending
    assert claimed["id"] == message
    assert deliver_due(engine, smtp, worker="vivo") == 0  # the claim holds
    clock.advance(LEASE)
    assert deliver_due(engine, smtp, worker="vivo") == 1
    assert outbox._settle(engine, message, "muerto") is False  # the dead worker's late mark changes nothing
    assert states(engine) == {message: ("sent", 2, None)}
    assert len(server.mailbox.received) == 1


def test_a_private_portal_link_leaves_by_mail_and_is_not_kept(engine, clock, server, smtp):
    token = "A" * 20 + "b-_" + "9" * 20  # the shape of secrets.token_urlsafe(32)
    with engine.transaction() as s:
        company = Company(rut="76086428-5", razon_social="Conservas del Sur SpA", created_at=clock.now(),
                          updated_at=clock.now())
        s.add(company)
        s.flush()
        s.add(PortalLink(company_id=company.id, token_hash=hashlib.sha256(token.encode()).hexdigest(),
                         created_at=clock.now(), expires_at=clock.now() + timedelta(days=1)))
    other = "Z" * 43  # not a stored link: left as is
    server.mailbox.refuse = {"uno@example.cl": "550 5.1.1 No such user"}
    [message] = queue(engine, "uno@example.cl",
                      mensaje=f"Su enlace: https://cpe.example/portal/e/{token}\nOtro: {other}")
    assert deliver_due(engine, smtp) == 0 and states(engine)[message][0] == "failed"
    with engine.Session() as s:
        assert token in s.scalar(select(OutboxMessage.mensaje))  # failed: kept, so a retry sends a working link
    server.mailbox.refuse = {}
    outbox.retry(engine, message, by="analista")
    assert deliver_due(engine, smtp) == 1
    assert token in server.mailbox.received[0].get_content()
    with engine.Session() as s:
        text = s.scalar(select(OutboxMessage.mensaje))
    assert token not in text and f"/portal/e/{portal.REDACTED}" in text and other in text


@pytest.mark.parametrize(("url", "expected"), [
    ("smtp://mail.example.cl:587?starttls=1", ("mail.example.cl", 587, "starttls", None, None)),
    ("smtp://mail.example.cl", ("mail.example.cl", 25, "none", None, None)),
    ("smtps://u%40x.cl:p%3Ass@mail.example.cl", ("mail.example.cl", 465, "ssl", "u@x.cl", "p:ss")),
])
def test_the_smtp_url_says_where_and_how(url, expected):
    settings = SmtpSettings.from_url(url, sender="cpe@prochile.test")
    assert (settings.host, settings.port, settings.security, settings.user, settings.password) == expected
    assert "p:ss" not in repr(settings) and "p:ss" not in settings.describe()


def test_credentials_and_sender_come_from_the_environment():
    assert SmtpSettings.from_env({}) is None  # development: nothing is sent
    settings = SmtpSettings.from_env({"CPE_SMTP_URL": "smtp://a:b@mail.example.cl:587?starttls=1",
                                      "CPE_SMTP_USER": "cpe@prochile.test", "CPE_SMTP_PASSWORD": "secreto"})
    assert (settings.user, settings.password, settings.sender) == ("cpe@prochile.test", "secreto", "cpe@prochile.test")
    named = SmtpSettings.from_env({"CPE_SMTP_URL": "smtps://mail.example.cl",
                                   "CPE_MAIL_FROM": "CPE ProChile <cpe@x.cl>"})
    assert named.sender == "CPE ProChile <cpe@x.cl>"


@pytest.mark.parametrize(("url", "sender", "message"), [
    ("http://mail.example.cl", "a@b.cl", "smtp:// o smtps://"),
    ("smtp://:25", "a@b.cl", "falta el nombre del servidor"),
    ("smtp://mail.example.cl:xx", "a@b.cl", "puerto"),
    ("smtp://mail.example.cl?tls=1", "a@b.cl", "opción desconocida «tls»"),
    ("smtp://mail.example.cl?starttls=quizas", "a@b.cl", "starttls debe ser 1 o 0"),
    ("smtps://mail.example.cl?starttls=1", "a@b.cl", "ya cifra"),
    ("smtp://mail.example.cl?timeout=0", "a@b.cl", "timeout"),
    ("smtp://mail.example.cl?timeout=61", "a@b.cl", "entre 1 y 60 segundos"),
    ("smtp://u:%C3%B1o@mail.example.cl", "a@b.cl", "solo pueden tener caracteres ASCII"),
    ("smtp://mail.example.cl", "", "CPE_MAIL_FROM"),
    ("smtp://mail.example.cl", "cpe\r\nBcc: x@y.cl", "no es una dirección válida"),
    ("smtp://mail.example.cl", "CPE <cpe>", "no es una dirección válida"),
])
def test_an_unusable_smtp_setting_is_refused_with_a_clear_reason(url, sender, message):
    with pytest.raises(ValueError, match=message):
        SmtpSettings.from_url(url, sender=sender)


def test_a_subject_with_line_breaks_is_sent_on_one_line(engine, server):
    smtp = SmtpSettings.from_url(f"smtp://127.0.0.1:{server.port}", sender="Centros Pyme Exporta <cpe@prochile.test>")
    queue(engine, "uno@example.cl", asunto="Aviso\r\nBcc: otro@example.cl")
    assert deliver_due(engine, smtp) == 1
    [received] = server.mailbox.received
    assert received["Subject"] == "Aviso Bcc: otro@example.cl 0" and received["Bcc"] is None
    assert received["From"] == "Centros Pyme Exporta <cpe@prochile.test>"
    assert received["Message-ID"].endswith("@prochile.test>")


def test_cpe_worker_sends_the_outbox_when_smtp_is_configured(engine, server, monkeypatch):
    from click.testing import CliRunner

    from cli.context import CliContext
    from cli.main import cpe
    from webapp import create_app

    queue(engine, "uno@example.cl", None)
    app = create_app({"ENGINE": engine, "SECRET_KEY": "test"})
    monkeypatch.delenv("CPE_SMTP_URL", raising=False)
    result = CliRunner().invoke(cpe, ["worker", "--once"], obj=CliContext.for_app(app))
    assert result.exit_code == 0 and "/correo/" in result.stderr and server.mailbox.received == []
    monkeypatch.setenv("CPE_SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    monkeypatch.setenv("CPE_MAIL_FROM", "cpe@prochile.test")
    result = CliRunner().invoke(cpe, ["worker", "--once"], obj=CliContext.for_app(app))
    assert result.exit_code == 0, result.output
    assert "1 mensaje(s) enviados" in result.stderr and server.mailbox.subjects() == ["Aviso 0"]
    monkeypatch.setenv("CPE_MAIL_FROM", "sin arroba")
    result = CliRunner().invoke(cpe, ["worker", "--once"], obj=CliContext.for_app(app))
    assert result.exit_code != 0 and "CPE_MAIL_FROM no es una dirección válida" in result.stderr


def test_the_migration_keeps_existing_messages(engine, clock):
    from alembic import command
    from sqlalchemy import text

    from engine.store.db import alembic_config

    def migrate(verb, revision):
        config = alembic_config(engine.url)
        with engine.db.begin() as connection:
            config.attributes["connection"] = connection
            getattr(command, verb)(config, revision)

    migrate("downgrade", "0011")
    now = datetime.now(UTC)  # the migration runs at the real time, not the test's clock
    recent, old = now - timedelta(hours=1), now - timedelta(days=8)
    with engine.db.begin() as connection:
        for address, created, sent in (("uno@example.cl", old, old), ("dos@example.cl", recent, None),
                                       ("tres@example.cl", old, None), (None, old, None)):
            connection.execute(text("INSERT INTO outbox (destinatario, to_address, asunto, mensaje, created_at, "
                                    "sent_at) VALUES ('pyme', :a, 's', 'm', :c, :s)"),
                               {"a": address, "c": created, "s": sent})
    migrate("upgrade", "head")
    assert sorted(states(engine).values()) == [
        ("failed", 0, "anterior al envío por correo: no se envió"),  # months-old history is not mailed now
        ("pending", 0, None), ("sent", 0, None), ("sin_direccion", 0, None)]
    with engine.Session() as s:
        pending = s.scalar(select(OutboxMessage).where(OutboxMessage.status == "pending"))
        assert pending.to_address == "dos@example.cl" and as_utc(pending.next_attempt_at) == recent
        old_one = s.scalar(select(OutboxMessage).where(OutboxMessage.status == "failed"))
        assert old_one.to_address == "tres@example.cl" and old_one.next_attempt_at is None
