"""The test's own view of the switch: every event of an ``event plain ALL`` connection, kept with its arrival time.

Tests wait on these (a menu starts reading keys, the agent's phone rings, a
fax result arrives) instead of sleeping, and check what the switch did
(which file a playback played, where a DTMF came from).
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from freeswitch.esl.blocking import BlockingEsl, EslRefused, plain_event


@dataclass(frozen=True)
class Seen:
    """One event and when (time.monotonic) it arrived."""

    at: float
    event: Any

    def __getitem__(self, name: str) -> str:
        return self.event[name]

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.event.get(name, default)


class EventLog:
    """A background thread reading events from the switch into a list."""

    def __init__(self, host: str, port: int, password: str) -> None:
        self.esl = BlockingEsl(host, port, password, timeout=2.0)
        reply = self.esl.command("event plain ALL")
        assert reply.reply_text == "+OK event listener enabled plain", reply.reply_text
        self.seen: list[Seen] = []
        self._cond = threading.Condition()
        self._stop = False
        self._thread = threading.Thread(target=self._run, name="switch-events", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        import socket

        while not self._stop:
            try:
                frame = self.esl.next_event()
            except socket.timeout:
                continue
            except (OSError, EslRefused):
                return
            if frame.content_type != "text/event-plain":
                continue
            with self._cond:
                self.seen.append(Seen(time.monotonic(), plain_event(frame)))
                self._cond.notify_all()

    def mark(self) -> int:
        """A position to search from (events before it are ignored)."""
        with self._cond:
            return len(self.seen)

    def find(self, predicate: Callable[[Any], bool], start: int = 0) -> list[Seen]:
        with self._cond:
            return [s for s in self.seen[start:] if predicate(s.event)]

    def wait(self, predicate: Callable[[Any], bool], what: str, timeout: float = 30.0, start: int = 0,
             count: int = 1) -> Seen:
        """The ``count``-th event from ``start`` matching ``predicate``; AssertionError after ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                matches = [s for s in self.seen[start:] if predicate(s.event)]
                if len(matches) >= count:
                    return matches[count - 1]
                left = deadline - time.monotonic()
                if left <= 0:
                    recent = [f"{s.get('Event-Name')} {s.get('Application') or ''} {s.get('Unique-ID') or ''}"
                              for s in self.seen[-15:]]
                    raise AssertionError(f"timed out after {timeout}s waiting for {what}; last events: {recent}")
                self._cond.wait(min(left, 0.5))

    def close(self) -> None:
        self._stop = True
        self.esl.close()
        self._thread.join(5)


def on_channel(uuid: str, name: str, **headers: str) -> Callable[[Any], bool]:
    """An event predicate: ``name`` on channel ``uuid`` with these header values."""
    def match(event: Any) -> bool:
        if event.get("Event-Name") != name or event.get("Unique-ID") != uuid:
            return False
        return all(event.get(k.replace("_", "-")) == v for k, v in headers.items())

    return match
