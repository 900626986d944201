"""ESL events: decoding the plain, JSON and XML event formats into one shape.

Whatever format a connection asked for (``event plain|json|xml``), the rest of
the engine sees an :class:`Event`: decoded header values, multi-value
(``ARRAY::``) headers left as FreeSWITCH's string unless asked for as a list,
and the optional body.

Plain events are decoded lazily. A CHANNEL_* event carries ~115 header lines
(~4 KiB) but dispatch reads its name and a handler reads a handful of headers,
so the header block is kept as bytes; a single header is found with one
``bytes.find`` and the whole block is only split and URL-decoded when a caller
iterates it (or after a few single lookups). This is what lets one core keep
up with a busy switch (see ``bench/esl_parse.py``).
"""

from __future__ import annotations

import json
from typing import Iterator, TypeVar
from collections.abc import Mapping
from xml.etree import ElementTree

from freeswitch.esl.errors import EslProtocolError
from freeswitch.esl.frames import Frame
from freeswitch.esl.urlcode import fs_url_decode

EVENT_CONTENT_TYPES = frozenset({"text/event-plain", "text/event-json", "text/event-xml"})

#: Single-header lookups answered from the raw block before decoding it all.
_PEEK_LIMIT = 8
_PEEK_KEYS: dict[str, tuple[bytes, bytes, int]] = {}

_E = TypeVar("_E", bound="Event")


class Event(Mapping[str, str]):
    """One FreeSWITCH event: decoded headers (in wire order) and an optional body."""

    __slots__ = ("_headers", "_raw", "_end", "_peeks", "body")

    def __init__(self, headers: dict[str, str] | None = None, body: str | None = None) -> None:
        self._headers = headers if headers is not None else {}
        self._raw: bytes | None = None
        self._end = 0
        self._peeks = 0
        self.body = body

    @classmethod
    def from_plain_block(cls, data: bytes, end: int | None = None, body: str | None = None) -> "Event":
        """An event whose ``Name: url-encoded-value`` block ``data[:end]`` is decoded on first use."""
        event = cls.__new__(cls)
        event._headers = None  # type: ignore[assignment]
        event._raw = data
        event._end = len(data) if end is None else end
        event._peeks = 0
        event.body = body
        return event

    def retyped(self, cls: type[_E]) -> _E:
        """This event as an instance of the subclass ``cls``, sharing its (maybe still undecoded) headers.

        Wrapping an event in a richer type must not force the full decode
        that lazy plain events exist to avoid.
        """
        event = cls.__new__(cls)
        event._headers = self._headers
        event._raw = self._raw
        event._end = self._end
        event._peeks = self._peeks
        event.body = self.body
        return event

    def raw_variable_lines(self) -> list[bytes] | None:
        """The undecoded lines from the first ``variable_*`` header to the last, or None once decoded.

        What a call needs to keep its channel variables current without
        decoding ~115 headers per event: the lines come back as sent (name and
        URL-encoded value), so unchanged ones can be recognised by their bytes.
        Lines between the first and the last variable that are not variables
        themselves are included; events without variables give ``[]``.
        """
        raw = self._raw
        if self._headers is not None or raw is None:
            return None
        limit = self._end
        if raw.startswith(b"variable_"):
            first = 0
        else:
            first = raw.find(b"\nvariable_", 0, limit)
            if first == -1:
                return []
            first += 1
        last = raw.rfind(b"\nvariable_", first, limit)
        end = raw.find(b"\n", first if last == -1 else last + 1, limit)
        return raw[first : limit if end == -1 else end].split(b"\n")

    # -- Mapping -------------------------------------------------------------

    @property
    def headers(self) -> dict[str, str]:
        """All headers, decoded, in wire order (the last of duplicated names wins)."""
        headers = self._headers
        if headers is None:
            headers = self._headers = _decode_block(self._raw[: self._end])  # type: ignore[index]
            self._raw = None
        return headers

    @headers.setter
    def headers(self, value: dict[str, str]) -> None:
        self._headers = value
        self._raw = None

    def __getitem__(self, name: str) -> str:
        if self._headers is None and self._peeks < _PEEK_LIMIT:
            self._peeks += 1
            return self._peek(name)
        return self.headers[name]

    def get(self, name: str, default: str | None = None) -> str | None:  # type: ignore[override]
        try:
            return self[name]
        except KeyError:
            return default

    def __contains__(self, name: object) -> bool:
        try:
            self[name]  # type: ignore[index]
        except KeyError:
            return False
        return True

    def __iter__(self) -> Iterator[str]:
        return iter(self.headers)

    def __len__(self) -> int:
        return len(self.headers)

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Event):
            return self.headers == other.headers and self.body == other.body
        return NotImplemented

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"<Event {self.name} {self.uuid or ''}>"

    def _peek(self, name: str) -> str:
        raw: bytes = self._raw  # type: ignore[assignment]
        limit = self._end
        keys = _PEEK_KEYS.get(name)
        if keys is None:
            key = (name + ":").encode("utf-8", "surrogatepass")
            keys = (key, b"\n" + key, len(key))
            if len(_PEEK_KEYS) < 4096:
                _PEEK_KEYS[name] = keys
        if raw.startswith(keys[0]):
            start = keys[2]
        else:
            start = raw.find(keys[1], 0, limit)
            if start == -1:
                raise KeyError(name)
            start += keys[2] + 1
        end = raw.find(b"\n", start, limit)
        value = raw[start : end if end != -1 else limit].decode("utf-8", "replace")
        if value.startswith(" "):
            value = value[1:]
        if "%" not in value:
            return value
        plain = _DECODED.get(value)
        return plain if plain is not None else _decode_value(value)

    # -- convenience ---------------------------------------------------------

    @property
    def name(self) -> str:
        return self.get("Event-Name", "")

    @property
    def subclass(self) -> str:
        return self.get("Event-Subclass", "")

    @property
    def uuid(self) -> str:
        """The channel's ``Unique-ID`` (empty for non-channel events)."""
        return self.get("Unique-ID", "")

    def variable(self, name: str, default: str | None = None) -> str | None:
        """A channel variable carried as ``variable_<name>``."""
        return self.get("variable_" + name, default)

    def values(self, name: str) -> list[str]:  # type: ignore[override]
        """A header as a list: ``ARRAY::a|:b`` gives ``["a", "b"]``."""
        value = self.get(name)
        if value is None:
            return []
        if value.startswith("ARRAY::"):
            return value[7:].split("|:")
        return [value]


