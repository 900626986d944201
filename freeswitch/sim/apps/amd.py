"""Answering-machine detection as FreeSWITCH modules do it: mod_amd's ``amd`` and mod_avmd's beep detection.

``amd`` (the Asterisk-style mod_amd) listens to the answered far end and
decides: a short greeting followed by silence is a person (``HUMAN``, cause
``HUMAN``); a greeting longer than 1.5 s is a machine (``MACHINE``,
``LONGGREETING``); 2.5 s of initial silence is a machine
(``INITIALSILENCE``); no decision within 5 s is ``NOTSURE`` (``TOOLONG``).
It blocks until it decides, sets ``amd_result`` and ``amd_cause`` and fires
``CUSTOM amd::human|amd::machine|amd::notsure`` (``Unique-ID``,
``Call-command: amd``, ``Amd-Status``). The simulated far end is the leg's
``callee`` (a person says "喂?" for ``greeting_seconds``; a machine plays its
greeting and beeps).

``avmd_start`` (mod_avmd) adds a media bug and returns at once, firing
``CUSTOM avmd::start``; when a machine's beep sounds it sets
``avmd_detect=TRUE`` and ``avmd_total_time`` and fires ``CUSTOM avmd::beep``
(``Beep-Status: DETECTED``, frequency and amplitude headers).
``avmd_stop`` fires ``CUSTOM avmd::stop`` with the beep status. ``avmd
start|stop`` is the same through one app.
"""

from __future__ import annotations

from typing import Any

from freeswitch.sim.apps.basic import app
from freeswitch.sim.channel import Channel

#: mod_amd's defaults (amd.conf), in seconds
GREETING = 1.5
AFTER_GREETING_SILENCE = 0.8
INITIAL_SILENCE = 2.5
TOTAL_ANALYSIS_TIME = 5.0
BEEP_SECONDS = 0.4
BEEP_FREQUENCY = "1000.000000"


def _since_answer(ch: Channel) -> float:
    answered = ch.answered_clock if ch.answered_clock is not None else ch.clock.seconds()
    return max(0.0, ch.clock.seconds() - answered)


def _fire(ch: Channel, subclass: str, headers: list[tuple[str, str]]) -> None:
    ch.core.fire_custom(subclass, [("Unique-ID", ch.uuid), *headers])


def amd_decision(callee: Any) -> tuple[float, str, str]:
    """(seconds after answer, result, cause) mod_amd reaches for this far end."""
    if callee is None:
        return 1.0 + AFTER_GREETING_SILENCE, "HUMAN", "HUMAN"
    greeting = max(0.0, float(getattr(callee, "greeting_seconds", 1.0)))
    if greeting <= 0.0:
        return INITIAL_SILENCE, "MACHINE", "INITIALSILENCE"
    if greeting > GREETING:
        return GREETING, "MACHINE", "LONGGREETING"
    decided = greeting + AFTER_GREETING_SILENCE
    if decided > TOTAL_ANALYSIS_TIME:
        return TOTAL_ANALYSIS_TIME, "NOTSURE", "TOOLONG"
    return decided, "HUMAN", "HUMAN"


@app("amd")
async def amd(ch: Channel, arg: str) -> None:
    at, result, cause = amd_decision(ch.callee)
    wait = at - _since_answer(ch)
    if wait > 0 and await ch.wait(wait) == "hangup":
        return None
    if not ch.up:
        return None
    ch.variables["amd_result"] = result
    ch.variables["amd_cause"] = cause
    _fire(ch, f"amd::{result.lower()}", [("Call-command", "amd"), ("Amd-Status", result)])
    return None


@app("avmd_start")
async def avmd_start(ch: Channel, arg: str) -> None:
    if getattr(ch, "avmd_timer", None) is not None:
        return None  # one detector per channel, as mod_avmd refuses a second
    ch.avmd_started = ch.clock.seconds()  # type: ignore[attr-defined]
    ch.avmd_beep = False  # type: ignore[attr-defined]
    _fire(ch, "avmd::start", [("Call-command", "avmd"), ("Start-time", str(ch.core.now_us()))])
    callee = ch.callee
    timer = None
    if callee is not None and getattr(callee, "machine", False) and getattr(callee, "beep", False):
        beep_at = float(callee.greeting_seconds) + BEEP_SECONDS - _since_answer(ch)
        timer = ch.clock.callLater(max(0.0, beep_at), _beep, ch)
    ch.avmd_timer = timer  # type: ignore[attr-defined]
    ch.on_hangup.append(_cancel_timer)
    return None


def _beep(ch: Channel) -> None:
    ch.avmd_timer = None  # type: ignore[attr-defined]
    if not ch.up:
        return
    detection = ch.clock.seconds() - getattr(ch, "avmd_started", ch.clock.seconds())
    ch.avmd_beep = True  # type: ignore[attr-defined]
    ch.variables["avmd_total_time"] = f"[{int(detection * 1000)}]"
    ch.variables["avmd_detect"] = "TRUE"
    _fire(ch, "avmd::beep", [("Call-command", "avmd"), ("Beep-Status", "DETECTED"), ("Frequency", BEEP_FREQUENCY),
                             ("Frequency-variance", "0.000002"), ("Amplitude", "3154.201172"),
                             ("Amplitude-variance", "0.000000"), ("Detection-time", str(int(detection * 1e6))),
                             ("Detector-resolution", "1"), ("Detector-offset", "0"), ("Detector-index", "0")])


def _cancel_timer(ch: Channel) -> None:
    timer = getattr(ch, "avmd_timer", None)
    if timer is not None and timer.active():
        timer.cancel()
    ch.avmd_timer = None  # type: ignore[attr-defined]


@app("avmd_stop")
async def avmd_stop(ch: Channel, arg: str) -> None:
    started = getattr(ch, "avmd_started", None)
    if started is None:
        return None  # "Stop failed - no avmd session running on this channel"
    _cancel_timer(ch)
    status = "DETECTED" if getattr(ch, "avmd_beep", False) else "NOTDETECTED"
    total = int((ch.clock.seconds() - started) * 1e6)
    _fire(ch, "avmd::stop", [("Call-command", "avmd"), ("Beep-Status", status), ("Total-time", str(total))])
    ch.avmd_started = None  # type: ignore[attr-defined]
    return None


@app("avmd")
async def avmd(ch: Channel, arg: str) -> None:
    if arg.strip().split()[:1] == ["stop"]:
        return await avmd_stop(ch, arg)
    return await avmd_start(ch, arg)
