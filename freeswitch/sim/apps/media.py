"""playback, play_and_get_digits and read with FreeSWITCH's timing and variables.

A prompt lasts as long as its media (freeswitch.sim.media); digits barge in;
``playback_terminators`` (default ``*``, ``none`` disables) stop a playback.
pagd/read always answer ``_none_`` and report through variables only
(as FreeSWITCH 1.11.1 does).
"""

from __future__ import annotations

import math
import re
import shlex
from pathlib import Path
from typing import Callable

from freeswitch.sim.apps.basic import app
from freeswitch.sim.channel import Channel
from freeswitch.sim.media import MediaNotFound, media_duration

FILE_PLAYED = "FILE PLAYED"
FILE_NOT_FOUND = "FILE NOT FOUND"


def resolve_path(ch: Channel, target: str) -> str:
    """The path FreeSWITCH would report (relative names live under the sounds dir)."""
    if "://" in target or target.startswith("/"):
        return target
    return str(ch.core.sounds_dir / target)


def prompt_text(path: str) -> str | None:
    """Text of a prompt when ``<file>.txt`` sits beside the played WAV (for transcripts)."""
    if "://" in path:
        return None
    p = Path(path)
    for candidate in (p.with_suffix(".txt"), Path(str(p) + ".txt")):
        try:
            return candidate.read_text(encoding="utf-8").strip()
        except OSError:
            continue
    return None


def terminators(ch: Channel) -> str:
    value = ch.variables.get("playback_terminators", "*")
    return "" if value.lower() == "none" else value


async def play(ch: Channel, target: str, on_dtmf: Callable[[str], bool] | None = None) -> str:
    """Play one target: PLAYBACK_START, wait its duration (or an interrupt), PLAYBACK_STOP.

    Returns "FILE PLAYED", "FILE NOT FOUND", or the interrupt reason prefixed "FILE PLAYED"
    (FreeSWITCH reports FILE PLAYED on break too). ``on_dtmf`` returning True stops the prompt.
    """
    target = ch.core.expand(target, ch)
    try:
        seconds = media_duration(target, ch.core.sounds_dir)
    except MediaNotFound:
        ch.core.notify("prompt_missing", channel=ch, target=target)
        return FILE_NOT_FOUND
    path = resolve_path(ch, target)
    ch.fire("PLAYBACK_START", ("switch_ivr_play_say.c", "switch_ivr_play_file", 1649),
            extra=[("Playback-File-Path", path)])
    ch.core.notify("prompt", channel=ch, target=path, text=prompt_text(path), seconds=seconds)
    started = ch.clock.seconds()
    reason = await ch.wait(None if math.isinf(seconds) else seconds, on_dtmf)
    elapsed = min(ch.clock.seconds() - started, seconds)
    samples = int(elapsed * 8000)
    ch.variables["playback_last_offset_pos"] = str(samples)
    ch.variables["playback_seconds"] = str(int(elapsed))
    ch.variables["playback_ms"] = str(int(elapsed * 1000))
    ch.variables["playback_samples"] = str(samples)
    status = "done" if reason == "timeout" else "break"
    ch.fire("PLAYBACK_STOP", ("switch_ivr_play_say.c", "switch_ivr_play_file", 2023),
            extra=[("Playback-File-Path", path), ("Playback-Status", status)])
    ch.core.notify("prompt_end", channel=ch, target=path, status=status)
    return FILE_PLAYED


@app("playback")
async def playback(ch: Channel, arg: str) -> str:
    terms = terminators(ch)

    def on_dtmf(digit: str) -> bool:
        if digit in terms:
            ch.variables["playback_terminator_used"] = digit
            return True
        return False

    return await play(ch, arg.strip(), on_dtmf)


class DigitCollector:
    """Collects digits for pagd/read: stops on a terminator or at max digits."""

    def __init__(self, max_digits: int, terms: str) -> None:
        self.digits = ""
        self.max = max_digits
        self.terms = terms
        self.terminator: str | None = None

    @property
    def done(self) -> bool:
        return self.terminator is not None or len(self.digits) >= self.max

    def __call__(self, digit: str) -> bool:
        if digit in self.terms:
            self.terminator = digit
        else:
            self.digits += digit
        return True  # any digit barges in / restarts the inter-digit timer


async def collect(ch: Channel, prompt: str, col: DigitCollector, first_timeout: float,
                  digit_timeout: float) -> None:
    """Prompt with barge-in, then wait for digits until done or a timeout."""
    if prompt:
        result = await play(ch, prompt, col)
        if result == FILE_NOT_FOUND:
            pass
    while not col.done and ch.up:
        timeout = digit_timeout if col.digits else first_timeout
        reason = await ch.wait(timeout, col)
        if reason != "dtmf":
            break


def _int(value: str, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default


@app("play_and_get_digits")
async def play_and_get_digits(ch: Channel, arg: str) -> None:
    """min max tries timeout terminators file invalid_file var_name regexp [digit_timeout] [transfer_on_failure]."""
    a = arg.split()
    a += [""] * (11 - len(a))
    min_d, max_d, tries = _int(a[0], 1), _int(a[1], 1), max(1, _int(a[2], 1))
    timeout = _int(a[3], 5000) / 1000.0
    terms = "" if a[4] in ("", "none") else a[4]
    prompt, invalid, var = a[5], a[6], a[7] or "pagd_digits"
    regexp = a[8]
    digit_timeout = _int(a[9], int(timeout * 1000)) / 1000.0
    on_failure = a[10]
    ch.variables.pop(var, None)
    for _ in range(tries):
        if not ch.up:
            break
        col = DigitCollector(max_d, terms)
        await collect(ch, prompt, col, timeout, digit_timeout)
        if col.terminator:
            ch.variables["read_terminator_used"] = col.terminator
        if not ch.up:
            break
        ok = bool(col.digits) and len(col.digits) >= min_d and (not regexp or re.search(regexp, col.digits))
        if ok:
            ch.variables[var] = col.digits
            ch.variables["read_result"] = "success"
            return None
        if col.digits:
            ch.variables[var + "_invalid"] = col.digits
        if invalid:
            await play(ch, invalid)
    ch.variables["read_result"] = "failure"
    if on_failure and ch.up:
        from freeswitch.sim.apps.basic import transfer_channel

        transfer_channel(ch, on_failure)
    return None


@app("read")
async def read(ch: Channel, arg: str) -> None:
    """read min max sound_file variable_name timeout terminators."""
    a = shlex.split(arg) if arg.count('"') % 2 == 0 else arg.split()
    a += [""] * (6 - len(a))
    min_d, max_d = _int(a[0], 1), _int(a[1], 1)
    prompt, var = a[2], a[3] or "read_digits"
    timeout = _int(a[4], 5000) / 1000.0
    terms = a[5] or "#"
    ch.variables.pop(var, None)
    col = DigitCollector(max_d, terms)
    # measured on FreeSWITCH 1.11.1: read's first-digit timeout ends ~10 ms early (1.99 s for 2000 ms)
    await collect(ch, prompt, col, max(0.0, timeout - 0.01), timeout)
    if col.terminator:
        ch.variables["read_terminator_used"] = col.terminator
    if col.digits:
        ch.variables[var] = col.digits
    ch.variables["read_result"] = "success" if col.digits and len(col.digits) >= min_d else "failure"
    return None
