"""``hotline call``: place a simulated call through a running simulator, as a script or from the terminal.

It is an ordinary ESL client (``freeswitch.esl.blocking``): it
authenticates, subscribes to the CUSTOM ``sim::transcript`` events, runs
``api sim call {...}`` and prints each entry of the call as it happens,
until the call hangs up.

With ``--script`` the simulated caller follows the script (unchanged).
Without it the caller is you: prompts are shown as they start playing
(their text), and each line typed is what the caller does --
keys (``1``, ``123#``), ``say <words>`` (spoken: rendered to 8 kHz speech
with espeak-ng and played into the call, so speech menus hear it),
``speak <file.wav>``, ``hangup``. End of input leaves the caller on the line
until the switch hangs up; Ctrl-C hangs up. A short-lived command-line
tool, so it uses plain blocking sockets and ``select`` rather than a reactor.
"""

from __future__ import annotations

import argparse
import json
import re
import select
import socket
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, TextIO

from freeswitch.esl.blocking import BlockingEsl, EslRefused, plain_event
from hotline.settings import Settings

KEYS = re.compile(r"^[0-9*#A-Da-d]+$")
HELP = ("type keys (1, 123#), 'say <words>', 'speak <file.wav>', 'hangup'; end of input keeps the caller "
        "on the line, Ctrl-C hangs up")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--from", dest="ani", default="13800000000", help="caller number (ANI)")
    parser.add_argument("--to", dest="dnis", required=True, help="dialled number (DNIS)")
    parser.add_argument("--script", default="",
                        help='caller script, e.g. "wait 1; press 1#; wait_prompt; hangup" '
                             "(without one, the caller is you: keys and 'say ...' from the terminal)")
    parser.add_argument("--name", help="caller id name")
    parser.add_argument("--lang", choices=["auto", "zh", "en"], default="auto",
                        help="voice for 'say' (auto: Mandarin when the words have Chinese characters)")
    parser.add_argument("--host", help="simulator event socket host (default: switch.host)")
    parser.add_argument("--port", type=int, help="simulator event socket port (default: switch.port)")
    parser.add_argument("--password", help="event socket password (default: switch.password)")
    parser.add_argument("--timeout", type=float, default=600.0, help="give up after this many seconds")
    parser.add_argument("--json", action="store_true", help="print the final transcript as JSON")


def _print(entry: dict) -> None:
    t = entry.get("t", "")
    rest = {k: v for k, v in entry.items() if k not in ("t", "event")}
    if entry.get("event") == "prompt" and rest.get("text"):  # what the caller hears, first
        rest = {"text": rest["text"], "file": rest.get("file", "")}
    detail = " ".join(f"{k}={v}" for k, v in rest.items())
    print(f"[{t:>7}] {entry.get('event', '?'):<14} {detail}".rstrip(), flush=True)


def _entry(frame: Any, uuid: str) -> dict | None:
    """The transcript entry a sim::transcript event carries, if it is about this call."""
    if frame.content_type != "text/event-plain":
        return None
    event = plain_event(frame)
    if event.get("Unique-ID") != uuid:
        return None
    entry = {"event": event.get("Sim-Event", "")}
    entry.update(json.loads(event.get("Sim-Data") or "{}"))
    return entry


class Speech:
    """'say <words>' -> an 8 kHz WAV of them (espeak-ng), in a folder removed at the end."""

    def __init__(self, settings: Settings, lang: str) -> None:
        self.settings = settings
        self.lang = lang
        self.folder = Path(tempfile.mkdtemp(prefix="hotline-call-"))
        self.count = 0

    def render(self, words: str) -> Path:
        from ivr.prompts.tts import DEFAULT_RATE, make_synthesizer, render_wav

        lang = self.lang
        if lang == "auto":
            lang = "zh" if re.search(r"[\u3400-\u9fff]", words) else "en"
        voice = self.settings.tts.voice_zh if lang == "zh" else self.settings.tts.voice_en
        self.count += 1
        path = self.folder / f"said-{self.count}.wav"
        render_wav(make_synthesizer("espeak-ng"), words, voice, DEFAULT_RATE, path)
        return path

    def close(self) -> None:
        for path in self.folder.glob("*"):
            path.unlink(missing_ok=True)
        self.folder.rmdir()


