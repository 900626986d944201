"""Server-sent events from the reactor: the wallboard, the agent desk's screen pop, test-call transcripts.

Streams are served by a native Twisted resource, never by Flask: a streaming
WSGI response would hold one of the few pool threads for as long as a browser
stays on the page. Flask pages authorise a stream by embedding a short-lived
signed token (:func:`make_stream_token`, signed with the app's SECRET_KEY)
that names the user and the topics they may read; the resource checks it, so
the two halves share no session machinery.

A token made by ``admin.auth.stream_token`` is also bound to the user's
session (user id and session version): where the resource is given a
``session_check`` (the engine gives it one), it asks the database, off the
reactor, whether that session is still current before streaming, so a token
stops working when its user logs out or has the password or role changed;
:meth:`EventHub.close_user` closes the streams already open.

Producers call :meth:`EventHub.publish` from any thread; delivery always
happens on the reactor thread. A slow browser cannot grow memory without
bound: each stream keeps at most ``max_backlog`` unsent events and is closed
when it falls further behind (the browser's EventSource reconnects).
"""

from __future__ import annotations

import json
import logging
import threading
from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Callable, Iterable, NamedTuple

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from twisted.internet.interfaces import IReactorTime
from twisted.internet.threads import deferToThreadPool
from twisted.web.resource import Resource
from twisted.web.server import NOT_DONE_YET, Request

log = logging.getLogger(__name__)

TOKEN_SALT = "hotline-sse"
TOKEN_MAX_AGE = 12 * 3600


class StreamGrant(NamedTuple):
    """What a valid token allows: ``user`` may read ``topics``; bound to a session when ``user_id`` is set."""

    user: str
    topics: frozenset[str]
    user_id: int | None = None
    session_version: int | None = None


def make_stream_token(secret_key: str, user: str, topics: Iterable[str],
                      session: tuple[int, int] | None = None) -> str:
    """A signed token allowing ``user`` to read ``topics``; ``session`` = (user id, session version) binds it."""
    data: dict[str, Any] = {"u": user, "t": sorted(set(topics))}
    if session is not None:
        data["i"], data["v"] = int(session[0]), int(session[1])
    return URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT).dumps(data)


def read_stream_grant(secret_key: str, token: str, max_age: int = TOKEN_MAX_AGE) -> StreamGrant | None:
    """The grant of a valid token, None for a forged, expired or malformed one."""
    try:
        data = URLSafeTimedSerializer(secret_key, salt=TOKEN_SALT).loads(token, max_age=max_age)
    except (BadSignature, SignatureExpired):
        return None
    if not isinstance(data, dict) or not isinstance(data.get("u"), str) or not isinstance(data.get("t"), list):
        return None
    user_id, version = data.get("i"), data.get("v")
    if not (isinstance(user_id, int) and isinstance(version, int)):
        user_id = version = None
    return StreamGrant(data["u"], frozenset(str(t) for t in data["t"]), user_id, version)


def read_stream_token(secret_key: str, token: str, max_age: int = TOKEN_MAX_AGE) -> tuple[str, frozenset[str]] | None:
    """(user, topics) of a valid token, None for a forged, expired or malformed one."""
    grant = read_stream_grant(secret_key, token, max_age)
    return None if grant is None else (grant.user, grant.topics)


@dataclass(eq=False)  # identity hashing: each stream is its own subscriber
class _Stream:
    request: Request
    topics: frozenset[str]
    user: str
    backlog: int = 0
    user_id: int | None = None


def format_event(event: str, data: Any, event_id: str | None = None) -> bytes:
    """One SSE frame; ``data`` is sent as JSON, one ``data:`` line (JSON has no raw newlines)."""
    lines = []
    if event_id is not None:
        lines.append(f"id: {event_id}")
    lines.append(f"event: {event}")
    lines.append("data: " + json.dumps(data, ensure_ascii=False, separators=(",", ":"), default=str))
    return ("\n".join(lines) + "\n\n").encode("utf-8")


