"""``hotline call``: place a simulated call through a running simulator and print its transcript.

It is an ordinary ESL client: it authenticates, subscribes to the CUSTOM
``sim::transcript`` events, runs ``api sim call {...}`` and prints each
entry of the call as it happens, until the call hangs up. A short-lived
command-line tool, so it uses a plain blocking socket rather than a reactor.
"""

from __future__ import annotations

import argparse
import json
import socket
import sys
import time

from freeswitch.esl.frames import FrameParser, encode_command
from freeswitch.esl.urlcode import fs_url_decode
from hotline.settings import Settings


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="ani", default="13800000000", help="caller number (ANI)")
    parser.add_argument("--to", dest="dnis", required=True, help="dialled number (DNIS)")
    parser.add_argument("--script", default="", help='caller script, e.g. "wait 1; press 1#; wait_prompt; hangup"')
    parser.add_argument("--name", help="caller id name")
    parser.add_argument("--host", help="simulator event socket host (default: sim.host)")
    parser.add_argument("--port", type=int, help="simulator event socket port (default: sim.port)")
    parser.add_argument("--password", help="event socket password (default: sim.password)")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--json", action="store_true", help="print the final transcript as JSON")


class _Client:
    """The few ESL round trips this tool needs, over a blocking socket."""

    def __init__(self, host: str, port: int, timeout: float) -> None:
        self.sock = socket.create_connection((host, port), timeout=10)
        self.sock.settimeout(timeout)
        self.parser = FrameParser()
        self.pending: list = []
        self.pending_events: list = []  # events read while waiting for a reply

    def frame(self):
        while not self.pending:
            data = self.sock.recv(65536)
            if not data:
                raise ConnectionError("the simulator closed the connection")
            self.pending.extend(self.parser.feed(data))
        return self.pending.pop(0)

    def command(self, text: str):
        self.sock.sendall(encode_command(text))
        while True:
            frame = self.frame()
            if frame.content_type in ("command/reply", "api/response"):
                return frame
            self.pending_events.append(frame)


def _event(frame) -> dict[str, str]:
    head = frame.text.partition("\n\n")[0]
    out = {}
    for line in head.split("\n"):
        name, _, value = line.partition(": ")
        out[name] = fs_url_decode(value)
    return out


def _print(entry: dict) -> None:
    t = entry.get("t", "")
    rest = {k: v for k, v in entry.items() if k not in ("t", "event")}
    detail = " ".join(f"{k}={v}" for k, v in rest.items())
    print(f"[{t:>7}] {entry.get('event', '?'):<14} {detail}".rstrip(), flush=True)


def main(settings: Settings, args: argparse.Namespace) -> int:
    host = args.host or settings.sim.host
    port = args.port if args.port is not None else settings.sim.port
    password = args.password or settings.sim.password
    try:
        client = _Client(host, port, args.timeout)
    except OSError as exc:
        print(f"hotline call: cannot reach the simulator at {host}:{port}: {exc}", file=sys.stderr)
        return 1
    client.frame()  # auth/request
    if client.command(f"auth {password}").reply_text != "+OK accepted":
        print("hotline call: the event socket refused the password", file=sys.stderr)
        return 1
    client.command("event plain CUSTOM sim::transcript")
    spec = {"from": args.ani, "to": args.dnis, "script": args.script}
    if args.name:
        spec["name"] = args.name
    reply = client.command("api sim call " + json.dumps(spec)).text
    if not reply.startswith("+OK "):
        print(f"hotline call: {reply.strip()}", file=sys.stderr)
        return 1
    uuid = reply[4:].strip()
    print(f"call {uuid}: {args.ani} -> {args.dnis}", flush=True)
    deadline = time.monotonic() + args.timeout
    try:
        while time.monotonic() < deadline:
            frame = client.pending_events.pop(0) if client.pending_events else client.frame()
            if frame.content_type != "text/event-plain":
                if frame.content_type == "text/disconnect-notice":
                    break
                continue
            ev = _event(frame)
            if ev.get("Unique-ID") != uuid:
                continue
            entry = {"event": ev.get("Sim-Event", "")}
            entry.update(json.loads(ev.get("Sim-Data") or "{}"))
            _print(entry)
            if entry["event"] == "hangup":
                break
    except (socket.timeout, ConnectionError) as exc:
        print(f"hotline call: {exc}", file=sys.stderr)
        return 1
    try:
        if args.json:
            print(client.command(f"api sim transcript {uuid}").text)
        client.command("exit")
    except (OSError, ConnectionError) as exc:
        if args.json:
            print(f"hotline call: {exc}", file=sys.stderr)
            return 1
    return 0
