"""bridge: dial a leg, CHANNEL_BRIDGE/UNBRIDGE with Other-Leg-*, the outcome variables FreeSWITCH sets.

Without ``continue_on_fail`` a failed bridge hangs up the caller with the
originate cause; after a successful bridge the call continues unless
``hangup_after_bridge=true`` (the outbound-socket default is false).
"""

from __future__ import annotations

from freeswitch.sim.apps.basic import app
from freeswitch.sim.channel import Channel
from freeswitch.sim.originate import originate, set_outcome_vars


def bridge_events(a: Channel, b: Channel) -> None:
    """Link two legs and fire A's CHANNEL_BRIDGE (Other-Type originatee)."""
    now = a.core.now_us()
    a.times["bridged"] = b.times["bridged"] = now
    a.bridged_to, b.bridged_to = b, a
    a.other_leg, a.other_type = b, "originatee"
    for ch, other in ((a, b), (b, a)):
        ch.variables["bridge_uuid"] = other.uuid
        ch.variables["signal_bond"] = other.uuid
        ch.variables["last_bridge_to"] = other.uuid
    a.fire("CHANNEL_BRIDGE", ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1689),
           pre=[("Bridge-A-Unique-ID", a.uuid), ("Bridge-B-Unique-ID", b.uuid)])
    a.core.notify("bridge", channel=a, other=b)


def leave_bridge(ch: Channel) -> None:
    """Take ``ch`` out of its bridge (uuid_bridge / uuid_transfer of a bridged leg), as FreeSWITCH does.

    * the partner runs the ``bridge`` app (``ch`` is its originatee): that app
      returns and the partner goes on with its own app list (an outbound socket
      keeps control: hangup_after_bridge is false there);
    * ``ch`` itself runs ``bridge``: its app returns and the originatee, which
      has no dialplan of its own, is hung up;
    * a ``uuid_bridge`` pair: the remaining leg gets CHANNEL_UNBRIDGE and is hung
      up (FreeSWITCH 1.11.1) unless it has ``park_after_bridge=true``.
    """
    partner = ch.bridged_to
    if partner is None or not partner.up or partner.bridged_to is not ch:
        ch.bridged_to = None
        return
    if _runs_bridge(partner):
        partner.interrupt("unbridge")  # its bridge app fires UNBRIDGE and completes
        return
    if _runs_bridge(ch):
        ch.interrupt("unbridge")
        partner.bridged_to = None
        partner.hangup("NORMAL_CLEARING")
        return
    ch.bridged_to = partner.bridged_to = None
    partner.fire("CHANNEL_UNBRIDGE", ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1879),
                 pre=[("Bridge-A-Unique-ID", partner.uuid), ("Bridge-B-Unique-ID", ch.uuid)])
    partner.core.notify("unbridge", channel=partner, other=ch)
    if partner.variables.get("park_after_bridge", "false").lower() == "true":
        partner.execute("park", "", delay=0)
    else:
        partner.hangup("NORMAL_CLEARING")


def _runs_bridge(ch: Channel) -> bool:
    return ch.current_app is not None and ch.current_app[0] == "bridge"


def unbridge_events(a: Channel, b: Channel) -> None:
    a.fire("CHANNEL_UNBRIDGE", ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1879),
           pre=[("Bridge-A-Unique-ID", a.uuid), ("Bridge-B-Unique-ID", b.uuid)])
    a.bridged_to = None
    if b.bridged_to is a:
        b.bridged_to = None
    a.core.notify("unbridge", channel=a, other=b)


@app("bridge")
async def bridge(ch: Channel, arg: str) -> None:
    ring_wait = ch.callstate == "ACTIVE"
    if ring_wait:  # traced: ACTIVE -> RING_WAIT while dialling, back to ACTIVE on any outcome
        ch.set_callstate("RING_WAIT")
    outcome = await originate(ch.core, arg, caller=ch)
    if outcome.leg is not None:  # the originatee profile is on A before its callstate changes (traced)
        ch.other_leg, ch.other_type = outcome.leg, "originatee"
    if ring_wait and ch.up:
        ch.set_callstate("ACTIVE")
    set_outcome_vars(ch, outcome.cause, outcome.leg)
    if outcome.leg is None:
        if ch.up and ch.variables.get("continue_on_fail", "false").lower() not in ("true", "1", "yes") \
                and outcome.cause not in ch.variables.get("continue_on_fail", "").split(","):
            ch.hangup(outcome.cause)
        return None
    b = outcome.leg
    if not ch.answered:
        ch.answer()
    bridge_events(ch, b)
    b.on_hangup.append(lambda leg: ch.bridged_to is leg and ch.interrupt("unbridge"))
    reason = await ch.wait(None)
    cause = b.hangup_cause or "NORMAL_CLEARING"
    if reason == "hangup" and b.up:
        b.hangup("NORMAL_CLEARING")
        cause = "NORMAL_CLEARING"
    ch.variables["bridge_hangup_cause"] = cause
    ch.variables["last_bridge_hangup_cause"] = cause
    unbridge_events(ch, b)
    if ch.up and ch.variables.get("hangup_after_bridge", "false").lower() == "true":
        ch.clock.callLater(0, ch.hangup, "NORMAL_CLEARING")
    return None
