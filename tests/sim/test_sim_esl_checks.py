"""The event-socket checks of tests/esl_checks.py against the simulator over loopback TCP.

The same checks run unchanged against a real FreeSWITCH in
tests/real_switch/test_esl_fidelity.py: what passes here and there is
behaviour the simulator shares with the real switch, not one it assumes.
Each check is blocking client code, so it runs in a thread while the
reactor serves the simulator.
"""

from __future__ import annotations

import pytest
import pytest_twisted
from twisted.internet import reactor, threads

from esl_checks import ALL_CHECKS, Target
from freeswitch.sim.simulator import Simulator

PASSWORD = "sim-check-password"


@pytest.fixture
def sim_target(tmp_path):
    sim = Simulator(reactor, port=0, password=PASSWORD, sounds_dir=tmp_path, recordings_dir=tmp_path)
    port = sim.start()
    sim.directory.register("1001", answer_after=0.0, talk_seconds=None)
    yield Target("127.0.0.1", port, PASSWORD, "user/1001", timeout=10.0)
    pytest_twisted.blockon(sim.stop())


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
@pytest_twisted.inlineCallbacks
def test_simulator_passes_the_esl_check(sim_target, check):
    yield threads.deferToThread(check, sim_target)
