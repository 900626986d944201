"""The simulator's own ``api sim ...`` commands, as a FreeSWITCH module would add its own.

Any ESL client (the engine's admin page, ``hotline call``, a test) can drive
callers and phones and read transcripts through the normal event socket:

    sim call {"from": "13800000000", "to": "4001", "script": "wait 1; press 1#"}
    sim phone register|unregister 1001 [json]   sim phone set 1001 {json}   sim phone list
    sim external set <number> {json}            sim target <dnis-pattern> <host:port|park|app(arg);...>
    sim callees {json} | off | list             (a seeded mix for external numbers nobody set)
    sim target list                            sim transcript <uuid>       sim calls
    sim dtmf <uuid> <digits>                   sim speak <uuid> <wav>      sim fax <uuid> <tif>
    sim hangup <uuid> [cause]

Replies follow api conventions: "+OK ...\\n" or "-ERR <reason>\\n"; data as JSON.
"""

from __future__ import annotations

import json
from typing import Any

from freeswitch.sim.api_registry import command
from freeswitch.sim.core import SimCore

USAGE = ("-USAGE: sim call <json> | phone register|unregister|set|list ... | external set <num> <json> | "
         "target <pattern> <spec> | target list | transcript <uuid> | calls | dtmf <uuid> <digits> | "
         "speak <uuid> <wav> | fax <uuid> <tif> | hangup <uuid> [cause]\n")


def _json(text: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise ValueError("expected a JSON object")
    return value


@command("sim")
def sim(core: SimCore, args: str, conn: Any) -> str:
    simulator = core.extensions.get("simulator")
    if simulator is None:
        return "-ERR simulator controls not available\n"
    words = args.split(None, 1)
    if not words:
        return USAGE
    sub, rest = words[0], (words[1] if len(words) > 1 else "")
    try:
        return _dispatch(simulator, sub, rest)
    except (ValueError, KeyError, OSError) as exc:
        return f"-ERR {exc}\n"


def _dispatch(simulator: Any, sub: str, rest: str) -> str:
    if sub == "call":
        spec = _json(rest)
        call = simulator.place_call(str(spec["from"]), str(spec["to"]), spec.get("script", ""),
                                    cid_name=spec.get("name"), variables=spec.get("vars") or {},
                                    uuid=spec.get("uuid"))
        return f"+OK {call.uuid}\n"
    if sub == "phone":
        parts = rest.split(None, 2)
        action = parts[0] if parts else "list"
        if action == "list":
            return json.dumps({ext: p.to_dict() for ext, p in simulator.directory.phones.items()})
        if len(parts) < 2:
            return USAGE
        ext, data = parts[1], _json(parts[2] if len(parts) > 2 else "")
        if action == "register":
            simulator.directory.register(ext, **data)
        elif action == "unregister":
            simulator.directory.unregister(ext)
        elif action == "set":
            simulator.directory.phone(ext).update(data)
        elif action == "remove":
            simulator.directory.phones.pop(ext, None)
        else:
            return USAGE
        return "+OK\n"
    if sub == "external":
        parts = rest.split(None, 2)
        if len(parts) < 2 or parts[0] != "set":
            return USAGE
        from freeswitch.sim.phones import Endpoint

        endpoint = simulator.directory.external.setdefault(parts[1], Endpoint(answer_after=0.0))
        endpoint.update(_json(parts[2] if len(parts) > 2 else ""))
        return "+OK\n"
    if sub == "callees":
        return _callees(simulator, rest.strip())
    if sub == "target":
        parts = rest.split(None, 1)
        if parts and parts[0] == "list":
            return json.dumps(simulator.dialplan.describe())
        if len(parts) < 2:
            return USAGE
        simulator.dialplan.set_target(parts[0], parts[1])
        return "+OK\n"
    if sub == "transcript":
        call = simulator.calls.get(rest.strip())
        if call is None:
            return f"-ERR no simulated call {rest.strip()}\n"
        return json.dumps({"uuid": call.uuid, "up": call.channel.up,
                           "hangup_cause": call.channel.hangup_cause or "", "transcript": call.transcript},
                          ensure_ascii=False)
    if sub == "calls":
        return json.dumps([{"uuid": c.uuid, "ani": c.channel.profile["ANI"],
                            "dnis": c.channel.profile["Destination-Number"], "up": c.channel.up}
                           for c in simulator.calls.values()])
    if sub in ("dtmf", "hangup"):
        # any leg: a simulated caller, or an agent phone / far end of a bridge
        parts = rest.split(None, 1)
        channel = simulator.channels.get(parts[0]) if parts else None
        if channel is None or not channel.up:
            return "-ERR No such channel!\n"
        arg = parts[1].strip() if len(parts) > 1 else ""
        call = simulator.calls.get(channel.uuid)
        if sub == "hangup":
            channel.hangup(arg or "NORMAL_CLEARING")
        elif call is not None:
            call.press(arg)
        else:
            for i, digit in enumerate(arg):
                channel.clock.callLater(0.1 * i, channel.receive_dtmf, digit, "RTP")
        return "+OK\n"
    if sub in ("speak", "fax"):
        parts = rest.split(None, 1)
        call = simulator.calls.get(parts[0]) if parts else None
        if call is None or not call.channel.up:
            return "-ERR No such channel!\n"
        arg = parts[1].strip() if len(parts) > 1 else ""
        if sub == "speak":
            call.speak(arg)
        else:
            call.offer_fax(arg)
        return "+OK\n"
    return USAGE


def _callees(simulator: Any, rest: str) -> str:
    """``sim callees {json}`` sets a seeded callee mix, ``off`` removes it, ``list`` shows it and its draws."""
    from freeswitch.sim.callees import CalleeMix

    directory = simulator.directory
    if rest == "off":
        directory.callees = None
        return "+OK\n"
    if rest in ("", "list"):
        mix = directory.callees
        return json.dumps(None if mix is None else {**mix.to_dict(), "history": mix.history[-200:]})
    spec = _json(rest)
    allowed = {"seed", "answer", "machine", "busy", "failed", "ring_median", "talk_median"}
    unknown = set(spec) - allowed
    if unknown:
        raise ValueError(f"unknown callee setting(s) {', '.join(sorted(unknown))}")
    directory.callees = CalleeMix(**spec)
    return "+OK\n"
