"""Exactly one send across a restart: a dispatcher process is killed between "sending" and "sent".

The dispatcher runs as a real child process (``hotline messages dispatch``)
sending through the HTTP SMS adapter to a provider this test serves. When
the provider receives the send it kills the child (SIGKILL) before
answering: the provider has the message, the outbox says ``sending``. A new
dispatcher process recovers the claim (its predecessor's pid is gone), sends
again with the same idempotency key, the provider recognises it and answers
with the first message id: one message at the provider, the outbox row
``sent`` with that id. The capture gateway is checked the same way in process.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest_twisted
from sqlalchemy import func, select
from twisted.internet import reactor

from crm_core.models import CapturedMessage
from crm_core.services.capture import capture_messages
from crm_core.services.outbox import enqueue
from crm_core.services.outbox_dispatch import claim_due
from messaging.channels.capture import CaptureAdapter
from messaging.dispatcher import Dispatcher, DispatchPolicy

from messaging_rig import wait_for
from sms_provider import API_KEY, SECRET, Provider, serve

ROOT = Path(__file__).resolve().parents[2]


def _dispatcher_process(url: str, api: str, tmp: Path, name: str) -> subprocess.Popen:
    env = {**os.environ, "HOTLINE_DB_URL": url, "HOTLINE_SMS_GATEWAY": "http", "HOTLINE_SMS_HTTP_URL": api,
           "HOTLINE_SMS_HTTP_API_KEY": API_KEY, "HOTLINE_SMS_HTTP_SECRET": SECRET,
           "HOTLINE_MESSAGING_POLL_INTERVAL": "0.05", "HOTLINE_MESSAGING_RETRY_BASE": "0.2",
           "HOTLINE_FAX_STORE_DIR": str(tmp / "fax"), "HOTLINE_FAX_SPOOL_DIR": str(tmp / "spool"),
           "HOTLINE_MESSAGING_STORE_DIR": str(tmp / "msg"), "PYTHONPATH": str(ROOT)}
    env.pop("HOTLINE_CONFIG", None)
    log = open(tmp / f"{name}.log", "wb")  # a file, not a pipe: a full pipe would stall the child
    try:
        return subprocess.Popen([sys.executable, "-m", "hotline", "messages", "dispatch"], cwd=tmp, env=env,
                                stdout=log, stderr=subprocess.STDOUT)
    finally:
        log.close()


@pytest_twisted.ensureDeferred
async def test_dispatcher_killed_between_sending_and_sent_sends_exactly_once_after_restart(outbox_db, tmp_path):
    provider = Provider()
    port, api = serve(provider)
    started: list[subprocess.Popen] = []

    def kill_before_answering(data):
        if len(provider.requests) == 1:  # the first send reached the provider: the dispatcher dies now
            os.kill(started[0].pid, signal.SIGKILL)

    provider.on_send = kill_before_answering
    message_id = outbox_db.do(lambda s: enqueue(s, "sms", "13800138000", body="只发一次", key="once-1").id)
    try:
        first = _dispatcher_process(outbox_db.url, api, tmp_path, "first")
        started.append(first)
        await wait_for(lambda: first.poll() is not None, timeout=30, what="the first dispatcher killed")
        assert first.returncode == -signal.SIGKILL
        row = outbox_db.message(message_id)
        assert (row.status, row.attempts, row.provider_message_id) == ("sending", 1, None)
        assert row.claimed_by.endswith(f":{first.pid}")
        assert len(provider.messages) == 1  # the provider has it; the outbox does not know

        second = _dispatcher_process(outbox_db.url, api, tmp_path, "second")
        started.append(second)
        try:
            await wait_for(lambda: outbox_db.message(message_id).status == "sent", timeout=30,
                           what="sent after recovery")
        finally:
            second.send_signal(signal.SIGTERM)
            await wait_for(lambda: second.poll() is not None, timeout=15, what="second dispatcher stopped")
        row = outbox_db.message(message_id)
        assert (row.status, row.attempts) == ("sent", 2)
        assert row.provider_message_id == provider.messages["once-1"]["id"] == "prov-1"
        assert row.result["duplicate"] is True
        assert [r["key"] for r in provider.requests] == ["once-1", "once-1"]  # sent twice, ...
        assert len(provider.messages) == 1  # ... one message: exactly one SMS
        assert second.returncode == 0, (tmp_path / "second.log").read_text()[-2000:]
    finally:
        for proc in started:
            if proc.poll() is None:
                proc.kill()
        await port.stopListening()


@pytest_twisted.ensureDeferred
async def test_capture_gateway_recognises_a_resend_after_a_lost_claim(sqlite_outbox_db):
    db = sqlite_outbox_db
    message_id = db.do(lambda s: enqueue(s, "sms", "13800138000", body="captured once", key="cap-once").id)
    # a dispatcher on this host (pid 999999999, gone) claimed it and the capture happened before it died
    claimed = db.do(lambda s: claim_due(s, "sms", 5, worker=f"{os.uname().nodename}:999999999",
                                        lease_seconds=3600))
    assert [m.id for m in claimed] == [message_id]
    db.do(lambda s: capture_messages(s, [{"channel": "sms", "recipient": "+8613800138000", "body": "captured once",
                                          "client_ref": "cap-once"}]))
    dispatcher = Dispatcher(db.gateway, clock=reactor, policy=DispatchPolicy(poll_interval=0.05))
    dispatcher.add_lane("sms", CaptureAdapter(db.gateway, reactor), rate=1000)
    assert await dispatcher.start() == 1  # recovered at once: its worker is gone
    await wait_for(lambda: db.message(message_id).status == "delivered", what="delivered")
    await dispatcher.stop()
    assert db.do(lambda s: s.scalar(select(func.count()).select_from(CapturedMessage))) == 1
    assert db.message(message_id).attempts == 2
