"""Incremental ESL framing: bytes in, frames out, no I/O.

An ESL frame is a block of ``Name: value`` lines ended by an empty line,
followed by ``Content-Length`` bytes of body when that header is present.
FreeSWITCH sends LF line ends; clients may send CRLF, so both are accepted.
Frames split across TCP reads and many frames in one read are the normal case.

The parser is shared by the client (frames from the switch) and the simulator
(commands from clients, where the first line is the command itself).
Limits keep a hostile or broken peer from growing memory without bound: a
violation raises :class:`~freeswitch.esl.errors.EslProtocolError` and the
protocol closes the connection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from freeswitch.esl.errors import EslProtocolError
from freeswitch.esl.urlcode import fs_url_decode

#: Largest header block accepted (the outbound ``connect`` reply is ~6 KiB).
MAX_HEADER_BYTES = 256 * 1024
#: Largest body accepted; newer FreeSWITCH drops clients above 16 MiB too.
MAX_BODY_BYTES = 16 * 1024 * 1024
#: Envelope blocks up to this size are memoised (events, replies); the ~6 KiB
#: outbound connect reply is not worth keeping.
_CACHEABLE_BLOCK = 512
_CACHE_ENTRIES = 256


@dataclass(slots=True)
class Frame:
    """One ESL frame: envelope headers in wire order (values as sent) and the raw body.

    ``command`` is set only for frames parsed in command mode (client to switch).
    """

    headers: dict[str, str]
    body: bytes = b""
    command: str | None = None
    header_order: list[str] = field(default_factory=list)

    @property
    def content_type(self) -> str:
        return self.headers.get("Content-Type", "")

    def header(self, name: str, default: str = "") -> str:
        """An envelope header, URL-decoded (the outbound connect reply encodes them)."""
        value = self.headers.get(name)
        return default if value is None else fs_url_decode(value)

    @property
    def reply_text(self) -> str:
        """``Reply-Text`` decoded and stripped (``%2BOK%0A`` becomes ``+OK``)."""
        return self.header("Reply-Text").strip()

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")


def _find_header_end(buf: bytearray, start: int) -> tuple[int, int]:
    """Return (end of header block, start of body) or (-1, -1) when incomplete.

    Accepts ``\\n\\n`` and ``\\r\\n\\r\\n`` (and mixed ``\\n\\r\\n``).
    """
    lf = buf.find(b"\n\n", start)
    # Look for a CRLF terminator only before the first LF one: searching the
    # whole buffer each frame made feeding a large chunk quadratic.
    crlf = buf.find(b"\n\r\n", start) if lf == -1 else buf.find(b"\n\r\n", start, lf)
    if crlf == -1:
        return (lf, lf + 2) if lf != -1 else (-1, -1)
    return crlf, crlf + 3


class FrameParser:
    """Turns a byte stream into :class:`Frame` objects.

    ``command_mode=True`` parses what clients send: the first line is the
    command (``api status``, ``sendmsg <uuid>``), the lines after it headers.
    """

    __slots__ = (
        "_buf", "_pending", "_pending_length", "_command_mode", "_max_header", "_max_body", "_cache",
    )

    def __init__(
        self,
        command_mode: bool = False,
        max_header_bytes: int = MAX_HEADER_BYTES,
        max_body_bytes: int = MAX_BODY_BYTES,
    ) -> None:
        self._buf = bytearray()
        self._pending: Frame | None = None  # headers read, waiting for body
        self._pending_length = 0
        self._command_mode = command_mode
        self._max_header = max_header_bytes
        self._max_body = max_body_bytes
        self._cache: dict[bytes, tuple[dict[str, str], list[str], int]] = {}

    @property
    def buffered(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes; return every frame now complete, in order.

        Raises :class:`EslProtocolError` (and forgets the buffer) on a
        malformed frame or a limit violation; the caller must then drop the
        connection, since the stream cannot be resynchronised.
        """
        buf = self._buf
        buf += data
        frames: list[Frame] = []
        append = frames.append
        pos = 0
        length = len(buf)
        pending = self._pending
        if pending is not None:
            need = self._pending_length
            if length < need:
                return frames
            pending.body = bytes(buf[:need])
            pos = need
            self._pending = None
            append(pending)
        max_header = self._max_header
        cache = self._cache
        while pos < length:
            # Skip stray blank lines between frames (clients send them).
            byte = buf[pos]
            if byte == 0x0A or byte == 0x0D:
                pos += 1
                continue
            end, body_start = _find_header_end(buf, pos)
            if end == -1:
                if length - pos > max_header:
                    self._reset()
                    raise EslProtocolError(f"header block larger than {max_header} bytes")
                break
            if end - pos > max_header:
                self._reset()
                raise EslProtocolError(f"header block larger than {max_header} bytes")
            block = bytes(buf[pos:end])
            cached = cache.get(block)
            if cached is not None:
                frame = Frame(cached[0].copy(), b"", None, cached[1].copy())
                size = cached[2]
            else:
                try:
                    frame, size = self._parse_header_block(block)
                except EslProtocolError:
                    self._reset()
                    raise
            pos = body_start
            if size:
                if length - pos < size:
                    self._pending = frame
                    self._pending_length = size
                    break
                frame.body = bytes(buf[pos : pos + size])
                pos += size
            append(frame)
        if pos:
            del buf[:pos]
        return frames

    def _reset(self) -> None:
        del self._buf[:]
        self._pending = None
        self._pending_length = 0

    def _parse_header_block(self, block: bytes) -> tuple[Frame, int]:
        """Parse and check one header block; returns the frame and its body size."""
        text = block.decode("utf-8", errors="replace")
        lines = text.split("\n")
        command = None
        if self._command_mode:
            command = lines.pop(0).rstrip("\r")  # as sent: FreeSWITCH compares "auth  x" and "auth x " exactly
        headers: dict[str, str] = {}
        order: list[str] = []
        for line in lines:
            if line.endswith("\r"):
                line = line[:-1]
            name, sep, value = line.partition(":")
            if not sep or not name or name != name.strip():
                raise EslProtocolError(f"malformed header line {line[:80]!r}")
            if value.startswith(" "):
                value = value[1:]
            if name not in headers:
                order.append(name)
            headers[name] = value
        size = 0
        clen = headers.get("Content-Length")
        if clen is not None:
            checked = _content_length(clen)
            if checked is None or checked > self._max_body:
                raise EslProtocolError(f"Content-Length {clen[:40]!r} out of range or not a number")
            size = checked
        if not self._command_mode and len(block) <= _CACHEABLE_BLOCK:
            # Envelopes repeat (events differ only in Content-Length): reuse the parse.
            cache = self._cache
            if len(cache) >= _CACHE_ENTRIES:
                cache.clear()
            cache[block] = (dict(headers), list(order), size)
        return Frame(headers=headers, command=command, header_order=order), size