def _decode_block(head: bytes) -> dict[str, str]:
    return parse_plain_headers(head.decode("utf-8", errors="replace"))


def parse_plain_headers(text: str) -> dict[str, str]:
    """Decode a block of ``Name: url-encoded-value`` lines (no blank line inside).

    Lines without a colon are skipped: by the time a block is decoded lazily
    the frame has long been accepted, and one odd line must not hide the rest.
    One pass: split the lines, partition each once, and URL-decode only
    values holding a ``%`` -- through a small memo, since the same encoded
    values (dates aside: channel names, dial strings, SDP, caller names)
    repeat on every event of a call.
    """
    headers: dict[str, str] = {}
    decoded = _DECODED
    for name, sep, value in [line.partition(": ") for line in text.split("\n")]:
        if not sep:
            name, sep, value = name.partition(":")
            if not sep:
                continue
        if "%" in value:
            plain = decoded.get(value)
            value = plain if plain is not None else _decode_value(value)
        headers[name] = value
    return headers


#: Memo of URL-decoded header values (bounded; long values are not kept).
_DECODED: dict[str, str] = {}
_DECODED_ENTRIES = 4096
_DECODED_MAX_LEN = 512


def _decode_value(value: str) -> str:
    plain = fs_url_decode(value)
    if len(value) <= _DECODED_MAX_LEN:
        if len(_DECODED) >= _DECODED_ENTRIES:
            _DECODED.clear()
        _DECODED[value] = plain
    return plain


def parse_plain_event(data: bytes) -> Event:
    """Parse the body of a ``text/event-plain`` frame.

    Events with their own ``Content-Length`` (``BACKGROUND_JOB``, ``sendevent``
    with a body) are decoded at once to cut the body out; others lazily.
    """
    if not data.startswith(b"Content-Length:") and data.find(b"\nContent-Length:") == -1:
        # No body: the block runs to the trailing blank line (one scan, no copy).
        end = len(data)
        while end and data[end - 1] == 0x0A:
            end -= 1
        return Event.from_plain_block(data, end)
    split = data.find(b"\n\n")
    head = data if split == -1 else data[:split]
    headers = _decode_block(head)
    rest = b"" if split == -1 else data[split + 2 :]
    clen = headers.get("Content-Length", "").strip()
    if not clen.isdigit() or not clen.isascii():
        raise EslProtocolError(f"bad event Content-Length {clen[:40]!r}")
    size = int(clen)
    if size > len(rest):
        raise EslProtocolError("event body shorter than its Content-Length")
    return Event(headers, rest[:size].decode("utf-8", errors="replace"))


def parse_json_event(data: bytes) -> Event:
    """Parse the body of a ``text/event-json`` frame (values are not URL-encoded).

    Duplicate keys (``Content-Length`` twice with a body) keep the last value.
    """
    try:
        obj = json.loads(data)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise EslProtocolError(f"bad JSON event: {str(exc)[:200]}") from None
    if not isinstance(obj, dict):
        raise EslProtocolError("JSON event is not an object")
    body = obj.pop("_body", None)
    headers: dict[str, str] = {}
    for name, value in obj.items():
        if isinstance(value, list):
            value = "ARRAY::" + "|:".join(v if isinstance(v, str) else json.dumps(v) for v in value)
        elif not isinstance(value, str):
            value = json.dumps(value)
        headers[name] = value
    return Event(headers, body if isinstance(body, str) else None)


def parse_xml_event(data: bytes) -> Event:
    """Parse the body of a ``text/event-xml`` frame (values URL-encoded inside elements).

    Array headers arrive as repeated elements and are joined back into
    FreeSWITCH's ``ARRAY::a|:b`` form, so all three formats give the same Event.
    """
    try:
        root = ElementTree.fromstring(data)
    except (ElementTree.ParseError, ValueError, LookupError, RecursionError) as exc:
        raise EslProtocolError(f"bad XML event: {str(exc)[:200]}") from None
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
