"""Helpers for the real-switch call tests: place sipp callers, find their channel, nudge them, read the record.

A caller's scenario waits for a SIP INFO before each thing it does (see
sipp.py); :func:`nudge` sends it once the test has seen the switch get
there (a menu reading keys, a recording started, the agent answering).
"""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path
from typing import Any

from sqlalchemy import select

from crm_core.db import make_engine, session_factory, transaction
from crm_core.models import Agent, AgentStateChange, CallDetailRecord
from free_ports import free_port, free_port_range
from sipp import Caller, Sipp, feature_call

DOMAIN = "127.0.0.1"


def start_caller(deployment: Any, caller: Caller, name: str) -> Sipp:
    """The caller's sipp, dialling the trunk profile as the carrier would."""
    return Sipp(deployment.sipp_dir, name, caller.xml(), f"127.0.0.1:{deployment.ports.trunk}",
                free_port(), media_port=free_port_range(4), timeout=240)


def channel_of(events: Any, ani: str, start: int, timeout: float = 20.0) -> str:
    """The uuid of the trunk channel a caller from ``ani`` made."""
    seen = events.wait(lambda e: e.get("Event-Name") == "CHANNEL_CREATE" and e.get("Caller-Caller-ID-Number") == ani
                       and (e.get("Channel-Name") or "").startswith("sofia/trunk/"),
                       f"the call from {ani}", timeout, start)
    return seen["Unique-ID"]


def executes(uuid: str, app: str):
    """Predicate: ``app`` starts on channel ``uuid``."""
    return lambda e: (e.get("Event-Name") == "CHANNEL_EXECUTE" and e.get("Unique-ID") == uuid
                      and e.get("Application") == app)


def menu(events: Any, uuid: str, start: int, count: int, what: str, timeout: float = 60.0) -> Any:
    """Wait for the ``count``-th menu (play_and_get_digits) of the call."""
    return events.wait(executes(uuid, "play_and_get_digits"), what, timeout, start, count)


def nudge(api: Any, uuid: str) -> None:
    """Let the caller's scenario take its next step (a SIP INFO to the caller)."""
    reply = api.api(f"uuid_send_info {uuid} text plain next")
    assert reply.startswith("+OK"), reply


def digits(events: Any, uuid: str, start: int) -> list[tuple[str, str]]:
    """(digit, source) of the DTMF the switch decoded on the call."""
    return [(s["DTMF-Digit"], s["DTMF-Source"]) for s in events.find(
        lambda e: e.get("Event-Name") == "DTMF" and e.get("Unique-ID") == uuid, start)]


def dial_feature(deployment: Any, phone: Any, code: str, name: str) -> None:
    """The agent's phone dials a feature code (challenged, then authenticated) and hears it to the end."""
    Sipp(deployment.sipp_dir, name, feature_call(phone.extension, phone.password, DOMAIN, code),
         f"127.0.0.1:{deployment.ports.agents}", free_port(),
         media_port=free_port_range(4)).ok(60)


class Record:
    """Reads what the engine wrote (a fresh engine per read, so nothing is cached)."""

    def __init__(self, db_url: str) -> None:
        self.db_url = db_url

    def read(self, fn: Any) -> Any:
        engine = make_engine(self.db_url)
        try:
            with transaction(session_factory(engine)) as session:
                return fn(session)
        finally:
            engine.dispose()

    def agent_id(self, extension: str) -> int:
        return self.read(lambda s: s.scalar(select(Agent.id).where(Agent.extension == extension)))

    def last_state(self, agent_id: int) -> tuple[str, float] | None:
        """The agent's latest logged state and when (epoch seconds)."""
        def latest(s: Any) -> Any:
            row = s.scalars(select(AgentStateChange).where(AgentStateChange.agent_id == agent_id)
                            .order_by(AgentStateChange.id.desc())).first()
            if row is None:
                return None
            at = row.at if row.at.tzinfo else row.at.replace(tzinfo=dt.timezone.utc)
            return row.state, at.timestamp()

        return self.read(latest)

    def cdr(self, uuid: str) -> Any:
        def row(s: Any) -> Any:
            found = s.scalar(select(CallDetailRecord).where(CallDetailRecord.uuid == uuid))
            if found is not None:
                s.expunge(found)
            return found

        return self.read(row)


def poll(read: Any, done: Any, timeout: float, what: str) -> Any:
    """``read()`` every 0.2 s until ``done(value)``; the value, else AssertionError with the last one."""
    deadline = time.monotonic() + timeout
    while True:
        value = read()
        if done(value):
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}; last: {value!r}")
        time.sleep(0.2)


def wait_state(record: Record, agent_id: int, state: str, timeout: float = 20.0) -> float:
    """Wait until the agent's latest logged state is ``state``; when it was logged."""
    latest = poll(lambda: record.last_state(agent_id), lambda v: v is not None and v[0] == state, timeout,
                  f"agent {agent_id} to be {state}")
    return latest[1]


def closed_cdr(record: Record, uuid: str, timeout: float = 20.0) -> Any:
    """The call's CDR row once it is closed (``ended_at`` set)."""
    return poll(lambda: record.cdr(uuid), lambda row: row is not None and row.ended_at is not None, timeout,
                f"the CDR of {uuid} to close")


def played_files(path: str) -> list[str]:
    """The files of a playback target (a file_string's parts; tone/silence/local streams are none)."""
    if path.startswith("file_string://"):
        return [p for part in path[len("file_string://"):].split("!") for p in played_files(part)]
    return [] if "://" in path else [path]


def assert_played_files_exist(events: Any, uuid: str, start: int) -> int:
    """Every file the switch played on the call exists and none was missing; how many were played.

    FreeSWITCH skips a missing file with a log line and the caller hears
    nothing, so the test checks what the switch was told to play.
    """
    started = events.find(lambda e: e.get("Event-Name") == "PLAYBACK_START" and e.get("Unique-ID") == uuid, start)
    files = [f for s in started for f in played_files(s["Playback-File-Path"])]
    missing = [f for f in files if not Path(f).is_file()]
    not_found = events.find(lambda e: e.get("Event-Name") == "CHANNEL_EXECUTE_COMPLETE" and e.get("Unique-ID") == uuid
                            and e.get("Application-Response") == "FILE NOT FOUND", start)
    assert files and not missing and not not_found, (missing, [s.get("Application-Data") for s in not_found])
    return len(files)
