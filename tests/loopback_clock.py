"""The simulator and the real Switch client over loopback TCP, with simulated time on a ``task.Clock``.

The ESL bytes travel over real sockets on 127.0.0.1 (the reactor moves
them); every timer -- ring times, originate timeouts, playback, the
dialer's own ticks -- runs on one ``Clock`` that the test advances. So a
30-second ring takes milliseconds and the result is the same every run.
``advance`` stops at each due timer and lets the reactor deliver what it
caused before going on.
"""

from __future__ import annotations

import time
from typing import Any, Callable

from twisted.internet import defer, reactor, task
from twisted.internet.endpoints import TCP4ClientEndpoint

from freeswitch.sim.simulator import Simulator
from freeswitch.switch import Switch

PASSWORD = "ClueCon"


def pause(seconds: float = 0.002) -> defer.Deferred:
    """Let the real reactor run (sockets) for a moment."""
    return task.deferLater(reactor, seconds, lambda: None)


class LoopbackClock:
    """A Simulator listening on a free port, driven by ``clock``; Switch clients connect to it over TCP."""

    def __init__(self, tmp_path: Any, *, epoch: float = 1_795_396_000.0, **sim_kw: Any) -> None:
        self.clock = task.Clock()
        self.clock.advance(epoch)
        self.sim = Simulator(reactor, clock=self.clock, port=0, password=PASSWORD, sounds_dir=tmp_path,
                             recordings_dir=tmp_path, idle_timeout=0, **sim_kw)
        self.sim.start()
        self.switches: list[Switch] = []

    async def switch(self, **kw: Any) -> Switch:
        """A connected Switch client (its timers on the same clock)."""
        client = Switch(TCP4ClientEndpoint(reactor, "127.0.0.1", self.sim.port), PASSWORD, clock=self.clock,
                        initial_delay=0.01, jitter=lambda: 0.0, **kw)
        self.switches.append(client)
        client.start()
        await self.wait_for(lambda: client.connected, what="switch login", step=0.05)
        return client

    async def settle(self, rounds: int = 3) -> None:
        """Let queued socket traffic through (a few reactor turns)."""
        for _ in range(rounds):
            await pause()

    async def advance(self, seconds: float, *, settle_rounds: int = 2) -> None:
        """Move simulated time forward, stopping at every due timer so chains of timers keep their times."""
        await self.settle(settle_rounds + 2)  # commands already sent reach the switch at the current time
        target = self.clock.seconds() + seconds
        for _ in range(1_000_000):
            due = [c.getTime() for c in self.clock.getDelayedCalls() if c.getTime() <= target]
            step_to = min(due) if due else target
            self.clock.advance(max(0.0, step_to - self.clock.seconds()))
            await self.settle(settle_rounds)
            if step_to >= target and not [c for c in self.clock.getDelayedCalls() if c.getTime() <= target]:
                return

    async def wait_for(self, predicate: Callable[[], Any], *, timeout: float = 5.0, what: str = "condition",
                       step: float = 0.0) -> Any:
        """Poll ``predicate`` (real time bounded by ``timeout``), advancing the clock by ``step`` each round."""
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout}s waiting for {what}")
            if step:
                self.clock.advance(step)
            await pause(0.005)

    async def stop(self) -> None:
        for ch in list(self.sim.channels.values()):
            if ch.up:
                ch.hangup("NORMAL_CLEARING")
        for client in self.switches:
            await client.stop()
        await defer.maybeDeferred(self.sim.stop)
