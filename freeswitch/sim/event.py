"""A simulated FreeSWITCH event and its three wire encodings (plain, json, xml).

FreeSWITCH serialises one ``switch_event_t`` per subscriber in the format that
connection asked for; the rules below are taken from the 1.11.1 captures in
``tests/data/fs-traces.tar.xz`` (its notes on event encoding): plain values are URL-encoded
with FreeSWITCH's own set and the envelope puts ``Content-Length`` first; JSON
values are raw strings with the body as ``_body``; XML values are URL-encoded
inside elements.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from freeswitch.esl.frames import encode_frame
from freeswitch.esl.urlcode import fs_url_encode


@dataclass
class SimEvent:
    """Headers in wire order (duplicates allowed, as FreeSWITCH has them) and an optional body."""

    headers: list[tuple[str, str]] = field(default_factory=list)
    body: str | None = None

    def add(self, name: str, value: object) -> "SimEvent":
        """Append one header (FreeSWITCH keeps insertion order)."""
        self.headers.append((name, str(value)))
        return self

    def get(self, name: str, default: str | None = None) -> str | None:
        for key, value in self.headers:
            if key == name:
                return value
        return default

    @property
    def name(self) -> str:
        return self.get("Event-Name", "") or ""

    @property
    def subclass(self) -> str:
        return self.get("Event-Subclass", "") or ""

    @property
    def uuid(self) -> str:
        return self.get("Unique-ID", "") or ""

    # -- encodings ---------------------------------------------------------
    def plain_body(self) -> str:
        """The text/event-plain body: encoded headers, a nested Content-Length, the body."""
        lines = [f"{name}: {fs_url_encode(value)}\n" for name, value in self.headers]
        if self.body is not None:
            lines.append(f"Content-Length: {len(self.body.encode('utf-8'))}\n")
            return "".join(lines) + "\n" + self.body
        return "".join(lines) + "\n"

    def json_body(self) -> str:
        """The text/event-json body: raw values, ARRAY:: headers as lists, ``_body``."""
        items: list[str] = []
        for name, value in self.headers:
            if value.startswith("ARRAY::"):
                encoded = json.dumps(value[7:].split("|:"), ensure_ascii=False, separators=(",", ":"))
            else:
                encoded = json.dumps(value, ensure_ascii=False)
            items.append(f"{json.dumps(name)}:{encoded}")
        if self.body is not None:
            items.append(f'"Content-Length":"{len(self.body.encode("utf-8"))}"')
            items.append(f'"_body":{json.dumps(self.body, ensure_ascii=False)}')
        return "{" + ",".join(items) + "}"

    def xml_body(self) -> str:
        """The text/event-xml body: URL-encoded values inside elements."""
        out = ["<event>\n  <headers>\n"]
        for name, value in self.headers:
            values = value[7:].split("|:") if value.startswith("ARRAY::") else [value]
            for item in values:
                out.append(f"    <{name}>{escape(fs_url_encode(item))}</{name}>\n")
        out.append("  </headers>\n")
        if self.body is not None:
            out.append(f"  <Content-Length>{len(self.body.encode('utf-8'))}</Content-Length>\n")
            out.append(f"  <body>{escape(self.body)}  </body>\n")
        out.append("</event>\n")
        return "".join(out)

    def frame(self, fmt: str) -> bytes:
        """The complete frame for a subscriber using ``fmt`` (plain/json/xml)."""
        if fmt == "json":
            body, ctype = self.json_body(), "text/event-json"
        elif fmt == "xml":
            body, ctype = self.xml_body(), "text/event-xml"
        else:
            body, ctype = self.plain_body(), "text/event-plain"
        data = body.encode("utf-8")
        return encode_frame([("Content-Length", str(len(data))), ("Content-Type", ctype)], data)


DISCONNECT_TEXT = "Disconnected, goodbye.\nSee you at ClueCon! http://www.cluecon.com/\n"


def reply_frame(text: str, extra: list[tuple[str, str]] | None = None) -> bytes:
    """A command/reply frame: Content-Type then Reply-Text (then e.g. Job-UUID)."""
    return encode_frame([("Content-Type", "command/reply"), ("Reply-Text", text), *(extra or [])])


def api_frame(body: str) -> bytes:
    """An api/response frame: Content-Type then Content-Length, body verbatim."""
    data = body.encode("utf-8")
    return encode_frame([("Content-Type", "api/response"), ("Content-Length", str(len(data)))], data)


def disconnect_frame(session_uuid: str | None = None) -> bytes:
    """The goodbye notice; session-bound sockets carry the uuid and a disposition."""
    data = DISCONNECT_TEXT.encode()
    headers = [("Content-Type", "text/disconnect-notice")]
    if session_uuid:
        headers += [("Controlled-Session-UUID", session_uuid), ("Content-Disposition", "disconnect")]
    headers.append(("Content-Length", str(len(data))))
    return encode_frame(headers, data)


def linger_frame(session_uuid: str, channel_name: str, linger_time: int) -> bytes:
    """The linger notice (Channel-Name is NOT URL-encoded here, as traced)."""
    return encode_frame([
        ("Content-Type", "text/disconnect-notice"),
        ("Controlled-Session-UUID", session_uuid),
        ("Content-Disposition", "linger"),
        ("Channel-Name", channel_name),
        ("Linger-Time", str(linger_time)),
        ("Content-Length", "0"),
    ])


def log_frame(level: int, text: str, file: str, func: str, line: int, channel: int = 0) -> bytes:
    """A log/data frame with the traced header order (note the empty User-Data)."""
    data = text.encode("utf-8")
    return encode_frame([
        ("Content-Type", "log/data"), ("Content-Length", str(len(data))), ("Log-Level", str(level)),
        ("Text-Channel", str(channel)), ("Log-File", file), ("Log-Func", func), ("Log-Line", str(line)),
        ("User-Data", ""),
    ], data)