class EventHub:
    """Topics → open streams; :meth:`publish` is safe from any thread."""

    def __init__(self, reactor: Any, clock: IReactorTime | None = None, keepalive: float = 15.0,
                 max_backlog: int = 200) -> None:
        self.reactor = reactor
        self.clock = clock or reactor
        self.keepalive = keepalive
        self.max_backlog = max_backlog
        self._streams: dict[str, set[_Stream]] = defaultdict(set)
        self._reactor_thread = threading.get_ident()
        self._keepalive_call = None

    def start(self) -> None:
        """Begin the keep-alive comments that stop proxies from closing idle streams."""
        self._reactor_thread = threading.get_ident()
        self._schedule_keepalive()

    def stop(self) -> None:
        if self._keepalive_call is not None and self._keepalive_call.active():
            self._keepalive_call.cancel()
        for streams in list(self._streams.values()):
            for stream in list(streams):
                self._close(stream)

    @property
    def stream_count(self) -> int:
        return len({id(s) for streams in self._streams.values() for s in streams})

    def watching(self, prefix: str) -> bool:
        """Whether any open stream follows a topic that starts with ``prefix`` (reactor thread): publishers whose
        figures cost a database read skip the read while nobody is looking."""
        return any(topic.startswith(prefix) and streams for topic, streams in self._streams.items())

    def publish(self, topic: str, event: str, data: Any) -> None:
        """Send ``event`` to every stream subscribed to ``topic``."""
        if threading.get_ident() != self._reactor_thread:
            self.reactor.callFromThread(self._deliver, topic, event, data)
        else:
            self._deliver(topic, event, data)

    def _deliver(self, topic: str, event: str, data: Any) -> None:
        streams = self._streams.get(topic)
        if not streams:
            return
        frame = format_event(event, {"topic": topic, **data} if isinstance(data, dict) else data)
        for stream in list(streams):
            self._write(stream, frame)

    def _write(self, stream: _Stream, frame: bytes) -> None:
        transport = getattr(getattr(stream.request, "channel", None), "transport", None)
        buffered = len(getattr(transport, "dataBuffer", b"") or b"") if transport is not None else 0
        if buffered > self.max_backlog * 1024:
            log.warning("closing event stream of %s: client too slow", stream.user)
            self._close(stream)
            return
        stream.request.write(frame)

    def close_user(self, user_id: int) -> None:
        """Close every open stream of a user whose sessions ended (safe from any thread)."""
        if threading.get_ident() != self._reactor_thread:
            self.reactor.callFromThread(self.close_user, user_id)
            return
        for streams in list(self._streams.values()):
            for stream in list(streams):
                if stream.user_id == user_id:
                    self._close(stream)

    def attach(self, request: Request, user: str, topics: frozenset[str], user_id: int | None = None) -> None:
        stream = _Stream(request, topics, user, user_id=user_id)
        for topic in topics:
            self._streams[topic].add(stream)
        request.notifyFinish().addBoth(lambda _: self._detach(stream))

    def _detach(self, stream: _Stream) -> None:
        for topic in stream.topics:
            streams = self._streams.get(topic)
            if streams is not None:
                streams.discard(stream)
                if not streams:
                    del self._streams[topic]

    def _close(self, stream: _Stream) -> None:
        self._detach(stream)
        try:
            stream.request.finish()
        except Exception:  # already gone
            pass

    def _schedule_keepalive(self) -> None:
        self._keepalive_call = self.clock.callLater(self.keepalive, self._send_keepalive)

    def _send_keepalive(self) -> None:
        seen: set[int] = set()
        for streams in list(self._streams.values()):
            for stream in list(streams):
                if id(stream) not in seen:
                    seen.add(id(stream))
                    stream.request.write(b": keep-alive\n\n")
        self._schedule_keepalive()


#: (user id, session version) -> whether that session is still current; runs on a pool thread (it reads the DB).
SessionCheck = Callable[[int, int], bool]


def _refuse(request: Request, message: str) -> bytes:
    request.setResponseCode(403)
    request.setHeader(b"content-type", b"text/plain; charset=utf-8")
    return message.encode("utf-8")


class EventStreamResource(Resource):
    """``GET /events?token=...&topic=a&topic=b``: a text/event-stream of the allowed topics.

    With ``session_check`` only session-bound tokens are accepted, and only
    while their session is current (checked on ``threadpool``, never on the
    reactor thread).
    """

    isLeaf = True

    def __init__(self, hub: EventHub, secret_key: str, session_check: SessionCheck | None = None,
                 threadpool: Any = None, max_age: int = TOKEN_MAX_AGE) -> None:
        super().__init__()
        self.hub = hub
        self.secret_key = secret_key
        self.session_check = session_check
        self.threadpool = threadpool
        self.max_age = max_age

    def render_GET(self, request: Request) -> Any:
        token = (request.args.get(b"token") or [b""])[0].decode("utf-8", "replace")
        grant = read_stream_grant(self.secret_key, token, self.max_age)
        if grant is None:
            return _refuse(request, "invalid or expired stream token\n")
        wanted = {t.decode("utf-8", "replace") for t in request.args.get(b"topic", [])} or set(grant.topics)
        refused = wanted - grant.topics
        if refused:
            return _refuse(request, f"not allowed: {', '.join(sorted(refused))}\n")
        if self.session_check is None:
            self._open(request, grant, frozenset(wanted))
            return NOT_DONE_YET
        if grant.user_id is None or grant.session_version is None:
            return _refuse(request, "stream token not bound to a session\n")
        gone: list[bool] = []
        request.notifyFinish().addBoth(lambda _: gone.append(True))
        checked = deferToThreadPool(self.hub.reactor, self.threadpool or self.hub.reactor.getThreadPool(),
                                    self.session_check, grant.user_id, grant.session_version)

        def answer(current: bool) -> None:
            if gone:
                return
            if current:
                self._open(request, grant, frozenset(wanted))
            else:
                request.write(_refuse(request, "stream token of an ended session\n"))
                request.finish()

        def failed(reason: Any) -> None:
            log.error("event stream session check failed: %s", reason.getErrorMessage())
            if not gone:
                request.setResponseCode(503)
                request.finish()

        checked.addCallbacks(answer, failed)
        return NOT_DONE_YET

    def _open(self, request: Request, grant: StreamGrant, topics: frozenset[str]) -> None:
        request.setHeader(b"content-type", b"text/event-stream; charset=utf-8")
        request.setHeader(b"cache-control", b"no-cache")
        request.setHeader(b"x-accel-buffering", b"no")
        request.write(b"retry: 3000\n\n")
        self.hub.attach(request, grant.user, topics, grant.user_id)
