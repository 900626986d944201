"""The engine's CallServer against the simulator over real loopback TCP.

Each simulated call connects out to the CallServer (``socket ... async full``)
on 127.0.0.1. Covers a caller hanging up in the middle of an execute, the
linger window letting the application finish its records, one stalled call
never delaying the others (measured), and a garbled frame on one connection
closing only that connection.
"""

from __future__ import annotations

import time
from typing import Any

import pytest
import pytest_twisted
from test_loopback_switch import poll, start_sim, within
from twisted.internet import defer, reactor, task

from freeswitch.call import CAUSE_CONNECTION_LOST, HungUpDuringExecute
from freeswitch.callserver import CallServer
from freeswitch.esl.errors import CallHungUp

DNIS = "4008001000"


@pytest.fixture
def servers():
    made: list[CallServer] = []
    yield made
    for server in made:
        server.stop_listening()


def serve(servers: list[CallServer], handler: Any, **kw: Any) -> tuple[CallServer, int]:
    kw.setdefault("exit_grace", 5)
    server = CallServer(handler, reactor, **kw)
    servers.append(server)
    port = server.start(reactor, "127.0.0.1", 0).getHost().port
    return server, port


@pytest.fixture
def sim_for(tmp_path):
    made: list = []

    def build(port: int):
        sim = start_sim(tmp_path, socket_port=port)
        made.append(sim)
        return sim

    yield build
    for sim in made:
        sim.stop()


@pytest_twisted.inlineCallbacks
def test_caller_hanging_up_during_playback_fails_the_execute_with_the_cause(servers, sim_for):
    outcome: dict[str, Any] = {}
    playing = defer.Deferred()

    async def handler(call):
        await call.answer()
        running = call.playback("silence_stream://30000")
        playing.callback(None)
        try:
            await running
            outcome["result"] = "played"
        except CallHungUp as exc:
            outcome["error"] = exc

    server, port = serve(servers, handler)
    sim = sim_for(port)
    started = time.monotonic()
    call = sim.place_call("13800000200", DNIS, "wait_answer; wait 0.3; hangup CALL_REJECTED")
    yield within(playing, 5, "playback start")
    yield within(call.finished, 5, "the call to end")
    yield poll(lambda: outcome, 5, "the handler to see the hang-up")
    error = outcome["error"]
    assert isinstance(error, HungUpDuringExecute)
    assert error.cause == "CALL_REJECTED"
    assert error.app == "playback"
    assert time.monotonic() - started < 5  # not the 30 s of the playback
    yield poll(lambda: server.live_count == 0, 5, "the socket to be released")


@pytest_twisted.inlineCallbacks
def test_linger_keeps_the_socket_until_the_app_has_written_its_records(servers, sim_for):
    records: list[tuple[str, bool, bool]] = []

    async def handler(call):
        await call.answer()
        try:
            await call.playback("silence_stream://30000")
        except CallHungUp:
            pass
        # After hang-up: the app still has work to do (a CDR, a database write...).
        await task.deferLater(reactor, 0.3, lambda: None)
        records.append((call.hangup_cause, call.lingering, call.closed))

    server, port = serve(servers, handler)
    sim = sim_for(port)
    call = sim.place_call("13800000201", DNIS, "wait_answer; wait 0.2; hangup NORMAL_CLEARING")
    yield within(call.finished, 5, "the call to end")
    # The channel is gone but the engine still holds the lingering socket.
    yield poll(lambda: records, 5, "the app's record after hang-up")
    # Written after the hang-up, in the linger window, while the socket was still open.
    assert records == [("NORMAL_CLEARING", True, False)]
    yield poll(lambda: server.live_count == 0 and not call.channel.bound, 5, "exit after the app finished")


