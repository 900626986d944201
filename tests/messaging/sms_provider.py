"""A cloud SMS provider on loopback for the HTTP adapter tests: signed API, idempotency, receipts, callbacks.

It checks every request's HMAC itself (written out here, not with the code
under test), keeps accepted messages by ``Idempotency-Key`` so a repeated send
returns the first message id, can be told to answer with an error, to hang
(never answer), or to call a hook when a send arrives, and posts signed
delivery receipts and inbound messages to the engine's callback URL.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
from dataclasses import dataclass, field
from typing import Any, Callable

from twisted.internet import defer, reactor
from twisted.web import server
from twisted.web.client import Agent, readBody
from twisted.web.http_headers import Headers
from twisted.web.resource import Resource

API_KEY, SECRET = "hotline-test", "s3cret-signing-key"


def hmac_hex(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    text = "\n".join([method, path, timestamp, nonce, hashlib.sha256(body).hexdigest()]).encode()
    return hmac.new(secret.encode(), text, hashlib.sha256).hexdigest()


@dataclass
class Provider:
    """State of the fake provider; ``site`` serves it."""

    messages: dict[str, dict[str, Any]] = field(default_factory=dict)  # idempotency key -> message
    by_id: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: list[dict[str, Any]] = field(default_factory=list)
    fail_with: tuple[int, dict[str, Any], dict[str, str]] | None = None
    hang: bool = False
    on_send: Callable[[dict[str, Any]], Any] | None = None
    bad_signatures: int = 0
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def api(self) -> Resource:
        return _Api(self)


class _Api(Resource):
    isLeaf = True

    def __init__(self, provider: Provider) -> None:
        super().__init__()
        self.p = provider

    def _signed(self, request: Any, body: bytes) -> bool:
        h = request.requestHeaders
        get = lambda name: (h.getRawHeaders(name.encode()) or [b""])[0].decode()  # noqa: E731
        expected = hmac_hex(SECRET, request.method.decode(), request.uri.decode(), get("x-timestamp"),
                            get("x-nonce"), body)
        ok = get("x-api-key") == API_KEY and hmac.compare_digest(get("x-signature"), expected)
        if not ok:
            self.p.bad_signatures += 1
        return ok

    def _json(self, request: Any, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None) -> bytes:
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"application/json")
        for k, v in (headers or {}).items():
            request.setHeader(k.encode(), v.encode())
        return json.dumps(payload).encode()

    def render_POST(self, request: Any) -> Any:
        body = request.content.read()
        if not self._signed(request, body):
            return self._json(request, 401, {"error": "bad signature"})
        data = json.loads(body)
        key = (request.requestHeaders.getRawHeaders(b"idempotency-key") or [b""])[0].decode()
        self.p.requests.append({"key": key, **data})
        if self.p.on_send is not None:
            self.p.on_send(data)
        if self.p.hang:
            return server.NOT_DONE_YET  # the connection stays open, unanswered
        if self.p.fail_with is not None:
            code, payload, headers = self.p.fail_with
            return self._json(request, code, payload, headers)
        if key in self.p.messages:
            return self._json(request, 200, {"message_id": self.p.messages[key]["id"], "status": "accepted",
                                             "duplicate": True})
        if not data.get("to", "").startswith("+"):
            return self._json(request, 400, {"error": "invalid destination"})
        message = {"id": f"prov-{next(self.p._ids)}", "status": "accepted", **data}
        self.p.messages[key] = message
        self.p.by_id[message["id"]] = message
        return self._json(request, 201, {"message_id": message["id"], "status": "accepted"})

    def render_GET(self, request: Any) -> bytes:
        if not self._signed(request, b""):
            return self._json(request, 401, {"error": "bad signature"})
        message = self.p.by_id.get(request.path.decode().rsplit("/", 1)[-1])
        if message is None:
            return self._json(request, 404, {"error": "unknown message"})
        return self._json(request, 200, {"message_id": message["id"], "status": message["status"]})


def serve(provider: Provider) -> tuple[Any, str]:
    """Listen on a loopback port; (port, base URL of the API)."""
    root = Resource()
    root.putChild(b"api", provider.api())
    port = reactor.listenTCP(0, server.Site(root), interface="127.0.0.1")
    return port, f"http://127.0.0.1:{port.getHost().port}/api"


async def post_signed(url: str, payload: dict[str, Any], *, secret: str = SECRET, timestamp: int | None = None,
                      nonce: str = "n-1") -> tuple[int, dict[str, Any]]:
    """POST a signed JSON callback (as the provider would) to the engine; (status, JSON answer)."""
    from urllib.parse import urlsplit

    body = json.dumps(payload).encode()
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    ts = str(int(reactor.seconds()) if timestamp is None else timestamp)
    headers = Headers({b"x-api-key": [API_KEY.encode()], b"x-timestamp": [ts.encode()], b"x-nonce": [nonce.encode()],
                       b"x-signature": [hmac_hex(secret, "POST", path, ts, nonce, body).encode()],
                       b"content-type": [b"application/json"]})
    from twisted.web.client import FileBodyProducer
    from io import BytesIO

    response = await Agent(reactor).request(b"POST", url.encode(), headers, FileBodyProducer(BytesIO(body)))
    data = await readBody(response)
    return response.code, json.loads(data or b"{}")


def sleep(seconds: float) -> defer.Deferred:
    from twisted.internet import task

    return task.deferLater(reactor, seconds, lambda: None)