def _content_length(value: str) -> int | None:
    """A Content-Length as a non-negative int, or None (``+5``, ``-1``, ``0x10`` are refused)."""
    value = value.strip()
    if not value.isdigit() or not value.isascii() or len(value) > 12:
        return None
    return int(value)


def encode_frame(headers: list[tuple[str, str]], body: bytes | str | None = None) -> bytes:
    """Serialise a frame with headers in the given order.

    When a body is given, ``Content-Length`` must already be among the headers
    at the position the frame type uses (events put it first, api replies
    second); :func:`with_length` helps build that list.
    """
    head = "".join(f"{name}: {value}\n" for name, value in headers) + "\n"
    if body is None:
        return head.encode("utf-8")
    if isinstance(body, str):
        body = body.encode("utf-8")
    return head.encode("utf-8") + body


def encode_command(command: str, headers: list[tuple[str, str]] | None = None,
                   body: bytes | str | None = None) -> bytes:
    """Serialise a client command (``api status``, ``sendmsg`` with headers and optional body)."""
    if "\n" in command or "\r" in command:
        raise ValueError("an ESL command cannot contain a line break")
    lines = [command]
    if body is not None and isinstance(body, str):
        body = body.encode("utf-8")
    for name, value in headers or ():
        if "\n" in name or "\n" in value or "\r" in value:
            raise ValueError(f"header {name!r} cannot contain a line break")
        lines.append(f"{name}: {value}")
    if body is not None:
        lines.append(f"Content-Length: {len(body)}")
    data = ("\n".join(lines) + "\n\n").encode("utf-8")
    return data + body if body is not None else data
