"""Every event-socket behaviour the simulator claims, checked here against the real switch with the same checks.

tests/esl_checks.py holds them; tests/sim/test_sim_esl_checks.py runs them
against the simulator. Here the outbound-socket check dials a sipp phone
that answers anything (``sipp -sn uas``) and points the call's ``socket``
at a listener of the check itself.
"""

from __future__ import annotations

import subprocess

import pytest

from esl_checks import ALL_CHECKS, Target
from free_ports import free_port
from rig import end_process


@pytest.fixture(scope="module")
def real_target(deployment):
    port = free_port()
    uas = subprocess.Popen(["sipp", "-sn", "uas", "-i", "127.0.0.1", "-p", str(port), "-aa", "-nostdin",
                            "-timeout", "300s"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield Target("127.0.0.1", deployment.ports.esl, deployment.password,
                 f"sofia/agents/sip:esl-check@127.0.0.1:{port}", timeout=15.0)
    end_process(uas, 10)


@pytest.mark.parametrize("check", ALL_CHECKS, ids=lambda c: c.__name__)
def test_freeswitch_passes_the_esl_check(real_target, check):
    check(real_target)
