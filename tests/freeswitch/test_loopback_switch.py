"""The inbound Switch client against the simulator over real loopback TCP.

Real sockets on 127.0.0.1 with port 0, the real reactor (pytest-twisted),
bounded polling instead of fixed sleeps. Covers login, api and bgapi, originate
to registered and unregistered agent phones, uuid_* on live calls, the -ERR
paths, and reconnecting after the switch restarts on the same port.
The helpers here are shared with ``test_loopback_callserver.py``.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, reactor
from twisted.internet.endpoints import TCP4ClientEndpoint
from twisted.internet.task import deferLater
from twisted.python.failure import Failure

from freeswitch.esl.errors import ApiError, AuthenticationError, NotConnected
from freeswitch.sim.simulator import Simulator
from freeswitch.switch import Switch

PASSWORD = "ClueCon"


# -- helpers (shared with test_loopback_callserver.py) --------------------------------


def tick(seconds: float = 0.01) -> defer.Deferred:
    """Let the reactor run for one poll step."""
    d: defer.Deferred = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d


@defer.inlineCallbacks
def poll(predicate: Callable[[], Any], timeout: float = 5.0, what: str = "condition"):
    """Wait until ``predicate()`` is truthy (every 10 ms); AssertionError after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout}s waiting for {what}")
        yield tick()


def within(d: defer.Deferred, timeout: float, what: str = "result") -> defer.Deferred:
    """``d`` bounded in time: fails with AssertionError if it has not fired after ``timeout`` s."""
    bounded: defer.Deferred = defer.Deferred()
    timer = reactor.callLater(timeout, lambda: bounded.called or bounded.errback(
        AssertionError(f"no {what} within {timeout}s")))

    def done(result: Any) -> None:
        if timer.active():
            timer.cancel()
        if not bounded.called:
            (bounded.errback if isinstance(result, Failure) else bounded.callback)(result)

    d.addBoth(done)
    return bounded


def start_sim(tmp_path, port: int = 0, **kw: Any) -> Simulator:
    sim = Simulator(reactor, port=port, password=PASSWORD, sounds_dir=tmp_path, recordings_dir=tmp_path, **kw)
    sim.start()
    return sim


def make_switch(port: int, password: str = PASSWORD, **kw: Any) -> Switch:
    kw.setdefault("initial_delay", 0.05)
    kw.setdefault("max_delay", 0.2)
    kw.setdefault("jitter", lambda: 0.0)
    return Switch(TCP4ClientEndpoint(reactor, "127.0.0.1", port), password, clock=reactor, **kw)


@pytest.fixture
def sim(tmp_path):
    simulator = start_sim(tmp_path)
    yield simulator
    simulator.stop()


@pytest.fixture
def switches():
    made: list[Switch] = []
    yield made
    for switch in made:
        switch.stop()


@pytest_twisted.inlineCallbacks
def connected_switch(sim: Simulator, switches: list[Switch], **kw: Any):
    switch = make_switch(sim.port, **kw)
    switches.append(switch)
    switch.start()
    yield within(switch.when_connected(), 5, "login")
    return switch


# -- login, api, bgapi ------------------------------------------------------------------


@pytest_twisted.inlineCallbacks
def test_switch_logs_in_and_api_status_reports_the_switch_up(sim, switches):
    switch = yield connected_switch(sim, switches)
    assert switch.connected
    text = yield within(switch.status(), 5, "status reply")
    assert text.startswith("UP ")
    assert "session(s) since startup" in text


@pytest_twisted.inlineCallbacks
def test_stopping_a_connected_switch_client_is_not_logged_as_a_lost_connection(sim, switches, caplog):
    """A stopped client holds no connection to the switch, and its closing is no news (the engine shutting down,
    e.g. after a port in use): no "lost ... reconnecting"."""
    switch = yield connected_switch(sim, switches)
    switches.remove(switch)  # stopped here, once
    with caplog.at_level(logging.INFO, logger="freeswitch.switch"):
        yield within(switch.stop(), 5, "stop")
        for _ in range(40):  # the connection closes right after stop() returns
            if not switch.connected:
                break
            yield deferLater(reactor, 0.05, lambda: None)
    assert not switch.connected and len(sim.core.subscribers) == 0  # the switch side sees it gone too
    said = [(r.levelname, r.getMessage()) for r in caplog.records if "connection" in r.getMessage()]
    assert said == [("INFO", "FreeSWITCH connection closed (switch client stopped)")]


@pytest_twisted.inlineCallbacks
def test_wrong_password_fails_when_connected_with_authentication_error(sim, switches):
    switch = make_switch(sim.port, password="not-the-password", auth_retry_delay=30)
    switches.append(switch)
    switch.start()
    with pytest.raises(AuthenticationError) as info:
        yield within(switch.when_connected(), 5, "login failure")
    assert info.value.reply == "-ERR invalid"
    assert not switch.connected
    with pytest.raises(NotConnected):
        yield switch.api("status")


@pytest_twisted.inlineCallbacks
def test_unknown_api_command_fails_with_api_error_carrying_the_switch_text(sim, switches):
    switch = yield connected_switch(sim, switches)
    with pytest.raises(ApiError) as info:
        yield within(switch.api("no_such_command now"), 5, "api reply")
    assert info.value.reply == "-ERR no_such_command Command not found!"
    # The connection is still usable afterwards.
    assert (yield within(switch.status(), 5, "status")).startswith("UP ")


