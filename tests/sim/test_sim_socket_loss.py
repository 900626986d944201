"""When the engine's socket goes away, and when a channel is transferred: what real FreeSWITCH does next.

FreeSWITCH runs the apps an outbound socket queues inside the socket app's
park loop, so the socket app returns only when the app running at the time
returns (endless hold music keeps playing to a caller whose engine died), and
then the dialplan continues with the actions after ``socket``.
``uuid_transfer`` breaks the running app off and routes the new extension.
"""

from __future__ import annotations

from twisted.internet.error import ConnectionDone
from twisted.python.failure import Failure

from test_sim_apps import execute


def crash(session):
    """The engine process dies: its end of the socket closes without a word."""
    session.protocol.connectionLost(Failure(ConnectionDone()))


def crash_during_hold_music(harness, after_socket):
    """A caller hears endless hold music when its engine dies; the dialplan goes on with ``after_socket``."""
    harness.sim.set_target("4001", f"socket(default);{after_socket}")
    call, session = harness.call()
    execute(session, "answer")
    execute(session, "playback", "local_stream://moh")
    harness.advance(0.1)
    crash(session)
    return call, session


def apps_run(call):
    return [e["app"] for e in call.transcript if e["event"] == "app"]


def test_socket_loss_between_apps_continues_the_dialplan_after_socket(harness):
    harness.sim.set_target("4001", "socket(default);playback(silence_stream://300);hangup(USER_BUSY)")
    call, session = harness.call()
    execute(session, "answer")
    harness.advance(0.1)
    crash(session)
    harness.advance(1.0)
    assert not call.channel.up
    assert call.channel.hangup_cause == "USER_BUSY"  # the action after the socket ran
    assert apps_run(call)[-2:] == ["playback", "hangup"]


def test_socket_loss_during_endless_hold_music_keeps_the_music_until_broken(harness):
    call, _session = crash_during_hold_music(harness, "hangup(USER_BUSY)")
    harness.advance(600)
    assert call.channel.up and call.channel.current_app[0] == "playback"  # nobody breaks it: music forever
    assert call.channel.main_app is not None  # the socket app has not returned
    harness.client().api(f"uuid_break {call.uuid}")
    harness.advance(0.5)
    assert call.channel.hangup_cause == "USER_BUSY"  # playback ended -> socket returned -> next action


def test_socket_loss_without_further_actions_hangs_up(harness):
    call, session = harness.call()
    execute(session, "answer")
    harness.advance(0.1)
    crash(session)
    harness.advance(0.5)
    assert not call.channel.up and call.channel.hangup_cause == "NORMAL_CLEARING"


def test_uuid_transfer_breaks_hold_music_and_reconnects_to_the_engine(harness):
    harness.sim.set_target("back", "socket(default);hangup(NORMAL_TEMPORARY_FAILURE)")
    call, session = crash_during_hold_music(harness, "hangup(USER_BUSY)")
    harness.advance(5)
    reply = harness.client().api(f"uuid_transfer {call.uuid} back XML public")
    assert reply.startswith("+OK")
    harness.advance(0.2)
    assert len(harness.sessions) == 2  # the channel's new socket reached the engine
    again = harness.sessions[-1]
    again.send("connect")
    assert call.channel.up and call.channel.main_app[0] == "socket"
    assert 5000 <= int(call.channel.variables["playback_ms"]) < 5300  # the hold music was broken off
    assert apps_run(call)[-2:] == ["playback", "socket"]
    # the old connection's late close must not end the new socket app
    crash(session)
    harness.advance(0.5)
    assert call.channel.up and call.channel.main_app[0] == "socket"


def test_transfer_of_a_connected_socket_says_goodbye_and_runs_the_new_extension(harness):
    harness.sim.set_target("4001", "socket(default);hangup(USER_BUSY)")
    harness.sim.set_target("other", "answer();playback(silence_stream://200);hangup(CALL_REJECTED)")
    call, session = harness.call()
    execute(session, "answer")
    execute(session, "playback", "local_stream://moh")
    harness.advance(0.1)
    harness.client().api(f"uuid_transfer {call.uuid} other XML public")
    harness.advance(1.0)
    assert session.disconnected
    assert call.channel.hangup_cause == "CALL_REJECTED"  # not USER_BUSY: the old extension's rest was dropped


def test_counting_rule_runs_its_otherwise_actions_after_the_limit(harness):
    harness.sim.set_target("4001", "answer();transfer(again XML public)")
    harness.sim.set_target("again", "sleep(100);transfer(again XML public)", counter="visits", limit=3,
                           otherwise="hangup(NORMAL_TEMPORARY_FAILURE)")
    call = harness.sim.place_call("13800000001", "4001", "")
    harness.advance(2.0)
    assert call.channel.variables["visits"] == "xxxx"
    assert apps_run(call).count("sleep") == 3
    assert call.channel.hangup_cause == "NORMAL_TEMPORARY_FAILURE"
