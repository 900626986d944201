"""Call-control api commands: originate, uuid_*, hupall (reply bodies as FreeSWITCH 1.11.1 sends them)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from freeswitch.sim.api_registry import command
from freeswitch.sim.core import SimCore
from freeswitch.sim.originate import originate as dial

NO_CHANNEL = "-ERR No such channel!\n"


def _split(args: str, n: int) -> list[str]:
    parts = args.split(None, n - 1)
    return parts + [""] * (n - len(parts))


def blank_split(text: str) -> list[tuple[str, str]]:
    """FreeSWITCH's argument split on spaces (``switch_separate_string`` with a blank delimiter).

    A space inside single quotes does not split and a backslash escapes the
    next character. Each item is (raw token, cleaned token): cleaning drops
    the quotes that pair up and the backslash before a quote or backslash.
    """
    tokens, current, quoted, i = [], "", False, 0
    while i < len(text):
        char = text[i]
        if char == "\\" and i + 1 < len(text):
            current += text[i:i + 2]
            i += 2
            continue
        if char == "'":
            quoted = not quoted
        if char == " " and not quoted:
            if current:
                tokens.append(current)
            current = ""
        else:
            current += char
        i += 1
    if current:
        tokens.append(current)
    return [(token, _cleanup(token)) for token in tokens]


def _cleanup(token: str) -> str:
    out, quoted, i = "", False, 0
    while i < len(token):
        char = token[i]
        if char == "\\" and i + 1 < len(token) and token[i + 1] in "'\"\\":
            out += token[i + 1]
            i += 2
            continue
        if char == "'" and (quoted or "'" in token[i + 1:]):
            quoted = not quoted
        else:
            out += char
        i += 1
    return out


def start_leg_app(core: SimCore, leg: Any, spec: str) -> None:
    """Run what originate was told: ``&app(args)`` or ``<exten> [dialplan] [context]``.

    As in FreeSWITCH the app's argument ends at its first ``)`` (or the end:
    ``&socket(h:p async full)`` split at its spaces runs ``socket(h:p``).
    """
    spec = spec.strip()
    match = re.match(r"^&([\w-]+)(?:\(([^)]*)\)?)?", spec, re.S)
    if match:
        leg.execute(match.group(1), match.group(2) or "", delay=0)
        return
    dialplan = core.extensions.get("dialplan")
    if dialplan is not None and spec:
        dialplan.route(leg, spec.split()[0])
    else:
        leg.execute("park", "", delay=0)


@command("originate")
async def originate(core: SimCore, args: str, conn: Any) -> str:
    argv = blank_split(args.strip())  # as FreeSWITCH: quote an app whose argument has spaces
    dialstring = argv[0][0] if argv else ""  # raw: parse_vars reads its quoted values
    rest = " ".join(cleaned for _raw, cleaned in argv[1:2])
    if not dialstring or not rest:
        return "-USAGE: <call url> <exten>|&<application_name>(<app_args>) [<dialplan>] [<context>] [<cid_name>] [<cid_num>] [<timeout_sec>]\n"
    outcome = await dial(core, dialstring)
    if outcome.leg is None:
        return f"-ERR {outcome.cause}\n"
    leg = outcome.leg
    leg.hit_dialplan = True
    start_leg_app(core, leg, rest if rest.startswith("&") else rest)
    return f"+OK {leg.uuid}\n"


@command("uuid_kill")
def uuid_kill(core: SimCore, args: str, conn: Any) -> str:
    uuid, cause = _split(args, 2)
    ch = core.channels.get(uuid)
    if ch is None or not ch.up:
        return NO_CHANNEL
    ch.hangup(cause.strip() or "NORMAL_CLEARING")
    return "+OK"


@command("hupall")
def hupall(core: SimCore, args: str, conn: Any) -> str:
    cause = (args.split() or ["NORMAL_CLEARING"])[0]
    channels = [ch for ch in core.channels.values() if ch.up]
    core.clock.callLater(0, lambda: [ch.hangup(cause) for ch in channels])
    return f"+OK hangup all channels with cause {cause}\n"


@command("uuid_exists")
def uuid_exists(core: SimCore, args: str, conn: Any) -> str:
    return "true" if args.strip() in core.channels else "false"


@command("uuid_getvar")
def uuid_getvar(core: SimCore, args: str, conn: Any) -> str:
    uuid, name = _split(args, 2)
    ch = core.channels.get(uuid)
    if ch is None:
        return NO_CHANNEL
    value = ch.get_variable(name.strip())
    return "_undef_" if value is None else value


@command("uuid_setvar")
def uuid_setvar(core: SimCore, args: str, conn: Any) -> str:
    uuid, name, value = _split(args, 3)
    ch = core.channels.get(uuid)
    if ch is None:
        return NO_CHANNEL
    if not name:
        return "-USAGE: <uuid> <var> [value]\n"
    if value == "":
        ch.variables.pop(name, None)
    else:
        ch.variables[name] = value
    return "+OK\n"


@command("uuid_setvar_multi")
def uuid_setvar_multi(core: SimCore, args: str, conn: Any) -> str:
    uuid, rest = _split(args, 2)
    ch = core.channels.get(uuid)
    if ch is None:
        return NO_CHANNEL
    for item in rest.split(";"):
        name, sep, value = item.partition("=")
        if not name.strip():
            continue
        if value == "":
            ch.variables.pop(name.strip(), None)
        else:
            ch.variables[name.strip()] = value
    return "+OK\n"


@command("uuid_dump")
def uuid_dump(core: SimCore, args: str, conn: Any) -> str:
    uuid, fmt = _split(args, 2)
    ch = core.channels.get(uuid)
    if ch is None:
        return NO_CHANNEL
    ev = ch.core.base_event("CHANNEL_DATA", ("mod_commands.c", "uuid_dump_function", 5409))
    ev.headers += ch.channel_data()
    return ev.json_body() if fmt.strip() == "json" else ev.plain_body()


@command("uuid_broadcast")
def uuid_broadcast(core: SimCore, args: str, conn: Any) -> str:
    uuid, path, leg = _split(args, 3)
    ch = core.channels.get(uuid)
    if ch is None:
        return NO_CHANNEL
    if path.startswith("app::"):
        app, _, app_arg = path[5:].partition("::")
    else:
        app, app_arg = "playback", path
    ch.execute(app, app_arg, delay=0.2)
    return "+OK Message sent\n"


@command("uuid_break")
def uuid_break(core: SimCore, args: str, conn: Any) -> str:
    uuid = _split(args, 2)[0]
    ch = core.channels.get(uuid)
    if ch is None:
        return NO_CHANNEL
    if "all" in args.split()[1:]:
        ch.queue.clear()
    core.clock.callLater(0.02, ch.break_media)
    return "+OK\n"


@command("uuid_answer")
def uuid_answer(core: SimCore, args: str, conn: Any) -> str:
    ch = core.channels.get(args.strip())
    if ch is None:
        return NO_CHANNEL
    ch.answer()
    return "+OK\n"


@command("uuid_send_dtmf")
def uuid_send_dtmf(core: SimCore, args: str, conn: Any) -> str:
    uuid, digits = _split(args, 2)
    ch = core.channels.get(uuid)
    if ch is None:
        return NO_CHANNEL
    digits = digits.split("@")[0].strip()
    core.notify("dtmf_out", channel=ch, digits=digits)
    return f"+OK {uuid} sent DTMF {digits}.\n"


@command("uuid_recv_dtmf")
def uuid_recv_dtmf(core: SimCore, args: str, conn: Any) -> str:
    uuid, digits = _split(args, 2)
    ch = core.channels.get(uuid)
    if ch is None:
        return NO_CHANNEL
    digits = digits.strip()
    for i, digit in enumerate(d for d in digits if d not in "wW"):
        core.clock.callLater(0.02 * (i + 1), ch.receive_dtmf, digit, "APP")
    return f"+OK {uuid} received DTMF {digits}.\n"


@command("uuid_record")
def uuid_record(core: SimCore, args: str, conn: Any) -> str:
    from freeswitch.sim.media import write_recording

    uuid, action, path = _split(args, 3)
    ch = core.channels.get(uuid)
    if ch is None:
        return NO_CHANNEL
    path = path.split()[0] if path else ""
    bug = [("Media-Bug-Function", "session_record"), ("Media-Bug-Target", path)]
    key = "record:" + path
    if action == "start":
        ch.media_bugs[key] = ch.clock.seconds()
        ch.fire("RECORD_START", ("switch_ivr_async.c", "record_callback", 1315), extra=[("Record-File-Path", path)])
        ch.fire("MEDIA_BUG_START", ("switch_core_media_bug.c", "switch_core_media_bug_add", 1014), pre=bug)
        return "+OK Success\n"
    if action == "stop":
        started = ch.media_bugs.pop(key, None)
        if started is None:
            return "-ERR Cannot stop record session!\n"
        length = ch.clock.seconds() - started
        target = Path(path) if Path(path).is_absolute() else core.recordings_dir / path
        segs = [(s - started, w) for s, w, _ in ch.audio if s >= started]
        try:
            write_recording(target, segs, length)
        except Exception:
            pass
        ch.fire("RECORD_STOP", ("switch_ivr_async.c", "record_callback", 1386), extra=[("Record-File-Path", path)])
        ch.fire("MEDIA_BUG_STOP", ("switch_core_media_bug.c", "switch_core_media_bug_destroy", 84), pre=bug)
        return "+OK Success\n"
    return "-USAGE: <uuid> [start|stop|mask|unmask] <path> [<limit>]\n"


@command("uuid_bridge")
def uuid_bridge(core: SimCore, args: str, conn: Any) -> str:
    from freeswitch.sim.apps.bridge import bridge_events

    a_uuid, b_uuid = _split(args, 2)
    a, b = core.channels.get(a_uuid), core.channels.get(b_uuid.strip())
    if a is None or b is None:
        return f"-ERR Invalid uuid {a_uuid if a is None else b_uuid}\n"
    from freeswitch.sim.apps.bridge import leave_bridge

    for ch in (a, b):  # each leaves the bridge it is in; the partner it leaves behind reacts as FreeSWITCH's does
        if ch.bridged_to is not None and ch.bridged_to not in (a, b):
            leave_bridge(ch)
    for ch, other in ((a, b), (b, a)):
        ch.queue.clear()
        if ch.main_app is not None:
            ch.complete_main_app()
        ch.variables["current_application"] = "uuid_bridge"
        ch.fire("CHANNEL_EXECUTE", ("switch_core_session.c", "switch_core_session_exec", 2949),
                extra=[("Application", "uuid_bridge"), ("Application-Data", other.uuid),
                       ("Application-UUID", core_uuid())])
        ch.state = "CS_SOFT_EXECUTE"
        ch.dialplan_mode = False
    bridge_events(a, b)
    b.other_leg, b.other_type = a, "originator"

    def partner_gone(gone: Any) -> None:
        other = b if gone is a else a
        if other.bridged_to is gone and other.up:
            other.fire("CHANNEL_UNBRIDGE", ("switch_ivr_bridge.c", "switch_ivr_multi_threaded_bridge", 1879),
                       pre=[("Bridge-A-Unique-ID", a.uuid), ("Bridge-B-Unique-ID", b.uuid)])
            other.bridged_to = None
            if other.variables.get("park_after_bridge", "false").lower() == "true":
                other.execute("park", "", delay=0)
            else:
                other.hangup("NORMAL_CLEARING")

    a.on_hangup.append(partner_gone)
    b.on_hangup.append(partner_gone)
    return f"+OK {b.uuid}\n"


def core_uuid() -> str:
    from freeswitch.sim.core import new_uuid

    return new_uuid()


@command("uuid_transfer")
def uuid_transfer(core: SimCore, args: str, conn: Any) -> str:
    from freeswitch.sim.apps.basic import transfer_channel
    from freeswitch.sim.apps.bridge import leave_bridge

    uuid, rest = _split(args, 2)
    ch = core.channels.get(uuid)
    if ch is None:
        return NO_CHANNEL
    words = rest.split()
    if words and words[0] in ("-bleg", "-both"):
        words = words[1:]
    leave_bridge(ch)
    ch.dialplan_mode = True
    transfer_channel(ch, " ".join(words))
    return "+OK\n"
