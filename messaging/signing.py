"""Request signatures of the HTTP SMS API, both ways: our requests to the provider and its callbacks to us.

The scheme is the one cloud SMS providers use in one form or another: an
HMAC-SHA256, keyed with the API secret, over the method, the path (with
query), a timestamp, a one-time nonce and the SHA-256 of the body, sent as
``X-Signature`` beside ``X-Api-Key``, ``X-Timestamp`` and ``X-Nonce``. A
receiver refuses a wrong signature, a timestamp more than ``max_skew``
seconds away from its clock, and a nonce it has seen (replay).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict
from collections.abc import Mapping


def signature(secret: str, method: str, path: str, timestamp: str, nonce: str, body: bytes) -> str:
    """The hex HMAC-SHA256 of one request."""
    digest = hashlib.sha256(body).hexdigest()
    text = "\n".join([method.upper(), path, timestamp, nonce, digest]).encode("utf-8")
    return hmac.new(secret.encode("utf-8"), text, hashlib.sha256).hexdigest()


def signed_headers(api_key: str, secret: str, method: str, path: str, body: bytes, now: float) -> dict[str, str]:
    """The authentication headers of a request made at ``now`` (epoch seconds)."""
    timestamp, nonce = str(int(now)), secrets.token_hex(12)
    return {"X-Api-Key": api_key, "X-Timestamp": timestamp, "X-Nonce": nonce,
            "X-Signature": signature(secret, method, path, timestamp, nonce, body)}


class SignatureError(Exception):
    """A request whose signature, timestamp or nonce is not acceptable."""


class Verifier:
    """Checks signed requests; remembers recent nonces to refuse replays."""

    def __init__(self, api_key: str, secret: str, *, max_skew: float = 300.0, remember: int = 10_000) -> None:
        self.api_key, self.secret, self.max_skew = api_key, secret, max_skew
        self._seen: OrderedDict[str, None] = OrderedDict()
        self._remember = remember

    def verify(self, headers: Mapping[str, str], method: str, path: str, body: bytes, now: float) -> None:
        """Raise SignatureError unless the request is signed with our secret, fresh and not replayed."""
        if not self.secret:
            raise SignatureError("no API secret configured: callbacks are refused")
        get = {k.lower(): v for k, v in headers.items()}.get
        key, timestamp, nonce, sig = (get("x-api-key"), get("x-timestamp"), get("x-nonce"), get("x-signature"))
        if not (key and timestamp and nonce and sig):
            raise SignatureError("missing signature headers")
        if key != self.api_key:
            raise SignatureError("unknown API key")
        try:
            skew = abs(now - int(timestamp))
        except ValueError:
            raise SignatureError("bad timestamp") from None
        if skew > self.max_skew:
            raise SignatureError(f"timestamp {skew:.0f}s away from now")
        if not hmac.compare_digest(sig, signature(self.secret, method, path, timestamp, nonce, body)):
            raise SignatureError("bad signature")
        if nonce in self._seen:
            raise SignatureError("nonce already used (replay)")
        self._seen[nonce] = None
        while len(self._seen) > self._remember:
            self._seen.popitem(last=False)
