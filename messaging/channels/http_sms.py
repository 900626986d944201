"""SMS through an HTTP JSON API shaped like the cloud SMS providers': signed request, message id back, receipts.

``POST {url}/messages`` with ``{"to", "from", "text", "client_ref", "callback_url"}``,
signed (``messaging.signing``) and carrying ``Idempotency-Key: <outbox key>``:
a provider that has the key already answers with the message it accepted
the first time instead of sending again. Answers:

* 200/201/202 ``{"message_id", "status"}``: sent (``status: delivered`` counts as delivered);
* 409 with a ``message_id``: the key was sent before -- the same, sent;
* 429 and 5xx: transient (``Retry-After`` honoured); no answer, refused
  connection or a timeout: transient ("gateway unreachable");
* other 4xx: permanent, with the provider's error text.

Receipts come back to ``messaging.web`` (the provider calls our
``callback_url``) or are polled with ``GET {url}/messages/{id}``.
All I/O is ``twisted.web.client``: nothing blocks the reactor.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlsplit

from twisted.internet import defer
from twisted.web.client import Agent, HTTPConnectionPool, readBody
from twisted.web.http_headers import Headers
from twisted.web.iweb import IBodyProducer
from zope.interface import implementer

from crm_core.services.outbox_dispatch import ClaimedMessage, Receipt
from messaging.channels.base import Listener, PermanentSendError, SendResult, TransientSendError
from messaging.signing import signed_headers

FINAL_STATUSES = {"delivered": "delivered", "failed": "failed", "undelivered": "failed", "rejected": "failed",
                  "expired": "expired"}


@implementer(IBodyProducer)
class _Body:
    def __init__(self, data: bytes) -> None:
        self.data, self.length = data, len(data)

    def startProducing(self, consumer: Any) -> defer.Deferred:
        consumer.write(self.data)
        return defer.succeed(None)

    def pauseProducing(self) -> None:
        pass

    def stopProducing(self) -> None:
        pass


def _json(body: bytes) -> dict[str, Any]:
    try:
        data = json.loads(body.decode("utf-8") or "{}")
    except (UnicodeDecodeError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


class HttpSmsAdapter:
    """One provider account: base URL, API key and secret, sender id."""

    kind = "http"

    def __init__(self, reactor: Any, url: str, api_key: str, secret: str, *, sender_id: str = "",
                 callback_url: str = "", timeout: float = 10.0, max_in_flight: int = 16,
                 lease_seconds: float = 120.0) -> None:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"sms.http_url must be an http(s) URL, got {url!r}")
        if not api_key or not secret:
            raise ValueError("the HTTP SMS gateway needs an API key and secret")
        self.reactor = reactor
        self.url, self.base_path = url.rstrip("/"), parts.path.rstrip("/")
        self.api_key, self.secret, self.sender_id = api_key, secret, sender_id
        self.callback_url, self.timeout = callback_url, timeout
        self.max_in_flight, self.lease_seconds = max_in_flight, lease_seconds
        self.pool = HTTPConnectionPool(reactor, persistent=True)
        self.pool.maxPersistentPerHost = max_in_flight
        self.agent = Agent(reactor, connectTimeout=timeout, pool=self.pool)

    def start(self, listener: Listener) -> None:
        """Nothing to connect up front (connections are pooled per request)."""

    def stop(self) -> defer.Deferred:
        return self.pool.closeCachedConnections()

    async def _request(self, method: str, path: str, payload: dict[str, Any] | None = None,
                       extra: dict[str, str] | None = None) -> tuple[int, dict[str, Any], Headers]:
        body = json.dumps(payload, ensure_ascii=False).encode("utf-8") if payload is not None else b""
        headers = signed_headers(self.api_key, self.secret, method, self.base_path + path, body,
                                 self.reactor.seconds())
        headers.update(extra or {})
        raw = Headers({k.encode(): [v.encode()] for k, v in headers.items()})
        raw.setRawHeaders(b"content-type", [b"application/json; charset=utf-8"])
        d = self.agent.request(method.encode(), (self.url + path).encode(), raw,
                               _Body(body) if payload is not None else None)
        d.addTimeout(self.timeout, self.reactor)
        try:
            response = await d
            data = await readBody(response).addTimeout(self.timeout, self.reactor)
        except defer.TimeoutError:
            raise TransientSendError(f"gateway unreachable: no answer within {self.timeout:.0f}s") from None
        except Exception as exc:  # refused, reset, DNS: the gateway cannot be reached now
            reason = getattr(exc, "reasons", None)
            text = "; ".join(r.getErrorMessage() for r in reason) if reason else str(exc) or type(exc).__name__
            raise TransientSendError(f"gateway unreachable: {text}") from None
        return response.code, _json(data), response.headers

    def send(self, message: ClaimedMessage) -> defer.Deferred:
        return defer.ensureDeferred(self._send(message))

    async def _send(self, message: ClaimedMessage) -> SendResult:
        payload = {"to": message.recipient, "text": message.body, "client_ref": message.idempotency_key}
        if self.sender_id:
            payload["from"] = self.sender_id
        if self.callback_url:
            payload["callback_url"] = self.callback_url
        code, data, headers = await self._request("POST", "/messages", payload,
                                                  {"Idempotency-Key": message.idempotency_key})
        message_id = str(data.get("message_id") or "") or None
        detail = {"http_status": code, "provider_status": data.get("status")}
        if code in (200, 201, 202) or (code == 409 and message_id):
            if not message_id:
                raise TransientSendError(f"gateway answered {code} without a message id", result=detail)
            kind = "delivered" if data.get("status") == "delivered" else "sent"
            return SendResult(kind, message_id, {**detail, "duplicate": code == 409 or bool(data.get("duplicate"))})
        error = str(data.get("error") or data.get("message") or f"HTTP {code}")
        if code == 429 or code >= 500:
            retry = headers.getRawHeaders(b"retry-after")
            try:
                after = float(retry[0]) if retry else None
            except ValueError:
                after = None
            raise TransientSendError(f"gateway busy ({code}): {error}", retry_after=after, result=detail)
        raise PermanentSendError(f"gateway refused the message ({code}): {error}", result=detail)

    def query(self, provider_message_id: str) -> defer.Deferred:
        """Poll a message's delivery status: a Receipt once it is final, else None."""
        async def poll() -> Receipt | None:
            code, data, _ = await self._request("GET", f"/messages/{provider_message_id}")
            status = FINAL_STATUSES.get(str(data.get("status", "")).lower()) if code == 200 else None
            if status is None:
                return None
            return Receipt(self.kind, provider_message_id, status, data.get("error"), {"polled": True})

        return defer.ensureDeferred(poll())