def _act(client: BlockingEsl, uuid: str, line: str, speech: Speech) -> bool:
    """Do what one typed line says; False when it hung up."""
    word, _, rest = line.strip().partition(" ")
    if not word:
        return True
    if KEYS.match(word) and not rest:
        reply = client.api(f"sim dtmf {uuid} {word.upper()}")
    elif word in ("say", "说"):
        if not rest.strip():
            print("hotline call: say what? e.g. say 我要查订单", file=sys.stderr)
            return True
        try:
            reply = client.api(f"sim speak {uuid} {speech.render(rest.strip())}")
        except Exception as exc:  # noqa: BLE001 -- a missing espeak-ng must not end the call
            print(f"hotline call: cannot speak that: {exc}", file=sys.stderr)
            return True
    elif word == "speak" and rest.strip():
        reply = client.api(f"sim speak {uuid} {Path(rest.strip()).resolve()}")
    elif word == "hangup":
        client.api(f"sim hangup {uuid} {rest.strip()}".rstrip())
        return False
    else:
        print(f"hotline call: {HELP}", file=sys.stderr)
        return True
    if not reply.startswith("+OK"):
        print(f"hotline call: {reply.strip()}", file=sys.stderr)
    return True


def _interactive(client: BlockingEsl, uuid: str, deadline: float, speech: Speech, stdin: TextIO) -> None:
    """Print the call as it happens and act on typed lines, until the call hangs up."""
    reading = True
    while time.monotonic() < deadline:
        if client.buffered():  # read with an api reply, where select cannot see them
            client.events.extend(client.read_available())
        while client.events:
            if _show(client.events.popleft(), uuid):
                return
        sources = [client.sock] + ([stdin] if reading else [])
        ready, _, _ = select.select(sources, [], [], max(0.0, min(1.0, deadline - time.monotonic())))
        if client.sock in ready:
            client.events.extend(client.read_available())
        if reading and stdin in ready:
            line = stdin.readline()
            if not line:
                reading = False
                print("(end of input: the caller stays on the line; Ctrl-C hangs up)", flush=True)
            elif not _act(client, uuid, line, speech):
                reading = False


def _scripted(client: BlockingEsl, uuid: str, deadline: float) -> None:
    while time.monotonic() < deadline:
        if _show(client.next_event(), uuid):
            return


def _show(frame: Any, uuid: str) -> bool:
    """Print the call's transcript entry in ``frame``, if any; True once the call is over."""
    if frame.content_type == "text/disconnect-notice":
        return True
    entry = _entry(frame, uuid)
    if entry is None:
        return False
    _print(entry)
    return entry["event"] == "hangup"


def main(settings: Settings, args: argparse.Namespace) -> int:
    host = args.host or settings.switch.host
    port = args.port if args.port is not None else settings.switch.port
    password = args.password or settings.switch.password
    try:
        client = BlockingEsl(host, port, password, timeout=args.timeout)
    except EslRefused as exc:
        print(f"hotline call: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:
        print(f"hotline call: cannot reach the simulator at {host}:{port}: {exc}", file=sys.stderr)
        return 1
    client.command("event plain CUSTOM sim::transcript")
    spec = {"from": args.ani, "to": args.dnis, "script": args.script}
    if args.name:
        spec["name"] = args.name
    reply = client.api("sim call " + json.dumps(spec))
    if not reply.startswith("+OK "):
        print(f"hotline call: {reply.strip()}", file=sys.stderr)
        return 1
    uuid = reply[4:].strip()
    print(f"call {uuid}: {args.ani} -> {args.dnis}", flush=True)
    if not args.script:
        print(HELP, flush=True)
    deadline = time.monotonic() + args.timeout
    speech = Speech(settings, args.lang)
    try:
        if args.script:
            _scripted(client, uuid, deadline)
        else:
            _interactive(client, uuid, deadline, speech, sys.stdin)
    except KeyboardInterrupt:
        try:
            client.api(f"sim hangup {uuid}")
        except OSError:
            pass
        return 130
    except (socket.timeout, ConnectionError) as exc:
        print(f"hotline call: {exc}", file=sys.stderr)
        return 1
    finally:
        speech.close()
    try:
        if args.json:
            print(client.api(f"sim transcript {uuid}"))
        client.command("exit")
    except (OSError, ConnectionError) as exc:
        if args.json:
            print(f"hotline call: {exc}", file=sys.stderr)
            return 1
    return 0
