"""Server-sent events: signed tokens gate topics; events reach subscribed streams only, from any thread."""

from __future__ import annotations

import threading

from twisted.internet.task import Clock
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from admin.sse import EventHub, EventStreamResource, format_event, make_stream_token, read_stream_token

SECRET = "test-secret"


class _Reactor:
    """Runs callFromThread work when the test drains it (like the reactor loop would)."""

    def __init__(self) -> None:
        self.pending: list = []

    def callFromThread(self, fn, *args):  # noqa: N802 - Twisted's name
        self.pending.append((fn, args))

    def drain(self) -> None:
        while self.pending:
            fn, args = self.pending.pop(0)
            fn(*args)


def _request(token: str, *topics: str) -> DummyRequest:
    request = DummyRequest([b""])
    request.args = {b"token": [token.encode()], b"topic": [t.encode() for t in topics]}
    return request


def _hub() -> tuple[EventHub, _Reactor, Clock]:
    reactor, clock = _Reactor(), Clock()
    hub = EventHub(reactor, clock, keepalive=15)
    hub.start()
    return hub, reactor, clock


def test_token_round_trip_and_forgery_is_refused():
    token = make_stream_token(SECRET, "alice", ["wallboard", "desk:7"])
    assert read_stream_token(SECRET, token) == ("alice", frozenset({"wallboard", "desk:7"}))
    assert read_stream_token("other-secret", token) is None
    assert read_stream_token(SECRET, token[:-3] + "abc") is None
    assert read_stream_token(SECRET, "garbage") is None


def test_stream_with_bad_token_gets_403_and_no_subscription():
    hub, _, _ = _hub()
    request = _request("forged")
    body = EventStreamResource(hub, SECRET).render_GET(request)
    assert request.responseCode == 403 and b"invalid" in body
    assert hub.stream_count == 0


def test_topic_outside_the_token_is_refused():
    hub, _, _ = _hub()
    token = make_stream_token(SECRET, "agent7", ["desk:7"])
    request = _request(token, "desk:8")
    body = EventStreamResource(hub, SECRET).render_GET(request)
    assert request.responseCode == 403 and b"desk:8" in body


def test_published_event_reaches_only_subscribed_streams_even_from_another_thread():
    hub, reactor, _ = _hub()
    resource = EventStreamResource(hub, SECRET)
    mine = _request(make_stream_token(SECRET, "agent7", ["desk:7"]), "desk:7")
    other = _request(make_stream_token(SECRET, "agent8", ["desk:8"]), "desk:8")
    assert resource.render_GET(mine) is NOT_DONE_YET
    assert resource.render_GET(other) is NOT_DONE_YET
    assert mine.responseHeaders.getRawHeaders(b"content-type") == [b"text/event-stream; charset=utf-8"]

    worker = threading.Thread(target=hub.publish, args=("desk:7", "screen_pop", {"customer": "王丽"}))
    worker.start()
    worker.join()
    assert b"screen_pop" not in b"".join(mine.written)  # not yet: delivery happens on the reactor thread
    reactor.drain()
    assert format_event("screen_pop", {"topic": "desk:7", "customer": "王丽"}) in mine.written
    assert not any(b"screen_pop" in chunk for chunk in other.written)


def test_keepalive_comments_and_finished_streams_are_forgotten():
    hub, _, clock = _hub()
    request = _request(make_stream_token(SECRET, "sup", ["wallboard"]))
    EventStreamResource(hub, SECRET).render_GET(request)
    clock.advance(15)
    assert b": keep-alive\n\n" in request.written
    request.processingFailed(Exception("browser went away"))  # fires notifyFinish
    assert hub.stream_count == 0


def test_watching_tells_whether_any_open_stream_follows_a_topic_prefix():
    hub, _, _ = _hub()
    resource = EventStreamResource(hub, SECRET)
    assert not hub.watching("campaign:")
    console = _request(make_stream_token(SECRET, "mgr", ["campaign:3", "wallboard"]), "campaign:3", "wallboard")
    resource.render_GET(console)
    assert hub.watching("campaign:") and hub.watching("wallboard") and not hub.watching("desk:")
    console.processingFailed(Exception("tab closed"))
    assert not hub.watching("campaign:") and not hub.watching("wallboard")

