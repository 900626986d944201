"""Vosk speech recognition for IVR prompts: grammar mode for menus, free-form for notes.

Why the shape: a Vosk model is ~530 MB resident and takes ~3 s to load, so it
is loaded once per process (lazily, under a lock) and shared by every
recogniser; a ``KaldiRecognizer`` is cheap and made per utterance. Calls are
blocking (tens of ms in grammar mode, ~0.7 x real time free-form), so the
reactor must reach this module through :mod:`ivr.asr.service`'s thread pool.

The bundled test model has no ``[unk]`` word: speech outside a grammar is
forced onto the nearest grammar phrase. The only guard is the word confidence
(``SetWords(True)``), hence ``accepted`` / ``needs_confirmation`` below.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ivr.asr.audio import fill_digital_silence, load_pcm
from ivr.asr.model import AsrError, ModelNotFoundError, check_model_dir, prepare_deterministic_model  # noqa: F401  (re-exported)

log = logging.getLogger(__name__)

_CHUNK_BYTES = 8000  # 0.5 s at 8 kHz: endpoint results are collected between chunks

_models: dict[str, Any] = {}
_models_lock = threading.Lock()


def _import_vosk() -> Any:
    try:
        import vosk
    except ImportError:
        raise AsrError("speech recognition needs the 'vosk' package (pip install vosk)") from None
    vosk.SetLogLevel(-2)  # Kaldi logs every model load and grammar warning on stderr otherwise
    return vosk


def load_model(model_path: str | Path) -> Any:
    """The process-wide ``vosk.Model`` for ``model_path``, loaded on first use."""
    key = str(Path(model_path).resolve())
    model = _models.get(key)
    if model is not None:
        return model
    with _models_lock:
        model = _models.get(key)
        if model is None:
            check_model_dir(model_path)
            vosk = _import_vosk()
            started = time.monotonic()
            try:
                model = vosk.Model(key)
            except Exception as exc:  # vosk raises a bare Exception("Failed to create a model")
                raise ModelNotFoundError(f"ASR model {model_path}: Vosk could not load it ({exc})") from None
            log.info("ASR model %s loaded in %.1f s", model_path, time.monotonic() - started)
            _models[key] = model
    return model


@dataclass(frozen=True)
class Word:
    word: str
    conf: float
    start: float
    end: float


@dataclass(frozen=True)
class Recognition:
    """What the caller said, and whether the IVR may act on it without asking."""

    text: str
    words: tuple[Word, ...]
    #: min of the word confidences in grammar mode (one forced word is enough to doubt
    #: the phrase), mean in free-form mode (long sentences); 0.0 when nothing was heard.
    confidence: float
    #: the grammar phrase the text stands for; None in free-form mode, on no input,
    #: or when the caller said two different phrases ("아니요 예").
    phrase: str | None
    accepted: bool
    needs_confirmation: bool
    grammar: tuple[str, ...] | None
    audio_seconds: float
    elapsed_seconds: float

    @property
    def no_input(self) -> bool:
        """Nothing recognised (silence, noise, nothing fitting the grammar): reprompt or take DTMF."""
        return not self.words

    @property
    def rejected(self) -> bool:
        """Neither usable nor worth confirming: the IVR should fall back to DTMF / reprompt."""
        return not self.accepted and not self.needs_confirmation


def match_phrase(text: str, grammar: Sequence[str]) -> str | None:
    """The single grammar phrase ``text`` is made of (repeats such as "예 예" allowed)."""
    tokens = text.split()
    if not tokens:
        return None
    phrases = sorted({" ".join(p.split()) for p in grammar if p.strip()}, key=lambda p: -len(p.split()))
    found: set[str] = set()
    i = 0
    while i < len(tokens):
        for phrase in phrases:
            size = len(phrase.split())
            if " ".join(tokens[i:i + size]) == phrase:
                found.add(phrase)
                i += size
                break
        else:
            return None
    return found.pop() if len(found) == 1 else None


class SpeechRecognizer:
    """Blocking recogniser over one Vosk model directory (shared per process)."""

    def __init__(self, model_path: str | Path, threshold: float = 0.6, confirm_threshold: float = 0.4) -> None:
        if not 0.0 <= confirm_threshold <= threshold <= 1.0:
            raise ValueError("need 0 <= confirm_threshold <= threshold <= 1")
        self.model_path = Path(model_path)
        self.threshold = threshold
        self.confirm_threshold = confirm_threshold

    @property
    def model(self) -> Any:
        return load_model(self.model_path)

    def load(self) -> None:
        """Load the model now (start-up warm-up) instead of on the first call."""
        load_model(self.model_path)

    def usable_grammar(self, grammar: Sequence[str]) -> list[str]:
        """The phrases whose every word the model knows; Vosk silently drops the others."""
        model = self.model
        usable, dropped = [], []
        for phrase in grammar:
            words = phrase.split()
            if words and all(model.vosk_model_find_word(w) >= 0 for w in words):
                usable.append(" ".join(words))
            else:
                dropped.append(phrase)
        if dropped:
            log.warning("ASR grammar: not in the model's vocabulary, ignored: %s", ", ".join(dropped))
        if grammar and not usable:
            raise AsrError(f"no grammar phrase is in the vocabulary of {self.model_path}: {list(grammar)}")
        return usable

    def recognize_pcm(self, data: bytes, grammar: Sequence[str] | None = None, sample_rate: int = 8000) -> Recognition:
        """Decode raw 16-bit mono PCM; ``grammar`` (phrases) constrains the result when given."""
        vosk = _import_vosk()
        started = time.monotonic()
        phrases = self.usable_grammar(grammar) if grammar else None
        if phrases:
            rec = vosk.KaldiRecognizer(self.model, sample_rate, json.dumps(phrases, ensure_ascii=False))
        else:
            rec = vosk.KaldiRecognizer(self.model, sample_rate)
        rec.SetWords(True)
        data = fill_digital_silence(data)
        segments: list[dict[str, Any]] = []
        for offset in range(0, len(data), _CHUNK_BYTES):
            if rec.AcceptWaveform(data[offset:offset + _CHUNK_BYTES]):
                segments.append(json.loads(rec.Result()))  # endpoint: the utterance so far is final
        segments.append(json.loads(rec.FinalResult()))
        words = tuple(
            Word(w["word"], float(w["conf"]), float(w["start"]), float(w["end"]))
            for seg in segments for w in seg.get("result", [])
        )
        return self._judge(words, phrases, len(data) / 2 / sample_rate, time.monotonic() - started)

    def recognize_file(self, wav_path: str | Path, grammar: Sequence[str] | None = None,
                       sample_rate: int = 8000) -> Recognition:
        """Recognise a recording (any rate/channels: converted to ``sample_rate`` mono 16-bit)."""
        pcm = load_pcm(wav_path, sample_rate)
        return self.recognize_pcm(pcm.data, grammar, pcm.sample_rate)

    def _judge(self, words: tuple[Word, ...], grammar: list[str] | None,
               audio_seconds: float, elapsed: float) -> Recognition:
        text = " ".join(w.word for w in words)
        confs = [w.conf for w in words]
        if not confs:
            confidence = 0.0
        elif grammar:
            confidence = min(confs)
        else:
            confidence = sum(confs) / len(confs)
        phrase = match_phrase(text, grammar) if grammar else None
        usable = bool(words) and (phrase is not None or not grammar)
        accepted = usable and confidence >= self.threshold
        confirm = usable and not accepted and confidence >= self.confirm_threshold
        return Recognition(
            text=text, words=words, confidence=round(confidence, 3), phrase=phrase,
            accepted=accepted, needs_confirmation=confirm,
            grammar=tuple(grammar) if grammar else None,
            audio_seconds=audio_seconds, elapsed_seconds=elapsed,
        )
