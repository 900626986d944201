"""AsrService: Deferreds on the reactor, Vosk in a bounded thread pool, DTMF fallback."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
import pytest_twisted
from twisted.internet import reactor, task

from hotline.settings import AsrSettings, Settings
from ivr.asr import AsrService, AsrUnavailable, Recognition, grammar_for, match_option

try:
    from asr_fixtures import asr_model_dir, say, silence  # noqa: F401  (pytest fixtures)
except ImportError:  # tests/ became a package
    from tests.ivr.asr_fixtures import asr_model_dir, say, silence  # noqa: F401

MENU = {"order": ["주문"], "agent": ["상담원"]}  # grammar ["주문", "상담원"]: "상담원" -> 1.0


def _rec(text: str, phrase: str | None, accepted: bool = True, confirm: bool = False) -> Recognition:
    from ivr.asr import Word
    words = tuple(Word(w, 1.0, 0.0, 0.1) for w in text.split())
    return Recognition(text, words, 1.0 if accepted else 0.5, phrase, accepted, confirm, None, 1.0, 0.01)


@pytest.fixture
def service(asr_model_dir: Path):
    svc = AsrService(asr_model_dir, threshold=0.6, reactor=reactor, max_workers=2)
    yield svc
    svc.stop()


def test_no_model_configured_means_dtmf_only() -> None:
    svc = AsrService.from_settings(Settings(), reactor)
    assert not svc.available
    failures: list = []
    svc.recognize("/nonexistent.wav", ["예"]).addErrback(failures.append)
    assert failures and failures[0].check(AsrUnavailable)


def test_from_settings_reads_path_and_threshold(asr_model_dir: Path) -> None:
    svc = AsrService.from_settings(Settings(asr=AsrSettings(str(asr_model_dir), 0.7)), reactor, max_workers=3)
    assert svc.available and svc.threshold == 0.7 and svc.recognizer.threshold == 0.7
    assert svc._pool.max == 3


@pytest_twisted.inlineCallbacks
def test_recognize_through_the_service(service: AsrService, say) -> None:
    yield service.warm_up()
    result = yield service.recognize(say("상담원"), grammar_for(MENU))
    assert result.phrase == "상담원" and result.accepted
    assert match_option(result, MENU) == "agent"


@pytest_twisted.inlineCallbacks
def test_silence_through_the_service(service: AsrService, silence: Path) -> None:
    result = yield service.recognize(silence, grammar_for(MENU))
    assert result.no_input and match_option(result, MENU) is None


@pytest_twisted.inlineCallbacks
def test_recognising_does_not_block_the_reactor(service: AsrService, say) -> None:
    audio = say("상담원을 연결해 주세요")  # free-form: ~1 s of decoding
    yield service.warm_up()
    ticks: list[float] = []
    beat = task.LoopingCall(lambda: ticks.append(time.monotonic()))
    beat.start(0.01, now=False)
    started = time.monotonic()
    result = yield service.recognize(audio, None)
    beat.stop()
    took = time.monotonic() - started
    assert result.elapsed_seconds > 0.3
    assert len(ticks) >= 0.5 * took / 0.01  # the reactor kept ticking while Vosk decoded
    gaps = [b - a for a, b in zip(ticks, ticks[1:])]
    assert max(gaps) < 0.2  # a 0.5 s chunk decodes in ~0.35 s: a held GIL would show as a longer gap


@pytest_twisted.inlineCallbacks
def test_concurrent_requests_share_a_bounded_pool(asr_model_dir: Path, say) -> None:
    svc = AsrService(asr_model_dir, threshold=0.6, reactor=reactor, max_workers=1)
    try:
        from twisted.internet.defer import gatherResults
        results = yield gatherResults([
            svc.recognize(say(w), ["예", "아니요"]) for w in ("예", "아니요", "예")
        ])
        assert [r.phrase for r in results] == ["예", "아니요", "예"]
        assert svc._pool.max == 1 and len(svc._pool.threads) <= 1
    finally:
        svc.stop()


def test_match_option_grammar_and_free_form() -> None:
    zh = {"order_status": ["订单", "查询订单"], "agent": ["人工", "客服"]}
    assert match_option(_rec("查询订单", "查询订单"), zh) == "order_status"
    assert match_option(_rec("我 想 查询 订单", None), zh) == "order_status"  # free-form, spaces ignored
    assert match_option(_rec("订单 人工", None), zh) is None  # two options at once: ask again
    assert match_option(_rec("", None, accepted=False), zh) is None
    unsure = _rec("人工", "人工", accepted=False, confirm=True)
    assert match_option(unsure, zh) is None
    assert match_option(unsure, zh, require_accepted=False) == "agent"  # "did you say agent?"
    assert match_option(_rec("상담원", "상담원"), MENU) == "agent"
    assert grammar_for({"a": ["예", " 예 "], "b": ["아니요"]}) == ["예", "아니요"]