@pytest_twisted.inlineCallbacks
def test_a_stalled_call_never_delays_twenty_others(servers, sim_for):
    stall = defer.Deferred()  # never fires during the test
    durations: dict[str, float] = {}
    stalled: list[str] = []

    async def handler(call):
        begun = time.monotonic()
        await call.answer()
        if call.ani == "13800009999":
            stalled.append(call.uuid)
            await stall  # a handler stuck forever (a dead database, a bug)
            return
        await call.execute("set", "hotline_step=1")
        await call.playback("silence_stream://200")
        await call.hangup("NORMAL_CLEARING")
        durations[call.uuid] = time.monotonic() - begun

    server, port = serve(servers, handler, exit_grace=0.5)
    sim = sim_for(port)
    stuck = sim.place_call("13800009999", DNIS)
    yield poll(lambda: stalled, 5, "the stalled call to be answered")
    started = time.monotonic()
    calls = [sim.place_call(f"138000003{i:02d}", DNIS) for i in range(20)]
    yield within(defer.gatherResults([c.finished for c in calls]), 10, "the 20 calls")
    total = time.monotonic() - started
    assert len(durations) == 20
    # Each call is 3 short apps + 200 ms of playback (~0.3 s with the switch's
    # 20 ms per app); a loaded CI box gets generous room, a blocked one would not.
    assert max(durations.values()) < 3.0, durations
    assert total < 5.0
    assert stuck.channel.up and server.live_count >= 1  # the stalled call is still there, untouched
    stuck.channel.hangup("NORMAL_CLEARING")
    yield within(stuck.finished, 5, "the stalled call to end")
    # The handler never returns: the socket is released exit_grace after the linger notice.
    yield poll(lambda: server.live_count == 0, 5, "the stalled call's socket released")
    stall.cancel()


@pytest_twisted.inlineCallbacks
def test_garbled_frame_on_one_connection_closes_only_that_connection(servers, sim_for):
    errors: dict[str, Exception] = {}
    done: list[str] = []
    playing: dict[str, Any] = {}

    async def handler(call):
        await call.answer()
        playing[call.ani] = call
        try:
            await call.playback("silence_stream://800")
            await call.hangup("NORMAL_CLEARING")
            done.append(call.ani)
        except CallHungUp as exc:
            errors[call.ani] = exc

    _server, port = serve(servers, handler)
    sim = sim_for(port)
    bad = sim.place_call("13800000401", DNIS)
    good = sim.place_call("13800000402", DNIS)
    yield poll(lambda: len(playing) == 2, 5, "both calls playing")
    session = bad.channel.bound[0]
    session.transport.write(b"this is not an ESL header line\n\n")  # garbage from "the switch"
    yield poll(lambda: "13800000401" in errors, 5, "the garbled connection to fail")
    assert errors["13800000401"].cause == CAUSE_CONNECTION_LOST
    yield within(good.finished, 5, "the good call to finish")
    assert done == ["13800000402"]
    assert "13800000402" not in errors
    assert good.channel.hangup_cause == "NORMAL_CLEARING"


@pytest_twisted.inlineCallbacks
def test_released_call_is_not_hung_up_and_the_dialplan_goes_on_after_the_socket(servers, sim_for):
    """A planned stop hands a caller back to the switch: the socket closes, the call lives on in the dialplan."""
    in_music = defer.Deferred()

    async def handler(call):
        await call.answer()
        await call.set_variables({"hotline_acd_queue": "sales", "hotline_acd_agent": ""})
        if not in_music.called:
            in_music.callback(call)
        await call.playback("silence_stream://-1")  # endless, like hold music

    server, port = serve(servers, handler)
    sim = sim_for(port)
    sim.set_target(DNIS, "socket(default);playback(silence_stream://200);hangup(USER_BUSY)")
    call = sim.place_call("13800000201", DNIS, "wait_hangup")
    engine_call = yield within(in_music, 5, "the handler to hold the caller")
    assert call.channel.variables["hotline_acd_queue"] == "sales" and "hotline_acd_agent" not in call.channel.variables
    other = sim.place_call("13800000202", DNIS, "wait_hangup")
    yield poll(lambda: server.live_count == 2, 5, "both calls")
    assert server.release([engine_call.uuid, "no-such-call"]) == [engine_call.uuid]
    yield server.hangup_all("SYSTEM_SHUTDOWN")
    yield within(other.finished, 5, "the other call to be hung up")
    assert other.channel.hangup_cause == "SYSTEM_SHUTDOWN"
    yield poll(lambda: not call.channel.bound, 5, "the released socket to close")
    assert call.channel.up  # not hung up: the endless playback keeps it in the socket app
    call.channel.break_media()  # what the next engine's start-up (uuid_transfer) or a let_go does
    yield within(call.finished, 5, "the dialplan after the socket")
    assert call.channel.hangup_cause == "USER_BUSY"
