"""SpeechRecognizer against the real Korean Vosk model and espeak-ng speech.

The expectations below were picked by experiment: with dither off these
utterances give the same words and confidences in every process and in any
order (checked in repeated, shuffled runs). Several other espeak-ng words are
not recognised at all by this small model ("셋", "구"), and some speech
outside a grammar is forced onto it with HIGH confidence ("네" -> "예" 1.0),
or confused inside it ("주문" heard as "상담원" at 1.0): the threshold catches
only part of that.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ivr.asr import AsrError, ModelNotFoundError, SpeechRecognizer, load_model, match_phrase
from ivr.asr.model import is_deterministic

try:
    from asr_fixtures import asr_model_dir, recognizer, say, silence  # noqa: F401  (pytest fixtures)
except ImportError:  # tests/ became a package
    from tests.ivr.asr_fixtures import asr_model_dir, recognizer, say, silence  # noqa: F401

YES_NO = ["예", "아니요"]
MAIN_MENU = ["상담원", "주문", "예", "아니요"]
NUMBERS = ["이", "삼", "오"]

AGENT_OR_ORDER = ["주문", "상담원"]

#: (spoken, grammar, expected phrase): recognised right, deterministically, confidence 1.0
ACCURATE = [
    ("예", YES_NO, "예"),
    ("아니요", YES_NO, "아니요"),
    ("예", MAIN_MENU, "예"),
    ("아니요", MAIN_MENU, "아니요"),
    ("상담원", AGENT_OR_ORDER, "상담원"),
    ("삼", NUMBERS, "삼"),
    ("오", NUMBERS, "오"),
    ("이", NUMBERS, "이"),
    ("넷", ["하나", "넷"], "넷"),
]

#: out-of-grammar speech forced onto a grammar word with a mid confidence: confirm it
FORCED = [
    ("둘", YES_NO, "예", 0.51),
    ("주문", YES_NO, "예", 0.59),
    ("하나", NUMBERS, "이", 0.475),
    ("취소", AGENT_OR_ORDER, "상담원", 0.577),
]


def test_model_loads_once_with_dither_off(asr_model_dir: Path) -> None:
    model = load_model(asr_model_dir)
    assert load_model(asr_model_dir) is model
    assert is_deterministic(asr_model_dir)
    assert model.vosk_model_find_word("상담원") >= 0
    assert model.vosk_model_find_word("[unk]") < 0  # why confidence, not [unk], guards the grammar


@pytest.mark.parametrize("spoken,grammar,phrase", ACCURATE)
def test_end_to_end_grammar_accuracy(recognizer: SpeechRecognizer, say, spoken: str, grammar: list[str],
                                     phrase: str) -> None:
    result = recognizer.recognize_file(say(spoken), grammar)
    assert result.phrase == phrase, result
    assert result.accepted and not result.needs_confirmation
    assert result.confidence >= 0.6
    assert all(w.word in grammar for w in result.words)
    assert result.audio_seconds > 0.3


@pytest.mark.parametrize("spoken,grammar,heard,confidence", FORCED)
def test_out_of_grammar_is_forced_but_not_accepted(recognizer: SpeechRecognizer, say, spoken: str,
                                                   grammar: list[str], heard: str, confidence: float) -> None:
    result = recognizer.recognize_file(say(spoken), grammar)
    assert result.phrase == heard  # constrained: no word outside the grammar ever comes back
    assert result.confidence == pytest.approx(confidence, abs=0.002)
    assert not result.accepted
    assert result.needs_confirmation


def test_out_of_grammar_with_very_low_confidence_is_rejected(recognizer: SpeechRecognizer, say) -> None:
    result = recognizer.recognize_file(say("예"), AGENT_OR_ORDER)
    assert (result.phrase, result.confidence) == ("주문", 0.387)
    assert result.rejected and not result.no_input


def test_threshold_decides_accept_confirm_reject(asr_model_dir: Path, say) -> None:
    audio = say("상담원")  # in MAIN_MENU: right phrase, confidence 0.565

    def judge(threshold: float, confirm: float):
        return SpeechRecognizer(asr_model_dir, threshold, confirm).recognize_file(audio, MAIN_MENU)

    assert judge(0.6, 0.4).needs_confirmation and judge(0.6, 0.4).phrase == "상담원"
    assert judge(0.5, 0.4).accepted
    assert judge(0.6, 0.58).rejected
    with pytest.raises(ValueError):
        SpeechRecognizer(asr_model_dir, threshold=0.4, confirm_threshold=0.6)


def test_two_different_phrases_are_no_answer(recognizer: SpeechRecognizer, say) -> None:
    result = recognizer.recognize_file(say("하나"), ["하나", "넷"])  # heard as "하나 넷"
    assert result.text == "하나 넷"
    assert result.phrase is None and result.rejected


@pytest.mark.parametrize("grammar", [YES_NO, None])
def test_silence_gives_no_result(recognizer: SpeechRecognizer, silence: Path, grammar) -> None:
    result = recognizer.recognize_file(silence, grammar)
    assert result.no_input and result.rejected  # the IVR falls back to DTMF / reprompts
    assert result.text == "" and result.phrase is None and result.confidence == 0.0


def test_free_form(recognizer: SpeechRecognizer, say) -> None:
    for word in ("예", "네", "오"):
        result = recognizer.recognize_file(say(word))
        assert (result.text, result.confidence, result.accepted, result.grammar) == (word, 1.0, True, None)


def test_repeatable_in_any_order(recognizer: SpeechRecognizer, say) -> None:
    first = recognizer.recognize_file(say("상담원"), MAIN_MENU)
    recognizer.recognize_file(say("상담원을 연결해 주세요"))  # free-form in between: used to move the dither RNG
    again = recognizer.recognize_file(say("상담원"), MAIN_MENU)
    assert first.words == again.words


@pytest.mark.parametrize("rate,channels", [(22050, 1), (16000, 2)])
def test_other_sample_rates_are_converted(recognizer: SpeechRecognizer, say, rate: int, channels: int) -> None:
    phone = recognizer.recognize_file(say("상담원"), AGENT_OR_ORDER)
    other = recognizer.recognize_file(say("상담원", rate, channels), AGENT_OR_ORDER)
    assert other.phrase == "상담원" and other.accepted
    assert other.audio_seconds == pytest.approx(phone.audio_seconds, abs=0.01)
    if rate == 22050:
        assert other.words == phone.words  # same sox -D path as the fixture: identical audio


def test_missing_model_path_names_it(tmp_path: Path, say) -> None:
    missing = tmp_path / "no-such-model"
    with pytest.raises(ModelNotFoundError, match="no-such-model.*does not exist"):
        SpeechRecognizer(missing).recognize_file(say("예"), YES_NO)


def test_directory_that_is_not_a_model(tmp_path: Path) -> None:
    (tmp_path / "conf").mkdir()
    with pytest.raises(ModelNotFoundError, match=f"{tmp_path}.*not a Vosk model"):
        SpeechRecognizer(tmp_path).load()


def test_grammar_outside_the_vocabulary(recognizer: SpeechRecognizer, say) -> None:
    with pytest.raises(AsrError, match="vocabulary"):
        recognizer.recognize_file(say("예"), ["订单", "人工"])  # Chinese keywords, Korean model
    result = recognizer.recognize_file(say("예"), ["예", "아니요", "订单"])  # the unknown one is dropped
    assert result.phrase == "예" and result.grammar == ("예", "아니요")


def test_unreadable_audio(recognizer: SpeechRecognizer, tmp_path: Path) -> None:
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all")
    with pytest.raises(Exception, match="bad.wav"):
        recognizer.recognize_file(bad, YES_NO)
    with pytest.raises(Exception, match="no such audio file"):
        recognizer.recognize_file(tmp_path / "missing.wav", YES_NO)


def test_match_phrase() -> None:
    assert match_phrase("예", YES_NO) == "예"
    assert match_phrase("예 예", YES_NO) == "예"
    assert match_phrase("아니요 예", YES_NO) is None
    assert match_phrase("주문 조회 주문 조회", ["주문", "주문 조회"]) == "주문 조회"
    assert match_phrase("", YES_NO) is None
    assert match_phrase("네", YES_NO) is None
