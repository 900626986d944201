"""An engine dies with a caller waiting for an agent; the next engine puts the caller back in line in its place.

One simulator lives through both engines (switch.mode = freeswitch, pointed
at it over loopback, as production points at a real FreeSWITCH), with the
hotline dialplan of ``dialplans/public/hotline.xml`` (``hotline.sim_dialplan``).
The first engine is "killed": from then on it writes nothing, and its call
sockets just close. The caller keeps hearing the endless hold music (the
socket app only returns when that playback does) until the second engine
finds it at start -- an open CDR row, a live channel that still carries its
``hotline_acd_queue`` -- and transfers it to ``hotline_reconnect``; the call
comes back over a new socket with its place and is served with its original
entry time. Nothing is written twice, nothing is lost.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
import pytest_twisted
from sqlalchemy import select
from twisted.internet import reactor

from crm_core.db import transaction
from crm_core.models import CallDetailRecord
from engine_rig import engine_settings, start_engine, wait_for
from free_ports import free_port
from test_engine_acd import seed


def kill(engine) -> None:
    """What a SIGKILL looks like from outside: no more writes, the sockets close without a word."""
    from acd.records import MemoryCdr
    from acd.agents import MemoryStateLog

    acd = engine.acd.acd
    acd.cdr, acd.board.state_log = MemoryCdr(), MemoryStateLog()
    engine.acd.reconciler.stop()
    engine.acd.stop()
    for proto in list(engine.call_server._connections):
        proto.transport.abortConnection()
    engine.call_server.stop_listening()
    engine.switch.stop()


@pytest.fixture
def switch_box(tmp_path):
    """The long-lived "FreeSWITCH": a simulator on loopback whose socket app targets a fixed engine port."""
    from freeswitch.sim.simulator import Simulator
    from hotline.sim_dialplan import install
    from ivr.prompts.switch_prompts import switch_prompts_dir

    engine_port = free_port()
    sim = Simulator(reactor, host="127.0.0.1", port=0, socket_host="127.0.0.1", socket_port=engine_port,
                    sounds_dir=tmp_path / "snd", recordings_dir=tmp_path / "rec")
    install(sim, pause_ms=200, prompts_dir=switch_prompts_dir(tmp_path / "tts"))  # the engines' [tts] cache_dir
    sim_port = sim.start()
    yield sim, sim_port, engine_port
    pytest_twisted.blockon(sim.stop())


def settings_for(url: str, tmp: Path, sim_port: int, engine_port: int):
    return engine_settings(url, tmp, HOTLINE_SWITCH_MODE="freeswitch", HOTLINE_SWITCH_HOST="127.0.0.1",
                           HOTLINE_SWITCH_PORT=str(sim_port), HOTLINE_SWITCH_PASSWORD="ClueCon",
                           HOTLINE_CALLSERVER_PORT=str(engine_port))


@contextlib.asynccontextmanager
async def next_engine(url: str, tmp: Path, sim_port: int, engine_port: int):
    """The engine started after the first one went away, on the same database, switch and port."""
    engine = start_engine(settings_for(url, tmp, sim_port, engine_port), web=False)
    try:
        yield engine
    finally:
        await engine.stop()  # the production order: the engine (calls) first, then the ACD's pools
        engine.acd.stop()


def cdr_row(engine, uuid: str):
    with transaction(engine.sessions) as s:
        row = s.scalar(select(CallDetailRecord).where(CallDetailRecord.uuid == uuid))
        if row is not None:
            s.expunge(row)
        return row


async def caller_in_hold_music(engine, sim):
    """A caller presses 0, nobody is logged in: it waits in "sales" with hold music (after the callback offer)."""
    call = sim.place_call("13912345678", "4008001234", "wait_prompt 2; wait 0.2; press 0; wait_hangup")
    waiting = await wait_for(lambda: engine.acd.acd.callers.get(call.uuid), timeout=30, what="the caller in line",
                             call=call)
    channel = call.channel
    await wait_for(lambda: channel.variables.get("hotline_acd_queue") == "sales", what="the place on the channel")
    await wait_for(lambda: cdr_row(engine, call.uuid) is not None, what="the CDR row")

    def music_again_after_the_callback_offer() -> bool:  # nobody is staffed, so a callback is offered first
        heard = [e["file"] for e in call.transcript if e["event"] == "prompt"]
        music = [f for f in heard if f.startswith("local_stream://")]
        return (len(music) >= 2 and heard[-1].startswith("local_stream://") and channel.current_app is not None
                and channel.current_app[1].startswith("local_stream://"))

    await wait_for(music_again_after_the_callback_offer, timeout=20, what="hold music after the offer", call=call)
    return call, waiting.entered_at


async def first_engine_with_a_waiting_caller(url: str, tmp: Path, switch_box) -> tuple:
    """The first engine on a seeded database, with one caller waiting in hold music."""
    sim, sim_port, engine_port = switch_box
    seed(url, tmp)
    first = start_engine(settings_for(url, tmp, sim_port, engine_port), web=False)
    await first.switch.when_connected()
    call, entered_at = await caller_in_hold_music(first, sim)
    return first, call, entered_at


async def served_in_place(engine, sim, call, entered_at: float) -> None:
    """The caller is back in line with its first entry time; an agent logs in and serves it; the CDR closes."""
    back = await wait_for(lambda: engine.acd.acd.callers.get(call.uuid), timeout=30,
                          what="the caller back in line", call=call)
    assert back.entered_at == pytest.approx(entered_at, abs=0.01)
    assert engine.acd.acd.snapshot("sales").offered == 0  # the first engine counted it
    sim.directory.register("1001", answer_after=0.3, talk_seconds=1.0)
    engine.acd.acd.login(1, ["sales"])
    outcome = await wait_for(lambda: engine.acd.handoff.outcomes and engine.acd.handoff.outcomes[-1],
                             timeout=20, what="the caller served", call=call)
    assert outcome.kind == "served" and outcome.agent_id == 1
    assert outcome.wait_seconds >= back.answered_at - entered_at - 0.01  # the whole wait, both engines
    row = await wait_for(lambda: (r := cdr_row(engine, call.uuid)) is not None and r.ended_at and r,
                         what="the CDR closed")
    assert (row.agent_id, row.disposition) == (1, "answered")
    # the row is the call's from its first event (the IVR); its queue time is the first engine's, kept across
    assert row.queued_at.replace(tzinfo=None).timestamp() == pytest.approx(entered_at, abs=1.0)
    assert row.entered_at <= row.queued_at


@pytest_twisted.ensureDeferred
async def test_caller_waiting_in_hold_music_survives_an_engine_crash_and_keeps_its_place(tmp_path, database_maker,
                                                                                         switch_box):
    sim, sim_port, engine_port = switch_box
    url = database_maker("sqlite")
    first, call, entered_at = await first_engine_with_a_waiting_caller(url, tmp_path, switch_box)
    channel = call.channel

    kill(first)
    await wait_for(lambda: not channel.bound, what="the socket to close")
    assert channel.up and channel.main_app[0] == "socket"  # still in the music: the socket app has not returned

    try:
        async with next_engine(url, tmp_path, sim_port, engine_port) as second:
            recovery = await second.acd.recovery
            assert recovery.transferred == [call.uuid] and recovery.closed == []
            await served_in_place(second, sim, call, entered_at)
            assert channel.variables.get("hotline_reconnects") == "x"
        from ivr.prompts.switch_prompts import switch_prompt_path

        heard = [e["file"] for e in call.transcript if e["event"] == "prompt"]
        assert str(switch_prompt_path(tmp_path / "tts", "reconnect_hold")) in heard  # "one moment", Hotline's own
        assert not [e for e in call.transcript if e["event"] == "prompt_missing"]
    finally:
        await first.stop()


@pytest_twisted.ensureDeferred
async def test_planned_stop_leaves_the_waiting_caller_to_the_next_engine(tmp_path, database_maker, switch_box):
    sim, sim_port, engine_port = switch_box
    url = database_maker("sqlite")
    first, call, entered_at = await first_engine_with_a_waiting_caller(url, tmp_path, switch_box)
    other = sim.place_call("13700000000", "4008001234", "wait_hangup")  # still in the IVR menu
    await wait_for(lambda: other.uuid in first.call_server.live_calls, what="an IVR caller")

    await first.stop()
    first.acd.stop()
    await wait_for(lambda: other.channel.hangup_cause, what="the IVR caller hung up")
    assert other.channel.hangup_cause == "SYSTEM_SHUTDOWN"  # an IVR dialogue cannot be resumed: said goodbye
    channel = call.channel
    assert channel.up and not channel.bound
    await wait_for(lambda: channel.main_app is None or channel.variables.get("hotline_reconnects"),
                   what="the dialplan to take the caller")  # music broken off: the reconnect loop runs at once
    assert cdr_row(first, call.uuid).ended_at is None  # not written off as abandoned

    async with next_engine(url, tmp_path, sim_port, engine_port) as second:
        await served_in_place(second, sim, call, entered_at)
        assert channel.variables.get("hotline_reconnects")
