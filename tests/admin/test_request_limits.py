"""Request bodies are bounded where Twisted reads them, so no upload can stall the reactor.

The admin app is served by the real Twisted site (``admin.web.build_site``)
on a loopback port; clients are raw sockets in threads of their own, so the
reactor under test does nothing but serve. A native ``/ping`` resource beside
the app measures how promptly the reactor answers while an attacker uploads.
"""

from __future__ import annotations

import hashlib
import re
import socket
import threading
import time
from typing import Any

import pytest
import pytest_twisted
from twisted.internet import defer, reactor
from twisted.web.resource import Resource

from engine_rig import in_thread

requests = pytest.importorskip("requests")

LIMIT = 1024 * 1024  # the app's default admin.max_request_kb (1024)


class Ping(Resource):
    isLeaf = True

    def render_GET(self, request: Any) -> bytes:
        return b"pong"


def serve(app: Any) -> tuple[Any, int]:
    from admin.web import build_site

    site = build_site(reactor, reactor.getThreadPool(), app)
    site.resource.putChild(b"ping", Ping())
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    return port, port.getHost().port


@pytest.fixture
def served(app):  # type: ignore[no-untyped-def]
    port, number = serve(app)
    yield number
    pytest_twisted.blockon(defer.maybeDeferred(port.stopListening))


def read_all(sock: socket.socket, timeout: float) -> bytes:
    """What the server sends until it closes (or resets, or ``timeout`` passes without a byte)."""
    sock.settimeout(timeout)
    data = b""
    while True:
        try:
            piece = sock.recv(65536)
        except (socket.timeout, ConnectionResetError):
            return data
        if not piece:
            return data
        data += piece


def headers_only(port: int, length: int) -> tuple[bytes, float]:
    """Announce a ``length``-byte body, send none of it: the reply and how long it took."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port)) as sock:
        sock.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                     b"Content-Length: %d\r\n\r\n" % length)
        reply = read_all(sock, timeout=5)
    return reply, time.monotonic() - started


@pytest_twisted.ensureDeferred
async def test_an_oversize_content_length_is_refused_from_the_headers_before_any_body(served) -> None:
    reply, took = await in_thread(headers_only, served, 200 * 1024 * 1024)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert b"over the limit" in reply
    assert took < 4.5, "answered and closed without waiting for a body"


def chunked_upload(port: int, total: int) -> tuple[bytes, int]:
    """Send a chunked body without a length until the server answers; (reply, bytes sent)."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n"
                 b"Transfer-Encoding: chunked\r\n\r\n")
    reply: list[bytes] = []
    reader = threading.Thread(target=lambda: reply.append(read_all(sock, timeout=8)), daemon=True)
    reader.start()
    block = b"%x\r\n%s\r\n" % (65536, b"a" * 65536)
    sent = 0
    try:
        while sent < total and reader.is_alive():
            sock.sendall(block)
            sent += 65536
    except OSError:
        pass
    reader.join(10)
    sock.close()
    return (reply[0] if reply else b""), sent


@pytest_twisted.ensureDeferred
async def test_a_chunked_body_without_a_length_is_refused_once_it_passes_the_limit(served) -> None:
    reply, sent = await in_thread(chunked_upload, served, 64 * 1024 * 1024)
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert sent < 32 * 1024 * 1024, f"the server read {sent} bytes before refusing"


