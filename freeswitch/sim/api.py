"""``api``/``bgapi`` commands with FreeSWITCH's exact reply bodies (errors live in the body).

Each handler returns the body text; an empty result becomes "-ERR no reply\\n"
and an unknown command "-ERR <cmd> Command not found!\\n" (FreeSWITCH 1.11.1's reply).
Every call also fires an API event. Handlers may be coroutines (originate
waits for the far end to answer).
"""

from __future__ import annotations

import json
import time as _time
from typing import Any

from freeswitch.sim.api_registry import COMMANDS, Handler, command, execute  # noqa: F401  (the registry, re-exported)
from freeswitch.sim.core import VERSION, SimCore

# -- core ----------------------------------------------------------------------
@command("status")
def status(core: SimCore, args: str, conn: Any) -> str:
    n = len(core.channels)
    return (f"UP {core.uptime_text()}\n"
            f"FreeSWITCH (Version {VERSION.replace('~', '  ')}) is ready\n"
            f"{core.sessions_since_startup} session(s) since startup\n"
            f"{n} session(s) - peak {core.peak}, last 5min {core.peak} \n"
            f"0 session(s) per Sec out of max 30, peak 0, last 5min 0 \n"
            f"1000 session(s) max\nmin idle cpu 0.00/99.00\nCurrent Stack Size/Max 240K/8192K\n")


@command("version")
def version(core: SimCore, args: str, conn: Any) -> str:
    return f"FreeSWITCH Version {VERSION} ( 64bit)\n"


@command("uptime")
def uptime(core: SimCore, args: str, conn: Any) -> str:
    return f"{int(core.uptime())}\n"


@command("reloadxml")
def reloadxml(core: SimCore, args: str, conn: Any) -> str:
    return "+OK [Success]\n"


@command("global_getvar")
def global_getvar(core: SimCore, args: str, conn: Any) -> str:
    if not args:
        return "".join(f"{k}={v}\n" for k, v in core.global_vars.items())
    return core.global_vars.get(args.strip(), "")


@command("global_setvar")
def global_setvar(core: SimCore, args: str, conn: Any) -> str:
    name, _, value = args.partition("=")
    core.global_vars[name.strip()] = value.strip()
    return "+OK"


@command("eval")
def eval_(core: SimCore, args: str, conn: Any) -> str:
    if args.startswith("uuid:"):
        uuid, _, rest = args[5:].partition(" ")
        return core.expand(rest, core.channels.get(uuid))
    return core.expand(args)


@command("echo")
def echo(core: SimCore, args: str, conn: Any) -> str:
    return args


@command("sofia")
def sofia(core: SimCore, args: str, conn: Any) -> str:
    if args.strip() != "status":
        return "-ERR Usage: sofia status\n"
    line = "=" * 97
    return (f"{'Name':>21}\t{'Type':>7}\t{'Data':>42}\tState\n{line}\n"
            f"{'sim':>21}\t{'profile':>7}\t{'sip:mod_sofia@127.0.0.1:5080':>42}\tRUNNING (0)\n{line}\n"
            "1 profile 0 aliases\n")


# -- show ------------------------------------------------------------------------
def _created(ch: Any) -> tuple[str, str]:
    secs = ch.times["created"] / 1_000_000
    return _time.strftime("%Y-%m-%d %H:%M:%S", _time.localtime(secs)), str(int(secs))


def channel_row(core: SimCore, ch: Any) -> dict[str, str]:
    created, epoch = _created(ch)
    app, app_data = (ch.current_app or ch.main_app or ("", "", ""))[:2]
    name, rate, bits = ch.codec
    p = ch.profile
    return {
        "uuid": ch.uuid, "direction": ch.direction, "created": created, "created_epoch": epoch,
        "name": ch.name, "state": ch.state, "cid_name": p["Caller-ID-Name"], "cid_num": p["Caller-ID-Number"],
        "ip_addr": p["Network-Addr"], "dest": p["Destination-Number"], "application": app,
        "application_data": app_data, "dialplan": p["Dialplan"], "context": p["Context"],
        "read_codec": name, "read_rate": str(rate), "read_bit_rate": str(bits), "write_codec": name,
        "write_rate": str(rate), "write_bit_rate": str(bits), "secure": "", "hostname": core.hostname,
        "presence_id": "", "presence_data": "", "accountcode": "", "callstate": ch.callstate,
        "callee_name": p.get("Callee-ID-Name", ""), "callee_num": p.get("Callee-ID-Number", ""),
        "callee_direction": "", "call_uuid": ch.uuid if ch.bridged_to else "", "sent_callee_name": "",
        "sent_callee_num": "", "initial_cid_name": p["Orig-Caller-ID-Name"],
        "initial_cid_num": p["Orig-Caller-ID-Number"], "initial_ip_addr": p["Network-Addr"],
        "initial_dest": p["Destination-Number"], "initial_dialplan": p["Dialplan"],
        "initial_context": p["Context"],
    }


CALL_KEYS = ("uuid direction created created_epoch name state cid_name cid_num ip_addr dest presence_id "
             "presence_data accountcode callstate callee_name callee_num callee_direction call_uuid hostname "
             "sent_callee_name sent_callee_num").split()
B_KEYS = ("uuid direction created created_epoch name state cid_name cid_num ip_addr dest presence_id "
          "presence_data accountcode callstate callee_name callee_num callee_direction sent_callee_name "
          "sent_callee_num").split()


def call_rows(core: SimCore) -> list[dict[str, str]]:
    rows, seen = [], set()
    for ch in list(core.channels.values()):
        if ch.uuid in seen:
            continue
        seen.add(ch.uuid)
        row = channel_row(core, ch)
        out = {k: row[k] for k in CALL_KEYS}
        other = ch.bridged_to
        b = channel_row(core, other) if other is not None else None
        if other is not None:
            seen.add(other.uuid)
        for key in B_KEYS:
            out["b_" + key] = b[key] if b else ""
        out["call_created_epoch"] = row["created_epoch"] if b else ""
        rows.append(out)
    return rows


@command("show")
def show(core: SimCore, args: str, conn: Any) -> str:
    words = args.split()
    what = words[0] if words else ""
    as_json = words[-2:] == ["as", "json"]
    if what not in ("channels", "calls"):
        return "-USAGE: show <channels|calls|...>\n"
    if len(words) > 1 and words[1] == "count":
        n = len(core.channels) if what == "channels" else len(call_rows(core))
        return f"\n{n} total.\n"
    rows = [channel_row(core, ch) for ch in core.channels.values()] if what == "channels" else call_rows(core)
    if as_json:
        if not rows:
            return '{"row_count": 0}\n'
        return json.dumps({"row_count": len(rows), "rows": rows}, separators=(",", ":"), ensure_ascii=False)
    if not rows:
        return "\n0 total.\n"
    keys = list(rows[0])
    lines = [",".join(keys)] + [",".join(r[k] for k in keys) for r in rows]
    return "\n".join(lines) + f"\n\n{len(rows)} total.\n"


# the uuid_* family, originate and hupall live in api_calls (imported for registration)
from freeswitch.sim import api_calls  # noqa: E402,F401
