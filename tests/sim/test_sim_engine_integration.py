"""The engine's own CallServer (freeswitch/callserver.py) drives a simulated call over real loopback TCP.

This is the contract between the two sides: the wire, not either side's code.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import defer, reactor

from freeswitch.sim.simulator import Simulator

callserver = pytest.importorskip("freeswitch.callserver")


@pytest_twisted.inlineCallbacks
def test_callserver_answers_collects_digits_and_hangs_up(tmp_path):
    seen: dict[str, object] = {}

    async def handler(call):
        await call.execute("answer")
        await call.execute("play_and_get_digits",
                           "1 4 1 3000 # silence_stream://300 silence_stream://100 choice \\d+")
        seen["choice"] = await call.get_var("choice")
        await call.hangup("NORMAL_CLEARING")

    server = callserver.CallServer(handler, reactor, exit_grace=5)
    port = server.start(reactor, "127.0.0.1", 0).getHost().port
    sim = Simulator(reactor, port=0, socket_port=port, sounds_dir=tmp_path, recordings_dir=tmp_path)
    sim.start()
    try:
        call = sim.place_call("13800000001", "4001", "wait_answer; wait 0.4; press 42#")
        result = yield defer.DeferredList([call.finished], fireOnOneErrback=True)
        assert result
        assert seen["choice"] == "42"
        events = [e["event"] for e in call.transcript]
        assert events[:3] == ["call", "app", "app"] and "answer" in events
        assert call.channel.hangup_cause == "NORMAL_CLEARING"
        for _ in range(100):  # the engine sends exit after the linger notice; poll with a bound
            if not call.channel.bound:
                break
            yield _sleep(0.05)
        assert not call.channel.bound
    finally:
        yield sim.stop()
        yield server.stop_listening()


def _sleep(seconds: float) -> defer.Deferred:
    d: defer.Deferred = defer.Deferred()
    reactor.callLater(seconds, d.callback, None)
    return d