def flood(port: int, length: int) -> bytes:
    """Announce and really send a ``length``-byte form body of tiny fields (``a=1&`` over and over: costly to
    parse) as fast as loopback allows; the server's reply."""
    sock = socket.create_connection(("127.0.0.1", port))
    sock.sendall(b"POST /login HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
                 b"Content-Length: %d\r\n\r\n" % length)
    reply: list[bytes] = []
    reader = threading.Thread(target=lambda: reply.append(read_all(sock, timeout=30)), daemon=True)
    reader.start()
    block = b"a=1&" * (256 * 1024)
    try:
        for _ in range(length // len(block)):
            sock.sendall(block)
    except OSError:
        pass
    reader.join(35)
    sock.close()
    return reply[0] if reply else b""


def ping_while(port: int, running: threading.Event) -> list[float]:
    """GET /ping over and over while ``running`` is set (and 0.5 s more); each answer's latency."""
    latencies = []
    until = None
    while until is None or time.monotonic() < until:
        if not running.is_set() and until is None:
            until = time.monotonic() + 0.5
        started = time.monotonic()
        with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
            sock.sendall(b"GET /ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
            assert read_all(sock, timeout=10).endswith(b"pong")
        latencies.append(time.monotonic() - started)
        time.sleep(0.01)
    return latencies


@pytest.mark.timeout(120)
@pytest_twisted.ensureDeferred
async def test_the_reactor_keeps_answering_while_a_32_mb_form_upload_is_refused(served) -> None:
    running = threading.Event()
    running.set()
    pings = in_thread(ping_while, served, running)
    await in_thread(time.sleep, 0.2)
    reply = await in_thread(flood, served, 32 * 1024 * 1024)
    running.clear()
    latencies = await pings
    assert reply.startswith(b"HTTP/1.1 413"), reply[:200]
    assert len(latencies) >= 10
    assert max(latencies) < 0.5, f"the reactor stalled {max(latencies):.2f} s (p50 {sorted(latencies)[len(latencies) // 2]:.3f} s)"


def login_session(base: str) -> Any:
    http = requests.Session()
    page = http.get(f"{base}/login", timeout=10).text
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    response = http.post(f"{base}/login", data={"username": "admin", "password": "admin-demo", "csrf_token": token},
                         timeout=10, allow_redirects=False)
    assert response.status_code == 302, response.text[:300]
    return http, token


@pytest.fixture
def upload_app(admin_db_url, app):  # type: ignore[no-untyped-def]
    """An admin app with one extra route that reports what it received (``app`` made the demo users)."""
    from flask import request

    from admin.app import create_app

    fresh = create_app({"SQLALCHEMY_DATABASE_URI": admin_db_url, "SECRET_KEY": "upload-secret",
                        "HOTLINE_MAX_UPLOAD_BYTES": 8 * 1024 * 1024})

    @fresh.route("/received", methods=["POST"])
    def received() -> Any:
        data = request.files["file"].read()
        return {"size": len(data), "sha256": hashlib.sha256(data).hexdigest()}

    port, number = serve(fresh)
    yield f"http://127.0.0.1:{number}"
    pytest_twisted.blockon(defer.maybeDeferred(port.stopListening))


@pytest_twisted.ensureDeferred
async def test_a_signed_in_upload_streams_through_whole_and_an_anonymous_one_is_refused(upload_app) -> None:
    payload = bytes(range(256)) * (5 * 1024 * 1024 // 256)

    def upload(signed_in: bool) -> Any:
        if signed_in:
            http, token = login_session(upload_app)
        else:
            http, token = requests.Session(), ""
        return http.post(f"{upload_app}/received", data={"csrf_token": token},
                         files={"file": ("calls.csv", payload, "text/csv")}, timeout=30)

    answer = await in_thread(upload, True)
    assert answer.status_code == 200, answer.text[:300]
    assert answer.json() == {"size": len(payload), "sha256": hashlib.sha256(payload).hexdigest()}
    refused = await in_thread(upload, False)
    assert refused.status_code == 413


def test_flask_itself_refuses_an_oversize_body(client) -> None:
    """For the admin app under another WSGI server: Flask's MAX_CONTENT_LENGTH / MAX_FORM_MEMORY_SIZE."""
    response = client.post("/login", data={"username": "x" * (LIMIT + 10), "password": "y"})
    assert response.status_code == 413


class RecordingFile:
    """A file that notes which thread wrote each piece, and can be slow."""

    def __init__(self, delay: float = 0.0) -> None:
        self.data = bytearray()
        self.threads: set[int] = set()
        self.delay = delay

    def write(self, data: bytes) -> int:
        self.threads.add(threading.get_ident())
        time.sleep(self.delay)
        self.data += data
        return len(data)


class Producer:
    def __init__(self) -> None:
        self.events: list[str] = []

    def pauseProducing(self) -> None:
        self.events.append("pause")

    def resumeProducing(self) -> None:
        self.events.append("resume")


@pytest_twisted.ensureDeferred
async def test_a_spooled_body_is_written_in_order_by_worker_threads_with_back_pressure() -> None:
    from twisted.python.threadpool import ThreadPool

    from admin.body_spool import BodySpool

    pool = ThreadPool(minthreads=0, maxthreads=2, name="test-spool")
    pool.start()
    try:
        file, producer = RecordingFile(delay=0.02), Producer()
        spool = BodySpool(reactor, pool, producer, file=file, high_water=256 * 1024, low_water=64 * 1024)
        pieces = [bytes([i]) * 65536 for i in range(40)]
        for piece in pieces:
            spool.write(piece)  # on the reactor thread, as LimitedRequest does
        assert producer.events[:1] == ["pause"], "too much waiting: the connection is paused"
        assert await spool.finished() is file
        assert bytes(file.data) == b"".join(pieces)
        assert threading.get_ident() not in file.threads, "no write on the reactor thread"
        assert producer.events[-1] == "resume"
    finally:
        pool.stop()
