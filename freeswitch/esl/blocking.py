"""A blocking inbound ESL client for short-lived command-line tools and test harnesses.

The engine speaks ESL through the Twisted protocol in this package; a tool
that runs a few commands and exits (``hotline call``, ``hotline freeswitch
directory --reload``) is simpler on a plain socket. It authenticates, sends
commands in order and keeps the events that arrive while it waits for a
reply, so none is lost.
"""

from __future__ import annotations

import socket
from collections import deque

from freeswitch.esl.events import Event, parse_plain_event
from freeswitch.esl.frames import Frame, FrameParser, encode_command

REPLY_TYPES = ("command/reply", "api/response")


class EslRefused(ConnectionError):
    """The event socket refused the password, or closed the connection."""


class BlockingEsl:
    """``BlockingEsl(host, port, password)``: connected and authenticated, or :class:`EslRefused`/``OSError``."""

    def __init__(self, host: str, port: int, password: str | None = None, timeout: float = 10.0,
                 sock: socket.socket | None = None) -> None:
        self.sock = sock if sock is not None else socket.create_connection((host, port), timeout=timeout)
        self.sock.settimeout(timeout)
        self.parser = FrameParser()
        self._frames: deque[Frame] = deque()
        self.events: deque[Frame] = deque()  # event frames read while waiting for replies
        if sock is not None:  # an outbound-socket connection the switch opened: it waits for "connect"
            self.greeting = Frame({})
            return
        self.greeting = self.frame()
        if password is not None:
            if self.greeting.content_type != "auth/request":
                raise EslRefused(f"expected auth/request, got {self.greeting.content_type or 'nothing'}")
            reply = self.command(f"auth {password}")
            if reply.reply_text != "+OK accepted":
                raise EslRefused(f"the event socket refused the password ({reply.reply_text})")

    def frame(self) -> Frame:
        """The next frame, whatever its type (blocks up to the socket timeout)."""
        while not self._frames:
            data = self.sock.recv(65536)
            if not data:
                raise EslRefused("the event socket closed the connection")
            self._frames.extend(self.parser.feed(data))
        return self._frames.popleft()

    def read_available(self) -> list[Frame]:
        """Frames already read, or those of one ``recv`` (for callers that ``select`` on :attr:`sock`).

        A single ``recv`` often carries several frames; the ones beyond the
        first are kept here, where ``select`` cannot see them, so a select
        loop must take them all each time.
        """
        if not self._frames:
            data = self.sock.recv(65536)
            if not data:
                raise EslRefused("the event socket closed the connection")
            self._frames.extend(self.parser.feed(data))
        frames = list(self._frames)
        self._frames.clear()
        return frames

    def buffered(self) -> int:
        """Frames read from the socket but not handed out yet (``select`` does not see them)."""
        return len(self._frames)

    def send(self, text: str, headers: list[tuple[str, str]] | None = None, body: str | None = None) -> None:
        """Write one command frame without waiting for anything."""
        self.sock.sendall(encode_command(text, headers, body))

    def command(self, text: str, headers: list[tuple[str, str]] | None = None, body: str | None = None) -> Frame:
        """Send a command and return its reply frame; events that come first are kept in :attr:`events`."""
        self.send(text, headers, body)
        return self.reply()

    def reply(self) -> Frame:
        """The next reply frame (events read on the way are kept)."""
        while True:
            frame = self.frame()
            if frame.content_type in REPLY_TYPES:
                return frame
            self.events.append(frame)

    def api(self, text: str) -> str:
        """``api <text>`` and its body."""
        return self.command(f"api {text}").text

    def next_event(self) -> Frame:
        """The next event frame (kept ones first)."""
        if self.events:
            return self.events.popleft()
        while True:
            frame = self.frame()
            if frame.content_type not in REPLY_TYPES:
                return frame

    @classmethod
    def accept(cls, listener: socket.socket, timeout: float = 10.0) -> "BlockingEsl":
        """The next outbound-socket connection (``socket host:port async full``) on ``listener``."""
        listener.settimeout(timeout)
        sock, _addr = listener.accept()
        return cls("", 0, sock=sock, timeout=timeout)

    def close(self) -> None:
        try:
            self.sock.close()
        except OSError:
            pass

    def __enter__(self) -> "BlockingEsl":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def plain_event(frame: Frame) -> Event:
    """The headers (URL-decoded) and body of a ``text/event-plain`` frame."""
    return parse_plain_event(frame.body)
