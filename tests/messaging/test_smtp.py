"""E-mail through a real SMTP server the test starts (aiosmtpd) with STARTTLS and AUTH; bounces from a Maildir."""

from __future__ import annotations

import email
import email.policy
import shutil
import socket
import ssl
import subprocess

import pytest
import pytest_twisted
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from sqlalchemy import select
from twisted.internet import reactor

from crm_core.models import InboundMessage, OutboxMessage
from crm_core.services.outbox import enqueue
from messaging.bounces import MaildirBounces, parse_bounce
from messaging.channels.smtp import SmtpAdapter
from messaging.dispatcher import Dispatcher, DispatchPolicy

from messaging_rig import wait_for

USER, PASSWORD = "hotline", "mail-pass"


def _free_port() -> int:
    with socket.socket() as probe:  # aiosmtpd checks its listener by connecting to the port it was given
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Handler:
    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.startswith("nobody@"):
            return "550 5.1.1 <nobody@example.com>: mailbox unavailable"
        if address.startswith("later@"):
            return "451 4.3.0 try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.original_content))
        return "250 Message accepted"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make the test server's certificate")
    folder = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(folder / "key.pem"),
                    "-out", str(folder / "cert.pem")], check=True, capture_output=True)
    return folder / "cert.pem", folder / "key.pem"


@pytest.fixture
def smtp_server(certificate):
    cert, key = certificate
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    handler = Handler()
    logins: list[tuple[str, bool]] = []

    def authenticator(server, session, envelope, mechanism, auth_data):
        ok = isinstance(auth_data, LoginPassword) and (auth_data.login.decode(), auth_data.password.decode()) == \
            (USER, PASSWORD)
        logins.append((session.ssl is not None, ok))
        return AuthResult(success=ok, handled=False)  # handled=False: the server answers 535 itself

    controller = Controller(handler, hostname="127.0.0.1", port=_free_port(), tls_context=context,
                            require_starttls=True, authenticator=authenticator, auth_require_tls=True)
    controller.start()
    yield handler, controller.port, str(cert), logins
    controller.stop()


async def _dispatcher(db, port, cert, password=PASSWORD):
    adapter = SmtpAdapter(reactor, "127.0.0.1", port, username=USER, password=password,
                          from_address="service@hotline.example", ca_file=cert, timeout=5)
    dispatcher = Dispatcher(db.gateway, clock=reactor, policy=DispatchPolicy(poll_interval=0.05, retry_base=0.1,
                                                                             retry_max=0.2))
    dispatcher.add_lane("email", adapter, rate=100)
    await dispatcher.start()
    return dispatcher


@pytest_twisted.ensureDeferred
async def test_plain_and_html_mail_over_starttls_with_auth(sqlite_outbox_db, smtp_server):
    handler, port, cert, logins = smtp_server
    db = sqlite_outbox_db
    dispatcher = await _dispatcher(db, port, cert)
    try:
        msg = db.do(lambda s: enqueue(s, "email", "Li.Lei@Example.COM", template="order_shipped", key="mail-1",
                                      data={"customer_name": "李雷 <VIP>", "order_no": "1234567890",
                                            "courier": "顺丰", "waybill": "SF1"}).id)
        dispatcher.wake("email")
        await wait_for(lambda: db.message(msg).status == "sent", what="sent")
    finally:
        await dispatcher.stop()
    assert logins == [(True, True)]  # authenticated, and only after STARTTLS
    mail_from, rcpt, raw = handler.messages[0]
    assert (mail_from, rcpt) == (f"bounces+{msg}@hotline.example", ["Li.Lei@example.com"])
    parsed = email.message_from_bytes(raw, policy=email.policy.default)
    assert parsed["Subject"] == "订单已发货 1234567890"
    assert parsed["Message-ID"] == "<mail-1@hotline.example>" == db.message(msg).provider_message_id
    plain = parsed.get_body(("plain",)).get_content()
    html = parsed.get_body(("html",)).get_content()
    assert "李雷 <VIP>您好" in plain and "运单号SF1" in plain
    assert "李雷 &lt;VIP&gt;您好" in html and "<p>" in html  # merge values escaped in the HTML part


