"""Small parts on an injected clock: token buckets, the dispatcher's backoff, request signatures."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from messaging.dispatcher import Dispatcher, DispatchPolicy, worker_is_gone
from messaging.ratelimit import TokenBucket
from messaging.signing import SignatureError, Verifier, signature, signed_headers


def test_token_bucket_burst_then_rate_on_a_clock():
    clock = Clock()
    bucket = TokenBucket(2.0, 3, clock=clock)
    assert bucket.available() == 3 and all(bucket.take() for _ in range(3)) and not bucket.take()
    assert bucket.wait_time(1) == pytest.approx(0.5)
    clock.advance(0.5)
    assert bucket.take() and not bucket.take()
    clock.advance(100)
    assert bucket.available() == 3  # never more than the burst
    with pytest.raises(ValueError):
        TokenBucket(0, clock=clock)


def test_backoff_doubles_up_to_the_cap_and_honours_the_gateway():
    dispatcher = Dispatcher(db=None, clock=Clock(), policy=DispatchPolicy(retry_base=30, retry_max=300))
    assert [dispatcher.backoff(n) for n in (1, 2, 3, 4, 5, 6)] == [30, 60, 120, 240, 300, 300]
    assert dispatcher.backoff(1, hint=90) == 90 and dispatcher.backoff(3, hint=5) == 120


def test_a_worker_is_gone_only_when_it_is_provably_dead():
    assert worker_is_gone("h:999999999", me="h:1")          # this host, no such process
    assert worker_is_gone("h:1", me="h:1")                  # this pid, claimed before we started
    assert not worker_is_gone(f"h:{__import__('os').getpid()}", me="h:1")  # alive
    assert not worker_is_gone("other:999999999", me="h:1")  # another host: wait for its lease


def test_signature_checks_key_secret_age_and_replay():
    body = b'{"message_id": "m1", "status": "delivered"}'
    headers = signed_headers("acct", "s3cret", "POST", "/messaging/sms/receipts", body, now=1_000)
    verifier = Verifier("acct", "s3cret", max_skew=300)
    verifier.verify(headers, "POST", "/messaging/sms/receipts", body, now=1_100)
    with pytest.raises(SignatureError, match="replay"):
        verifier.verify(headers, "POST", "/messaging/sms/receipts", body, now=1_100)
    fresh = signed_headers("acct", "s3cret", "POST", "/messaging/sms/receipts", body, now=1_000)
    for change, match in ((dict(body=b"{}"), "bad signature"), (dict(path="/other"), "bad signature"),
                          (dict(now=2_000), "away from now")):
        args = {"body": body, "path": "/messaging/sms/receipts", "now": 1_000, **change}
        with pytest.raises(SignatureError, match=match):
            Verifier("acct", "s3cret").verify(fresh, "POST", args["path"], args["body"], args["now"])
    with pytest.raises(SignatureError, match="unknown API key"):
        Verifier("other", "s3cret").verify(fresh, "POST", "/messaging/sms/receipts", body, 1_000)
    with pytest.raises(SignatureError, match="no API secret"):
        Verifier("acct", "").verify(fresh, "POST", "/messaging/sms/receipts", body, 1_000)
    assert signature("k", "post", "/p", "1", "n", b"") == signature("k", "POST", "/p", "1", "n", b"")
