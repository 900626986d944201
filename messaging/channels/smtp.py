"""E-mail over SMTP with STARTTLS and authentication: ``smtplib`` on a small thread pool, never on the reactor.

Each message is a ``multipart/alternative`` (plain text and HTML) with a
``Message-ID`` made from the outbox key, so a resend after a crash carries
the same id (mail stores and clients fold such duplicates, though SMTP itself
promises nothing; see docs/messaging.md). The envelope sender is a VERP
address, ``bounces+<outbox id>@<bounce domain>``, so a bounce report names
the message it is about (``messaging.bounces``).

Outcomes: accepted by the relay -> sent; recipient refused with a 5xx ->
failed for good ("bounced" at RCPT time); 4xx, connection refused, TLS or
authentication trouble, timeouts -> transient, retried later.
"""

from __future__ import annotations

import smtplib
import socket
import ssl
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any

from twisted.internet import defer

from crm_core.services.outbox_dispatch import ClaimedMessage
from messaging.channels.base import Listener, PermanentSendError, SendResult, TransientSendError
from messaging.threads import BlockingPool


def build_email(message: ClaimedMessage, from_address: str, domain: str) -> EmailMessage:
    """The MIME message of an outbox e-mail (plain text, with its HTML alternative when there is one)."""
    mail = EmailMessage()
    mail["From"] = from_address
    mail["To"] = message.recipient
    mail["Subject"] = message.subject or ""
    mail["Date"] = formatdate(localtime=False, usegmt=True)
    mail["Message-ID"] = f"<{message.idempotency_key}@{domain}>"
    mail["X-Hotline-Message"] = str(message.id)
    mail.set_content(message.body)
    if message.body_html:
        mail.add_alternative(message.body_html, subtype="html")
    return mail


class SmtpAdapter:
    """Relays through one SMTP server (STARTTLS unless ``starttls=False``; implicit TLS with ``use_ssl``)."""

    kind = "smtp"

    def __init__(self, reactor: Any, host: str, port: int, *, username: str = "", password: str = "",
                 from_address: str, starttls: bool = True, use_ssl: bool = False, ca_file: str = "",
                 timeout: float = 30.0, bounce_domain: str = "", max_connections: int = 4,
                 lease_seconds: float = 300.0) -> None:
        if not from_address or "@" not in from_address:
            raise ValueError("email.from_address must be an e-mail address")
        self.reactor = reactor
        self.host, self.port, self.username, self.password = host, int(port), username, password
        self.from_address, self.starttls, self.use_ssl = from_address, starttls, use_ssl
        self.ca_file, self.timeout = ca_file, timeout
        self.domain = bounce_domain or from_address.rsplit("@", 1)[1]
        self.max_in_flight, self.lease_seconds = max_connections, lease_seconds
        self.threads = BlockingPool(reactor, "hotline-smtp", max_connections)

    def start(self, listener: Listener) -> None:
        """Threads start with the first message."""

    def stop(self) -> None:
        self.threads.stop()

    def tls_context(self) -> ssl.SSLContext:
        """Certificates checked against the system store, or ``ca_file`` (a private relay's CA)."""
        return ssl.create_default_context(cafile=self.ca_file or None)

    def envelope_sender(self, message: ClaimedMessage) -> str:
        """The VERP return path that ties a bounce to this message."""
        return f"bounces+{message.id}@{self.domain}"

    def send(self, message: ClaimedMessage) -> defer.Deferred:
        return self.threads.run(self._deliver, message)

    def _deliver(self, message: ClaimedMessage) -> SendResult:
        """In a pool thread: one SMTP session for one message."""
        mail = build_email(message, self.from_address, self.domain)
        try:
            if self.use_ssl:
                client: smtplib.SMTP = smtplib.SMTP_SSL(self.host, self.port, timeout=self.timeout,
                                                        context=self.tls_context())
            else:
                client = smtplib.SMTP(self.host, self.port, timeout=self.timeout)
            with client:
                client.ehlo()
                if self.starttls and not self.use_ssl:
                    client.starttls(context=self.tls_context())
                    client.ehlo()
                if self.username:
                    client.login(self.username, self.password)
                refused = client.send_message(mail, from_addr=self.envelope_sender(message),
                                              to_addrs=[message.recipient])
        except smtplib.SMTPRecipientsRefused as exc:
            code, text = next(iter(exc.recipients.values()))
            reason = f"{code} {text.decode('utf-8', 'replace') if isinstance(text, bytes) else text}"
            if 500 <= code < 600:
                raise PermanentSendError(f"bounced: recipient refused ({reason})", result={"smtp_code": code}) \
                    from None
            raise TransientSendError(f"recipient deferred ({reason})", result={"smtp_code": code}) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise TransientSendError(f"SMTP authentication failed ({exc.smtp_code}): check email.smtp_username "
                                     "and the password") from None
        except smtplib.SMTPResponseException as exc:
            said = exc.smtp_error
            reason = f"{exc.smtp_code} {said.decode('utf-8', 'replace') if isinstance(said, bytes) else said}"
            if 500 <= exc.smtp_code < 600:
                raise PermanentSendError(f"relay refused the message ({reason})", result={"smtp_code": exc.smtp_code}) \
                    from None
            raise TransientSendError(f"relay deferred the message ({reason})") from None
        except smtplib.SMTPNotSupportedError as exc:
            raise TransientSendError(f"relay cannot do what is configured: {exc}") from None
        except (smtplib.SMTPException, ssl.SSLError, socket.timeout, OSError) as exc:
            raise TransientSendError(f"gateway unreachable: {type(exc).__name__}: {exc}") from None
        if refused:
            raise TransientSendError(f"recipient deferred: {refused}")
        return SendResult("sent", mail["Message-ID"], {"relay": f"{self.host}:{self.port}"})
