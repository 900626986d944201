"""``hotline call`` against a simulator on the real reactor; ``hotline sim`` argument wiring."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import wave

import pytest
import pytest_twisted
from twisted.internet import reactor, threads, utils

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


def _menu_prompt(folder) -> str:
    """A 1 s WAV with its transcript beside it, as the prompt cache writes them."""
    path = folder / "menu.wav"
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x00" * 8000)
    (folder / "menu.wav.txt").write_text("For orders press 1.", encoding="utf-8")
    return str(path)


def _converse(port: int, env: dict) -> tuple[list[str], int, str]:
    """Be the caller at the terminal: wait for the prompt, press 1, say something, hang up (stdin is a pipe)."""
    proc = subprocess.Popen([sys.executable, "-m", "hotline", "call", "--from", "555", "--to", "4002",
                             "--port", str(port)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)
    watchdog = threading.Timer(60, proc.kill)
    watchdog.start()
    seen: list[str] = []

    def until(*words: str) -> None:
        for line in proc.stdout:
            seen.append(line.rstrip("\n"))
            if all(w in line for w in words):
                return
        raise AssertionError(f"never printed {words}: {seen}")

    try:
        until("prompt", "text=For orders press 1.")  # shown as it starts playing
        proc.stdin.write("1\n")
        proc.stdin.flush()
        until("press", "digit=1")
        proc.stdin.write("say hello hotline\n")
        proc.stdin.flush()
        until("speak", ".wav")
        proc.stdin.write("hangup\n")
        proc.stdin.flush()
        out, err = proc.communicate(timeout=30)
        seen += out.splitlines()
        return seen, proc.returncode, err
    finally:
        watchdog.cancel()
        if proc.poll() is None:
            proc.kill()


@pytest_twisted.inlineCallbacks
def test_hotline_call_without_script_takes_keys_and_said_words_from_the_terminal(live_sim, tmp_path):
    prompt = _menu_prompt(tmp_path)
    live_sim.set_target("4002", f"answer();playback({prompt});sleep(30000);hangup(NORMAL_CLEARING)")
    env = {"HOTLINE_VAR_DIR": str(tmp_path), "PATH": "/usr/bin:/bin"}
    lines, code, err = yield threads.deferToThread(_converse, live_sim.port, env)
    assert code == 0, err
    assert lines[0].startswith("call ") and "keys" in lines[1]
    assert any("hangup" in line and "NORMAL_CLEARING" in line for line in lines)
    call = next(iter(live_sim.calls.values()))
    events = [e["event"] for e in call.transcript]
    assert events.index("prompt") < events.index("press") < events.index("speak") < events.index("hangup")
    said = next(e for e in call.transcript if e["event"] == "speak")
    assert said["seconds"] > 0.3  # real speech, rendered by espeak-ng at 8 kHz