@pytest_twisted.ensureDeferred
async def test_refused_recipient_bounces_at_once_deferred_one_retries_bad_password_retries(sqlite_outbox_db,
                                                                                          smtp_server):
    handler, port, cert, logins = smtp_server
    db = sqlite_outbox_db
    dispatcher = await _dispatcher(db, port, cert)
    try:
        gone = db.do(lambda s: enqueue(s, "email", "nobody@example.com", subject="s", body="b", key="mail-550").id)
        later = db.do(lambda s: enqueue(s, "email", "later@example.com", subject="s", body="b", key="mail-451",
                                        max_attempts=2).id)
        dispatcher.wake("email")
        await wait_for(lambda: db.message(gone).status == "failed" and db.message(later).status == "failed",
                       what="outcomes")
    finally:
        await dispatcher.stop()
    assert db.message(gone).attempts == 1
    assert db.message(gone).last_error.startswith("bounced: recipient refused (550 5.1.1")
    assert db.message(later).attempts == 2 and "recipient deferred (451" in db.message(later).last_error
    dispatcher = await _dispatcher(db, port, cert, password="wrong")
    try:
        bad = db.do(lambda s: enqueue(s, "email", "ok@example.com", subject="s", body="b", key="mail-auth",
                                      max_attempts=1).id)
        dispatcher.wake("email")
        await wait_for(lambda: db.message(bad).status == "failed", what="failed")
    finally:
        await dispatcher.stop()
    assert "SMTP authentication failed (535)" in db.message(bad).last_error
    assert handler.messages == []


@pytest_twisted.ensureDeferred
async def test_unreachable_relay_retries_then_fails(sqlite_outbox_db):
    db = sqlite_outbox_db
    dispatcher = await _dispatcher(db, 9, "")
    try:
        msg = db.do(lambda s: enqueue(s, "email", "a@example.com", subject="s", body="b", key="mail-down",
                                      max_attempts=2).id)
        dispatcher.wake("email")
        await wait_for(lambda: db.message(msg).status == "failed", what="failed")
    finally:
        await dispatcher.stop()
    assert db.message(msg).attempts == 2 and "gateway unreachable" in db.message(msg).last_error


DSN = """Return-Path: <>
Delivered-To: bounces+{id}@hotline.example
From: Mail Delivery System <MAILER-DAEMON@mx.example.com>
To: bounces+{id}@hotline.example
Subject: Undelivered Mail Returned to Sender
Message-ID: <dsn-{id}@mx.example.com>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="B"

--B
Content-Type: text/plain

Your message could not be delivered.

--B
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.com

Final-Recipient: rfc822; li.lei@example.com
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 user unknown

--B
Content-Type: text/rfc822-headers

Message-ID: <mail-b@hotline.example>
X-Hotline-Message: {id}

--B--
"""


@pytest_twisted.ensureDeferred
async def test_bounce_report_in_the_maildir_fails_the_message_once(sqlite_outbox_db, tmp_path):
    db = sqlite_outbox_db
    msg = db.do(lambda s: enqueue(s, "email", "li.lei@example.com", subject="s", body="b", key="mail-b").id)
    db.do(lambda s: setattr(s.get(OutboxMessage, msg), "status", "sent"))  # it went out earlier
    (tmp_path / "new").mkdir()
    for n in (1, 2):  # the same report delivered twice
        (tmp_path / "new" / f"17000000{n}.M1P1.host").write_text(DSN.format(id=msg))
    (tmp_path / "new" / "17000003.M1P1.host").write_text("Subject: hello\n\nnot a bounce\n")
    assert parse_bounce(DSN.format(id=msg).encode()).reason == "smtp; 550 5.1.1 user unknown"
    bounces = MaildirBounces(db.gateway, reactor, tmp_path)
    try:
        assert await bounces.poll() == 2
        assert await bounces.poll() == 0  # nothing new
    finally:
        bounces.stop()
    row = db.message(msg)
    assert row.status == "failed" and row.last_error == "bounced: smtp; 550 5.1.1 user unknown"
    filed = db.do(lambda s: list(s.scalars(select(InboundMessage))))
    assert [(r.kind, r.outbox_message_id) for r in filed] == [("bounce", msg)]
    assert not list((tmp_path / "new").iterdir()) and len(list((tmp_path / "cur").iterdir())) == 3
