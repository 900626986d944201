"""``hotline messages``: the outbox from the command line.

* ``list [--channel C] [--status S] [--limit N] [--json]`` -- newest messages first,
  read straight from the database like the other ``hotline`` commands;
* ``dispatch`` -- run the outbox dispatcher on its own (no call handling): a
  separate worker process beside the engine, or one for sending only. Several
  dispatchers share the outbox safely (claims skip locked rows; a stopped
  one's claims are recovered by the next start on its host, or when their
  lease lapses).
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from typing import Any

from hotline.settings import Settings, database_url

log = logging.getLogger(__name__)

CHANNELS = ("sms", "email", "fax", "voice")
STATUSES = ("queued", "sending", "sent", "delivered", "failed", "expired", "cancelled")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    actions = parser.add_subparsers(dest="messages_action", metavar="ACTION")
    actions.required = True
    listing = actions.add_parser("list", help="outbox messages, newest first")
    listing.add_argument("--channel", choices=CHANNELS, help="only this channel")
    listing.add_argument("--status", choices=STATUSES, help="only this status")
    listing.add_argument("--limit", type=int, default=50, help="at most this many (default 50)")
    listing.add_argument("--json", action="store_true", help="JSON instead of a table")
    actions.add_parser("dispatch", help="run the outbox dispatcher on its own until interrupted")


def _row(message: Any) -> dict[str, Any]:
    def iso(value: Any) -> str | None:
        return value.isoformat() if value is not None else None

    return {"id": message.id, "channel": message.channel, "status": message.status, "recipient": message.recipient,
            "template": message.template, "subject": message.subject, "body": message.body,
            "attempts": message.attempts, "max_attempts": message.max_attempts, "provider": message.provider,
            "provider_message_id": message.provider_message_id, "segments": message.segments,
            "last_error": message.last_error, "customer_id": message.customer_id, "order_id": message.order_id,
            "call_uuid": message.call_uuid, "idempotency_key": message.idempotency_key,
            "created_at": iso(message.created_at), "sent_at": iso(message.sent_at),
            "delivered_at": iso(message.delivered_at)}


def list_messages(settings: Settings, args: argparse.Namespace) -> int:
    from sqlalchemy.exc import DBAPIError

    from crm_core.db import make_engine, session_factory, transaction
    from crm_core.services.outbox import list_messages as query

    if args.limit < 1:
        print("hotline messages: --limit must be at least 1", file=sys.stderr)
        return 2
    engine = make_engine(database_url(settings))
    try:
        with transaction(session_factory(engine)) as session:
            rows = [_row(m) for m in query(session, channel=args.channel, status=args.status, limit=args.limit)]
    except DBAPIError as exc:
        print(f"hotline messages: cannot read the outbox: {' '.join(str(exc.orig or exc).split())[:300]}",
              file=sys.stderr)
        return 1
    finally:
        engine.dispose()
    if args.json:
        print(json.dumps(rows, ensure_ascii=False, indent=2))
        return 0
    if not rows:
        print("no messages")
        return 0
    print(f"{'id':>7}  {'channel':7}  {'status':9}  {'recipient':24}  {'template':22}  {'try':>5}  "
          f"{'gateway':10}  detail")
    for r in rows:
        detail = r["last_error"] or r["provider_message_id"] or ""
        print(f"{r['id']:>7}  {r['channel']:7}  {r['status']:9}  {r['recipient'][:24]:24}  "
              f"{(r['template'] or '-')[:22]:22}  {r['attempts']:>2}/{r['max_attempts']:<2}  "
              f"{(r['provider'] or '-'):10}  {detail[:60]}")
    return 0


def dispatch(settings: Settings) -> int:
    from twisted.internet import reactor
    from twisted.internet.endpoints import TCP4ClientEndpoint

    from crm_core.db import make_engine, session_factory
    from freeswitch.switch import Switch
    from hotline.db_gateway import ThreadPoolGateway
    from messaging.service import MessagingService

    engine = make_engine(database_url(settings), pool_size=settings.db.pool_size)
    gateway = ThreadPoolGateway(session_factory(engine), reactor, max_threads=settings.db.pool_size)
    gateway.start()
    switch = None
    if "freeswitch" in (settings.fax.gateway, settings.voice.gateway):
        host, port, password = (settings.switch.host, settings.switch.port, settings.switch.password)
        switch = Switch(TCP4ClientEndpoint(reactor, host, port), password, clock=reactor,
                        events=("CHANNEL_HANGUP_COMPLETE",), command_timeout=settings.switch.command_timeout)
        switch.start()
    service = MessagingService(settings, gateway, reactor, switch=lambda: switch,
                               region=settings.crm.default_region, listen_for_faxes=False)

    def started(_: Any) -> None:
        print(f"outbox dispatcher running as {service.dispatcher.worker} "
              f"({', '.join(f'{c}: {g.kind}' for c, g in service.configs.items())}); Ctrl-C to stop", flush=True)

    def failed(failure: Any) -> None:
        print(f"hotline messages dispatch: could not start: {failure.getErrorMessage()}", file=sys.stderr)
        reactor.stop()

    reactor.callWhenRunning(lambda: service.start().addCallbacks(started, failed))
    reactor.addSystemEventTrigger("before", "shutdown", service.stop)
    reactor.addSystemEventTrigger("after", "shutdown", gateway.stop)
    if switch is not None:
        reactor.addSystemEventTrigger("before", "shutdown", switch.stop)
    reactor.run()
    engine.dispose()
    return 0


def main(settings: Settings, args: argparse.Namespace) -> int:
    if args.messages_action == "list":
        return list_messages(settings, args)
    return dispatch(settings)
