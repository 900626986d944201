"""eavesdrop / three_way: a channel listens to (and may talk into) another channel's call.

Modelled on mod_dptools ``eavesdrop_function`` / ``three_way_function`` and
``switch_ivr_eavesdrop_session`` (FreeSWITCH 1.10):

* a media bug named ``eavesdrop`` is added to the *target* channel
  (MEDIA_BUG_START / MEDIA_BUG_STOP on the target, ``Media-Bug-Target`` = the
  target uuid); the eavesdropper hears both directions of the target's audio;
* ``ED_MUX_WRITE`` mixes the eavesdropper's voice into what is *written* to the
  target's phone (whisper to the target); ``ED_MUX_READ`` mixes it into what
  the target *reads*, i.e. what the target's bridged partner hears;
* start flags: ``eavesdrop_whisper_aleg=true`` sets MUX_READ,
  ``eavesdrop_whisper_bleg=true`` sets MUX_WRITE; ``eavesdrop_enable_dtmf=false``
  turns DTMF control off (it is on by default); ``three_way`` is
  MUX_READ|MUX_WRITE with no DTMF control;
* DTMF on the eavesdropper's channel (a phone key, or ``uuid_recv_dtmf``):
  ``1`` MUX_READ only, ``2`` MUX_WRITE only, ``3`` both, ``0`` neither (listen),
  ``*`` ends the eavesdrop; other keys are ignored;
* the app returns (Application-Response ``_none_``) when the target or the
  eavesdropper hangs up; an originated ``&eavesdrop()`` leg then hangs up
  (its app list has run out).

What the real switch does with audio, the simulator records: each mode is a
``sim::eavesdrop`` CUSTOM event and an ``eavesdrop`` entry in the transcript
of a simulated caller on either side (``hears_supervisor`` says whether the
eavesdropper's voice reaches that caller); the eavesdropper channel keeps
``eavesdrop_modes`` (a list of ``(seconds, mode)``).
"""

from __future__ import annotations

from typing import Any

from freeswitch.sim.apps.basic import app
from freeswitch.sim.channel import Channel

MUX_READ, MUX_WRITE = 1, 2
#: mode name per flag set, as Hotline's supervision names them
MODES = {0: "listen", MUX_READ: "talk_to_partner", MUX_WRITE: "whisper", MUX_READ | MUX_WRITE: "barge"}
KEYS = {"0": 0, "1": MUX_READ, "2": MUX_WRITE, "3": MUX_READ | MUX_WRITE}


def _true(value: str | None) -> bool:
    return (value or "").strip().lower() in ("true", "1", "yes", "on", "enabled", "active", "allow")


@app("eavesdrop")
async def eavesdrop(ch: Channel, arg: str) -> None:
    flags = 0
    if _true(ch.variables.get("eavesdrop_whisper_aleg")):
        flags |= MUX_READ
    if _true(ch.variables.get("eavesdrop_whisper_bleg")):
        flags |= MUX_WRITE
    dtmf = ch.variables.get("eavesdrop_enable_dtmf")
    await run_eavesdrop(ch, arg.strip(), flags, dtmf is None or _true(dtmf))


@app("three_way")
async def three_way(ch: Channel, arg: str) -> None:
    await run_eavesdrop(ch, arg.strip(), MUX_READ | MUX_WRITE, False)


async def run_eavesdrop(ch: Channel, target_uuid: str, flags: int, dtmf: bool) -> None:
    """The eavesdrop loop: until the target or ``ch`` hangs up, or ``*``."""
    target = ch.core.channels.get(target_uuid)
    if target is None or target is ch or not target.up or not ch.up:
        return None  # "Eavesdrop target invalid" / not found: the app just returns
    bug = [("Media-Bug-Function", "eavesdrop"), ("Media-Bug-Target", target.uuid)]
    target.fire("MEDIA_BUG_START", ("switch_core_media_bug.c", "switch_core_media_bug_add", 1014), pre=bug)
    target.media_bugs[f"eavesdrop:{ch.uuid}"] = ch.uuid
    modes: list[tuple[float, str]] = getattr(ch, "eavesdrop_modes", [])
    ch.eavesdrop_modes = modes  # type: ignore[attr-defined]
    _mode(ch, target, flags, modes)
    hook = lambda _t: ch.interrupt("target_gone")  # noqa: E731
    target.on_hangup.append(hook)
    try:
        while ch.up and target.up:
            pressed: list[str] = []

            def on_digit(digit: str) -> bool:
                pressed.append(digit)
                return True

            reason = await ch.wait(None, on_dtmf=on_digit if dtmf else None)
            if reason != "dtmf":
                if reason in ("hangup", "target_gone") or not (ch.up and target.up):
                    break
                continue  # uuid_break and the like do not end an eavesdrop
            digit = pressed[-1] if pressed else ""
            if digit == "*":
                break
            if digit in KEYS and target.up:
                flags = KEYS[digit]
                _mode(ch, target, flags, modes)
    finally:
        if hook in target.on_hangup:
            target.on_hangup.remove(hook)
        if target.media_bugs.pop(f"eavesdrop:{ch.uuid}", None) is not None and target.up:
            target.fire("MEDIA_BUG_STOP", ("switch_core_media_bug.c", "switch_core_media_bug_destroy", 84),
                        pre=bug)
    return None


def _mode(ch: Channel, target: Channel, flags: int, modes: list[tuple[float, str]]) -> None:
    mode = MODES[flags]
    modes.append((ch.clock.seconds(), mode))
    partner = target.bridged_to
    ch.core.fire_custom("sim::eavesdrop", [("Unique-ID", ch.uuid), ("Eavesdrop-Target", target.uuid),
                                           ("Eavesdrop-Mode", mode)])
    ch.core.notify("eavesdrop", channel=ch, target=target, mode=mode)
    simulator: Any = ch.core.extensions.get("simulator")
    calls = getattr(simulator, "calls", {}) or {}
    for leg, hears in ((target, bool(flags & MUX_WRITE)), (partner, bool(flags & MUX_READ))):
        call = calls.get(leg.uuid) if leg is not None else None
        if call is not None:
            call.add("eavesdrop", by=ch.uuid, mode=mode, hears_supervisor=hears)
