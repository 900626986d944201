"""ESL events: decoding the plain, JSON and XML event formats into one shape.

Whatever format a connection asked for (``event plain|json|xml``), the rest of
the engine sees an :class:`Event`: decoded header values, multi-value
(``ARRAY::``) headers left as FreeSWITCH's string unless asked for as a list,
and the optional body.
"""

from __future__ import annotations

import json
from typing import Iterator, Mapping
from xml.etree import ElementTree

from freeswitch.esl.errors import EslProtocolError
from freeswitch.esl.frames import Frame
from freeswitch.esl.urlcode import fs_url_decode

EVENT_CONTENT_TYPES = frozenset({"text/event-plain", "text/event-json", "text/event-xml"})


class Event(Mapping[str, str]):
    """One FreeSWITCH event: decoded headers (in wire order) and an optional body."""

    __slots__ = ("headers", "body")

    def __init__(self, headers: dict[str, str], body: str | None = None) -> None:
        self.headers = headers
        self.body = body

    def __getitem__(self, name: str) -> str:
        return self.headers[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.headers)

    def __len__(self) -> int:
        return len(self.headers)

    def __repr__(self) -> str:
        return f"<Event {self.name} {self.uuid or ''}>"

    @property
    def name(self) -> str:
        return self.headers.get("Event-Name", "")

    @property
    def subclass(self) -> str:
        return self.headers.get("Event-Subclass", "")

    @property
    def uuid(self) -> str:
        """The channel's ``Unique-ID`` (empty for non-channel events)."""
        return self.headers.get("Unique-ID", "")

    def variable(self, name: str, default: str | None = None) -> str | None:
        """A channel variable carried as ``variable_<name>``."""
        return self.headers.get("variable_" + name, default)

    def values(self, name: str) -> list[str]:  # type: ignore[override]
        """A header as a list: ``ARRAY::a|:b`` gives ``["a", "b"]``."""
        value = self.headers.get(name)
        if value is None:
            return []
        if value.startswith("ARRAY::"):
            return value[7:].split("|:")
        return [value]


def parse_plain_headers(text: str) -> dict[str, str]:
    """Decode a block of ``Name: url-encoded-value`` lines (no blank line inside)."""
    headers: dict[str, str] = {}
    for line in text.split("\n"):
        if not line:
            continue
        name, sep, value = line.partition(": ")
        if not sep:
            name, sep, value = line.partition(":")
            if not sep:
                raise EslProtocolError(f"malformed event header {line[:80]!r}")
        if "%" in value:
            value = fs_url_decode(value)
        headers[name] = value
    return headers


def parse_plain_event(data: bytes) -> Event:
    """Parse the body of a ``text/event-plain`` frame."""
    text = data.decode("utf-8", errors="replace")
    head, _, rest = text.partition("\n\n")
    headers = parse_plain_headers(head)
    body = None
    clen = headers.get("Content-Length")
    if clen is not None:
        try:
            size = int(clen)
        except ValueError:
            raise EslProtocolError(f"bad event Content-Length {clen!r}") from None
        raw = rest.encode("utf-8")
        if size < 0 or size > len(raw):
            raise EslProtocolError("event body shorter than its Content-Length")
        body = raw[:size].decode("utf-8", errors="replace")
    return Event(headers, body)


def parse_json_event(data: bytes) -> Event:
    """Parse the body of a ``text/event-json`` frame (values are not URL-encoded)."""
    try:
        obj = json.loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise EslProtocolError(f"bad JSON event: {exc}") from None
    if not isinstance(obj, dict):
        raise EslProtocolError("JSON event is not an object")
    body = obj.pop("_body", None)
    headers: dict[str, str] = {}
    for name, value in obj.items():
        if isinstance(value, list):
            value = "ARRAY::" + "|:".join(str(v) for v in value)
        headers[name] = value if isinstance(value, str) else str(value)
    return Event(headers, body if isinstance(body, str) else None)


def parse_xml_event(data: bytes) -> Event:
    """Parse the body of a ``text/event-xml`` frame (values URL-encoded inside elements)."""
    try:
        root = ElementTree.fromstring(data)
    except ElementTree.ParseError as exc:
        raise EslProtocolError(f"bad XML event: {exc}") from None
    headers: dict[str, str] = {}
    head = root.find("headers")
    for element in head if head is not None else ():
        value = fs_url_decode(element.text or "")
        if element.tag in headers:  # array headers repeat the element
            previous = headers[element.tag]
            if not previous.startswith("ARRAY::"):
                previous = "ARRAY::" + previous
            value = previous + "|:" + value
        headers[element.tag] = value
    body_el = root.find("body")
    return Event(headers, body_el.text if body_el is not None else None)


_PARSERS = {
    "text/event-plain": parse_plain_event,
    "text/event-json": parse_json_event,
    "text/event-xml": parse_xml_event,
}


def parse_event(frame: Frame) -> Event:
    """Decode an event frame of any of the three formats."""
    try:
        parser = _PARSERS[frame.content_type]
    except KeyError:
        raise EslProtocolError(f"not an event frame: {frame.content_type!r}") from None
    return parser(frame.body)