@pytest_twisted.inlineCallbacks
def test_bgapi_result_arrives_with_its_background_job_event(sim, switches):
    jobs: list = []
    switch = yield connected_switch(sim, switches)
    switch.subscribe("BACKGROUND_JOB", jobs.append)
    job_uuid = "7f4de4bc-0000-4000-8000-00000000b9a1"
    text = yield within(switch.bgapi("status", job_uuid=job_uuid), 5, "bgapi result")
    assert text.startswith("UP ")
    yield poll(lambda: jobs, 5, "BACKGROUND_JOB event")
    assert jobs[0]["Job-UUID"] == job_uuid
    assert jobs[0]["Job-Command"] == "status"
    assert jobs[0].body == text


# -- originate and uuid_* on live calls ----------------------------------------------------


@pytest_twisted.inlineCallbacks
def test_originate_to_registered_phone_then_uuid_commands_on_the_live_call(sim, switches):
    events: list = []
    sim.directory.register("1001", answer_after=0.05)
    switch = yield connected_switch(sim, switches, events=["CHANNEL_ANSWER", "CHANNEL_HANGUP"])
    switch.subscribe("*", events.append)
    uuid = yield within(switch.originate("user/1001", "&park()", {"hotline_test": "yes"}, timeout=5), 5,
                        "originate result")
    assert uuid in sim.channels
    yield poll(lambda: any(e.name == "CHANNEL_ANSWER" and e.uuid == uuid for e in events), 5, "answer event")

    rows = yield within(switch.show_channels(), 5, "show channels")
    assert uuid in [row.uuid for row in rows]
    assert (yield switch.uuid_getvar(uuid, "hotline_test")) == "yes"
    assert (yield switch.uuid_getvar(uuid, "hotline_unset_var")) is None
    yield switch.uuid_setvar(uuid, "hotline_agent", "A-17")
    assert (yield switch.uuid_getvar(uuid, "hotline_agent")) == "A-17"
    assert sim.channels[uuid].variables["hotline_agent"] == "A-17"
    assert (yield switch.uuid_exists(uuid)) is True

    yield within(switch.uuid_kill(uuid, "CALL_REJECTED"), 5, "uuid_kill")
    hangup = yield poll(lambda: next((e for e in events if e.name == "CHANNEL_HANGUP" and e.uuid == uuid), None),
                        5, "hangup event")
    assert hangup["Hangup-Cause"] == "CALL_REJECTED"
    yield poll(lambda: uuid not in sim.channels, 5, "channel destroyed")
    rows = yield switch.show_channels()
    assert uuid not in [row.uuid for row in rows]
    with pytest.raises(ApiError) as info:
        yield switch.uuid_kill(uuid)
    assert info.value.reply == "-ERR No such channel!"
    with pytest.raises(ApiError):
        yield switch.uuid_setvar(uuid, "x", "y")


@pytest_twisted.inlineCallbacks
def test_originate_to_unregistered_phone_fails_with_user_not_registered(sim, switches):
    sim.directory.register("1002")
    sim.directory.unregister("1002")
    switch = yield connected_switch(sim, switches)
    with pytest.raises(ApiError) as info:
        yield within(switch.originate("user/1002", "&park()", timeout=5), 5, "originate result")
    assert info.value.reply == "-ERR USER_NOT_REGISTERED"
    with pytest.raises(ApiError) as info:
        yield within(switch.originate("user/1999", "&park()", timeout=5), 5, "originate result")
    assert info.value.reply == "-ERR SUBSCRIBER_ABSENT"
    assert not sim.channels


# -- reconnect ---------------------------------------------------------------------------------


@pytest_twisted.inlineCallbacks
def test_switch_reconnects_after_the_simulator_restarts_and_resubscribes(tmp_path, switches):
    first = start_sim(tmp_path)
    port = first.port
    states: list[bool] = []
    creates: list = []
    switch = make_switch(port, events=["CHANNEL_CREATE"])
    switches.append(switch)
    switch.add_state_listener(states.append)
    switch.subscribe("CHANNEL_CREATE", creates.append)
    switch.start()
    second = None
    try:
        yield within(switch.when_connected(), 5, "first login")
        first.set_target("5000", "park")
        first.place_call("13800000100", "5000")
        yield poll(lambda: creates, 5, "CHANNEL_CREATE from the first simulator")

        yield first.stop()
        yield poll(lambda: not switch.connected, 5, "the client noticing the switch is gone")
        started = time.monotonic()
        with pytest.raises(NotConnected):
            yield switch.api("status")  # fails fast, not queued
        with pytest.raises(NotConnected):
            yield switch.originate("user/1001", "&park()")
        assert time.monotonic() - started < 0.5

        second = start_sim(tmp_path, port=port)  # same port: the switch came back
        yield poll(lambda: switch.connected, 10, "reconnect")
        assert states[0] is True and False in states and states[-1] is True
        assert (yield within(switch.status(), 5, "status")).startswith("UP ")
        seen = len(creates)
        second.set_target("5000", "park")
        call = second.place_call("13800000101", "5000")
        yield poll(lambda: len(creates) > seen, 5, "CHANNEL_CREATE after re-subscribing")
        assert creates[-1].uuid == call.uuid
    finally:
        first.stop()
        if second is not None:
            second.stop()
