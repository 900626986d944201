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
    crlf = buf.find(b"\n\r\n", start)
    if lf == -1 and crlf == -1:
        return -1, -1
    if crlf == -1 or (lf != -1 and lf < crlf):
        return lf, lf + 2
    return crlf, crlf + 3


class FrameParser:
    """Turns a byte stream into :class:`Frame` objects.

    ``command_mode=True`` parses what clients send: the first line is the
    command (``api status``, ``sendmsg <uuid>``), the lines after it headers.
    """

    __slots__ = ("_buf", "_pending", "_pending_length", "_command_mode", "_max_header", "_max_body")

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

    @property
    def buffered(self) -> int:
        """Bytes held waiting for the rest of a frame."""
        return len(self._buf)

    def feed(self, data: bytes) -> list[Frame]:
        """Add bytes; return every frame now complete, in order."""
        buf = self._buf
        buf += data
        frames: list[Frame] = []
        pos = 0
        length = len(buf)
        while True:
            pending = self._pending
            if pending is not None:
                need = self._pending_length
                if length - pos < need:
                    break
                pending.body = bytes(buf[pos : pos + need])
                pos += need
                self._pending = None
                frames.append(pending)
                continue
            # Skip stray blank lines between frames (clients send them).
            while pos < length and buf[pos] in (0x0A, 0x0D):
                pos += 1
            if pos >= length:
                break
            end, body_start = _find_header_end(buf, pos)
            if end == -1:
                if length - pos > self._max_header:
                    del buf[:]
                    raise EslProtocolError(
                        f"header block larger than {self._max_header} bytes"
                    )
                break
            if end - pos > self._max_header:
                del buf[:]
                raise EslProtocolError(f"header block larger than {self._max_header} bytes")
            frame = self._parse_header_block(bytes(buf[pos:end]))
            pos = body_start
            clen = frame.headers.get("Content-Length")
            if clen is None:
                frames.append(frame)
                continue
            try:
                size = int(clen)
            except ValueError:
                del buf[:]
                raise EslProtocolError(f"bad Content-Length {clen!r}") from None
            if size < 0 or size > self._max_body:
                del buf[:]
                raise EslProtocolError(f"Content-Length {size} out of range")
            if size == 0:
                frames.append(frame)
                continue
            self._pending = frame
            self._pending_length = size
        if pos:
            del buf[:pos]
        return frames

    def _parse_header_block(self, block: bytes) -> Frame:
        try:
            text = block.decode("utf-8")
        except UnicodeDecodeError:
            text = block.decode("utf-8", errors="replace")
        lines = text.split("\n")
        command = None
        if self._command_mode:
            command = lines.pop(0).rstrip("\r").strip()
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
        return Frame(headers=headers, command=command, header_order=order)


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
