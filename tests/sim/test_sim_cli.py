"""``hotline call`` against a simulator on the real reactor; ``hotline sim`` argument wiring."""

from __future__ import annotations

import json
import sys

import pytest
import pytest_twisted
from twisted.internet import reactor, utils

from freeswitch.sim.simulator import Simulator


@pytest.fixture
def live_sim(tmp_path):
    sim = Simulator(reactor, port=0, sounds_dir=tmp_path, recordings_dir=tmp_path)
    sim.start()
    sim.set_target("4001", "answer();playback(silence_stream://300);hangup(NORMAL_CLEARING)")
    yield sim
    pytest_twisted.blockon(sim.stop())


@pytest_twisted.inlineCallbacks
def test_hotline_call_prints_transcript_until_hangup(live_sim, tmp_path):
    out, err, code = yield utils.getProcessOutputAndValue(
        sys.executable, ["-m", "hotline", "call", "--from", "555", "--to", "4001", "--script", "wait 0.1; press 1",
                         "--port", str(live_sim.port), "--json"],
        env={"HOTLINE_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"})
    assert code == 0, err.decode()
    lines = out.decode().splitlines()
    assert lines[0].startswith("call ") and lines[0].endswith("555 -> 4001")
    text = "\n".join(lines)
    assert "answer" in text and "prompt" in text and "hangup" in text and "digit=1" in text
    final = json.loads(lines[-1])
    assert final["hangup_cause"] == "NORMAL_CLEARING"


def test_sim_command_arguments_parse():
    from hotline.cli import build_parser

    args = build_parser().parse_args(["sim", "--port", "0", "--phone", "1001", "--target", "4.*=park"])
    assert args.port == 0 and args.phone == ["1001"] and args.target == ["4.*=park"]
