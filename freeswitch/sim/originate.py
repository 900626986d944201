"""Creating outbound legs: dial-string parsing, far-end behaviour, the traced event order.

Used by the ``bridge`` app and the ``originate`` api. Event order for a new
leg: [CHANNEL_UUID] CHANNEL_OUTGOING, CHANNEL_CREATE, CHANNEL_ORIGINATE,
CHANNEL_PROGRESS (ringing), then CHANNEL_ANSWER or CHANNEL_HANGUP with the
failure cause (the order FreeSWITCH 1.11.1 sends them in).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from twisted.internet.task import deferLater

from freeswitch.sim.channel import Channel
from freeswitch.sim.core import SimCore, new_uuid
from freeswitch.sim.phones import Directory, Endpoint

DIALSTATUS = {"SUCCESS": "SUCCESS", "NO_ANSWER": "NOANSWER", "USER_BUSY": "BUSY", "CALL_REJECTED": "BUSY",
              "ORIGINATOR_CANCEL": "CANCEL"}


def parse_vars(text: str) -> tuple[dict[str, str], str]:
    """Split leading ``{a=b,c=d}`` / ``[..]`` blocks off a dial string (FreeSWITCH quoting with ^^ ignored)."""
    variables: dict[str, str] = {}
    text = text.strip()
    while text[:1] in ("{", "[", "<"):
        close = {"{": "}", "[": "]", "<": ">"}[text[0]]
        end = text.find(close)
        if end < 0:
            break
        for item in re.split(r",(?![^']*'(?:[^']*'[^']*')*[^']*$)", text[1:end]):
            key, sep, value = item.partition("=")
            if sep:
                variables[key.strip()] = value.strip().strip("'")
        text = text[end + 1:].strip()
    return variables, text


@dataclass
class Outcome:
    leg: Channel | None
    cause: str  # SUCCESS or the hangup cause


def _endpoint(core: SimCore, target: str) -> tuple[str | None, Endpoint | None, str, str]:
    """(failure cause, behaviour, channel name, destination number) for an endpoint string."""
    directory: Directory = core.extensions["directory"]
    kind, _, rest = target.partition("/")
    if kind == "user":
        ext = rest.split("@")[0]
        phone = directory.phones.get(ext)
        if phone is None:
            return "SUBSCRIBER_ABSENT", None, "", ext
        if not phone.registered:
            return "USER_NOT_REGISTERED", None, "", ext
        return None, phone, f"sofia/sim/{ext}@127.0.0.1:5062", ext
    if kind == "loopback":
        number = rest.split("/")[0]
        return None, directory.external_for(number), f"loopback/{number}-a", number
    if kind == "sofia":
        number = rest.rsplit("/", 1)[-1].split("@")[0]
        return None, directory.external_for(number), f"sofia/{rest}", number
    if kind == "error":
        return rest or "NORMAL_CLEARING", None, "", rest
    return "CHAN_NOT_IMPLEMENTED", None, "", rest


async def originate(core: SimCore, dialstring: str, extra_vars: dict[str, str] | None = None,
                    caller: Channel | None = None) -> Outcome:
    """Dial one leg and wait for its answer or failure (``|`` tries targets in turn)."""
    variables, rest = parse_vars(dialstring)
    variables = {**(extra_vars or {}), **variables}
    last = Outcome(None, "CHAN_NOT_IMPLEMENTED")
    for target in [t for t in rest.split("|") if t.strip()]:
        tv, target = parse_vars(target)
        last = await _originate_one(core, target.split(",")[0].strip(), {**variables, **tv}, caller)
        if last.cause == "SUCCESS" or (caller is not None and not caller.up):
            break
    return last


async def _originate_one(core: SimCore, target: str, variables: dict[str, str],
                         caller: Channel | None) -> Outcome:
    cause, behaviour, name, dest = _endpoint(core, target)
    if cause is not None or behaviour is None:
        return Outcome(None, cause or "CHAN_NOT_IMPLEMENTED")
    ani = variables.get("origination_caller_id_number") or (caller.profile["Caller-ID-Number"] if caller else "0000000000")
    cid_name = variables.get("origination_caller_id_name") or (caller.profile["Caller-ID-Name"] if caller else "FreeSWITCH")
    wanted_uuid = variables.get("origination_uuid")
    leg = Channel(core, direction="outbound", name=name, ani=ani, dnis=dest, cid_name=cid_name,
                  context="default", source="mod_loopback" if name.startswith("loopback") else "mod_sofia")
    leg.profile["Callee-ID-Name"] = "Outbound Call"
    leg.profile["Callee-ID-Number"] = dest
    for key, value in variables.items():
        leg.variables[key] = value
    leg.dialplan_mode = True
    leg.far_end = behaviour  # what answers: txfax asks whether it is a fax machine
    if caller is not None:
        leg.other_leg, leg.other_type = caller, "originator"
        leg.variables["call_uuid"] = caller.variables.get("call_uuid", caller.uuid)
    if wanted_uuid:
        old = leg.uuid
        core.channels.pop(old, None)
        leg.uuid = wanted_uuid
        leg.variables["uuid"] = wanted_uuid
        core.channels[wanted_uuid] = leg
        leg.state = "CS_NONE"
        leg.fire("CHANNEL_UUID", ("switch_core_session.c", "switch_core_session_set_uuid", 2056),
                 pre=[("Old-Unique-ID", old)])
        leg.state = "CS_NEW"
    leg.fire("CHANNEL_OUTGOING", ("switch_core_session.c", "switch_core_session_outgoing_channel", 768))
    leg.state = "CS_INIT"
    leg.fire("CHANNEL_CREATE", ("switch_core_state_machine.c", "switch_core_session_run", 626))
    leg.fire("CHANNEL_ORIGINATE", ("switch_core_state_machine.c", "switch_core_session_run", 632))
    leg.state = "CS_CONSUME_MEDIA"
    core.notify("leg_create", channel=leg, target=target)
    refusal = "USER_BUSY" if behaviour.busy else "CALL_REJECTED" if behaviour.reject else behaviour.fail_cause
    if refusal:
        return await _refuse(core, leg, refusal, behaviour.fail_after, caller)
    leg.callee = behaviour  # what answers: a person or a machine (the amd / avmd apps listen to it)
    leg.ring_ready()
    timeout = float(variables.get("originate_timeout") or variables.get("call_timeout") or 60)
    ring = behaviour.answer_after
    wait = timeout if ring is None or ring >= timeout else ring
    if caller is not None:
        reason = await caller.wait(wait)
        if reason != "timeout":
            leg.hangup("ORIGINATOR_CANCEL")
            return Outcome(None, "ORIGINATOR_CANCEL")
    else:
        await deferLater(core.clock, wait, lambda: None)
    if not leg.up:
        return Outcome(None, leg.hangup_cause or "NORMAL_CLEARING")
    if ring is None or ring >= timeout:
        leg.hangup("NO_ANSWER")
        return Outcome(None, "NO_ANSWER")
    leg.state = "CS_EXECUTE"
    leg.answer()
    leg.answered_clock = core.clock.seconds()
    hang_up_after = behaviour.talk_seconds
    if behaviour.machine:  # greeting, beep, then it records until its limit
        hang_up_after = behaviour.greeting_seconds + behaviour.message_seconds
    if hang_up_after is not None:
        core.clock.callLater(hang_up_after, leg.hangup, "NORMAL_CLEARING")
    for i, digit in enumerate(behaviour.digits):
        core.clock.callLater(0.5 + 0.1 * i, _far_dtmf, leg, digit)
    if behaviour.replies:
        _answer_prompts(core, leg, list(behaviour.replies), behaviour.reply_after)
    return Outcome(leg, "SUCCESS")


#: the applications that wait for the far end's keys after (or while) playing a prompt
PROMPT_WAITS = ("play_and_get_digits", "read")


def _answer_prompts(core: SimCore, leg: Channel, replies: list[str], after: float) -> None:
    """A person on ``leg`` who answers each prompt-wait with the next reply (see ``Endpoint.replies``)."""
    pending = list(replies)

    def on(kind: str, data: dict) -> None:
        if kind == "hangup":
            core.unlisten_channel(leg, on)
            return
        if kind != "app" or data.get("app") not in PROMPT_WAITS or not pending:
            return
        reply = str(pending.pop(0))
        if reply == "hangup":
            core.clock.callLater(after, lambda: leg.up and leg.hangup("NORMAL_CLEARING"))
            return
        for i, digit in enumerate(reply):
            core.clock.callLater(after + 0.1 * i, _far_dtmf, leg, digit)

    core.listen_channel(leg, on)


#: the SIP final response mod_sofia would have received for a refusal (``sip_term_status``)
SIP_STATUS = {"USER_BUSY": "486", "CALL_REJECTED": "603", "UNALLOCATED_NUMBER": "404", "NO_USER_RESPONSE": "480",
              "NORMAL_TEMPORARY_FAILURE": "503", "RECOVERY_ON_TIMER_EXPIRE": "408", "NO_ROUTE_DESTINATION": "604",
              "NETWORK_OUT_OF_ORDER": "502", "INVALID_NUMBER_FORMAT": "484"}


async def _refuse(core: SimCore, leg: Channel, cause: str, after: float, caller: Channel | None) -> Outcome:
    """The far end or the network refuses the call (after ``after`` seconds of trying)."""
    if after > 0:
        if caller is not None:
            if await caller.wait(after) != "timeout":
                leg.hangup("ORIGINATOR_CANCEL")
                return Outcome(None, "ORIGINATOR_CANCEL")
        else:
            await deferLater(core.clock, after, lambda: None)
    if not leg.up:
        return Outcome(None, leg.hangup_cause or "NORMAL_CLEARING")
    if leg.name.startswith("sofia/") and cause in SIP_STATUS:
        leg.variables["sip_term_status"] = SIP_STATUS[cause]
    leg.hangup(cause)
    return Outcome(None, cause)


def _far_dtmf(leg: Channel, digit: str) -> None:
    """A digit the far end sends arrives on the bridged partner (as RTP)."""
    partner = leg.bridged_to
    if partner is not None and partner.up:
        partner.receive_dtmf(digit, "RTP")
    elif leg.up:
        leg.receive_dtmf(digit, "RTP")


def set_outcome_vars(ch: Channel, cause: str, leg: Channel | None) -> None:
    """originate_disposition / DIALSTATUS / originate_failed_cause as FreeSWITCH leaves them."""
    ch.variables["originate_disposition"] = cause
    ch.variables["DIALSTATUS"] = DIALSTATUS.get(cause, cause)
    if cause != "SUCCESS":
        ch.variables["originate_failed_cause"] = cause
        if cause in ("NO_ANSWER", "USER_BUSY", "CALL_REJECTED"):
            ch.variables["last_bridge_hangup_cause"] = cause
    else:
        ch.variables["endpoint_disposition"] = "ANSWER"


def new_job_uuid() -> str:
    return new_uuid()
