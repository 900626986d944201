"""The HTTP side of the SMS gateway: delivery receipts and inbound SMS the provider posts to the engine.

Mounted beside the admin UI at ``/messaging``:

* ``POST /messaging/sms/receipts`` -- ``{"message_id", "status", "error"}``;
* ``POST /messaging/sms/inbound`` -- ``{"from", "to", "text", "message_id"}``.

Both must be signed with the provider account's key and secret
(``messaging.signing``; wrong or replayed: 401) and be JSON of at most
64 KiB (413 otherwise, 400 when malformed). The answer (200) is sent once
the receipt or message is committed, so a provider that gets no answer and
retries loses nothing (inbound messages are filed once per provider id).
"""

from __future__ import annotations

import json
import logging
from typing import Any, Callable

from twisted.internet import defer
from twisted.web import server
from twisted.web.resource import Resource

from crm_core.services.outbox_dispatch import Receipt
from messaging.channels.base import InboundSms
from messaging.channels.http_sms import FINAL_STATUSES
from messaging.signing import SignatureError, Verifier

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024


class _SignedJson(Resource):
    isLeaf = True

    def __init__(self, verifier: Callable[[], Verifier | None], clock: Any,
                 handle: Callable[[dict[str, Any]], defer.Deferred]) -> None:
        super().__init__()
        self.verifier, self.clock, self.handle = verifier, clock, handle

    def _reply(self, request: Any, code: int, payload: dict[str, Any]) -> bytes:
        request.setResponseCode(code)
        request.setHeader(b"content-type", b"application/json")
        return json.dumps(payload).encode()

    def render_GET(self, request: Any) -> bytes:
        request.setHeader(b"allow", b"POST")
        return self._reply(request, 405, {"error": "POST only"})

    def render_POST(self, request: Any) -> Any:
        body = request.content.read(MAX_BODY + 1)
        if len(body) > MAX_BODY:
            return self._reply(request, 413, {"error": f"body larger than {MAX_BODY} bytes"})
        headers = {k.decode("latin-1"): v[-1].decode("latin-1") for k, v in request.requestHeaders.getAllRawHeaders()}
        verifier = self.verifier()
        if verifier is None:
            return self._reply(request, 404, {"error": "no HTTP SMS gateway is configured"})
        try:
            verifier.verify(headers, "POST", request.uri.decode("latin-1"), body, self.clock.seconds())
        except SignatureError as exc:
            log.warning("refused an SMS gateway callback from %s: %s", request.getClientAddress().host, exc)
            return self._reply(request, 401, {"error": str(exc)})
        try:
            data = json.loads(body.decode("utf-8"))
            if not isinstance(data, dict):
                raise ValueError("not an object")
            d = self.handle(data)
        except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
            return self._reply(request, 400, {"error": f"bad request: {exc}"})

        gone: list[bool] = []
        request.notifyFinish().addErrback(lambda _: gone.append(True))

        def done(result: Any) -> None:
            if not gone:
                request.write(self._reply(request, 200, {"ok": True, **(result or {})}))
                request.finish()

        def failed(failure: Any) -> None:
            log.error("SMS gateway callback not stored: %s", failure.getErrorMessage())
            if not gone:
                request.write(self._reply(request, 503, {"error": "not stored, try again"}))
                request.finish()

        d.addCallbacks(done, failed)
        return server.NOT_DONE_YET


def sms_resource(verifier: Callable[[], Verifier | None], clock: Any,
                 apply_receipt: Callable[[Receipt], defer.Deferred],
                 inbound: Callable[[InboundSms], defer.Deferred], provider: str = "http") -> Resource:
    """``/messaging`` with the receipt and inbound-SMS endpoints of the HTTP SMS provider account in use.

    ``verifier()`` gives the current account's verifier (None: no HTTP gateway, the endpoints answer 404).
    """
    def receipt(data: dict[str, Any]) -> defer.Deferred:
        message_id, status = str(data["message_id"]), FINAL_STATUSES.get(str(data.get("status", "")).lower())
        if not message_id or status is None:
            raise ValueError("message_id and a final status (delivered, failed, expired) are required")
        error = data.get("error")
        return apply_receipt(Receipt(provider, message_id, status, str(error) if error else None,
                                     {"callback": True})).addCallback(lambda found: {"matched": found is not None})

    def message(data: dict[str, Any]) -> defer.Deferred:
        sender, text = str(data["from"]), str(data.get("text", ""))
        if not sender:
            raise ValueError("from is required")
        sms = InboundSms(sender, text, str(data.get("to") or "") or None, provider,
                         str(data.get("message_id") or "") or None)
        return inbound(sms).addCallback(lambda filed: {"filed": True})

    root, sms = Resource(), Resource()
    root.putChild(b"sms", sms)
    sms.putChild(b"receipts", _SignedJson(verifier, clock, receipt))
    sms.putChild(b"inbound", _SignedJson(verifier, clock, message))
    return root
