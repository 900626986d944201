"""Text to telephone audio: espeak-ng (through pyttsx3 or its CLI), then sox to 8 kHz.

Everything here blocks; callers run it in a worker thread (``PromptRenderer``)
or a command-line loop, never on the reactor thread. The pyttsx3 path follows
what was measured with espeak-ng on Debian 12:

* ``runAndWait()`` may return before the file exists, so we wait for the
  ``finished-utterance`` callback and then for the file, with a bound;
* one ``save_to_file`` per ``runAndWait`` (only the last queued one is written);
* the espeak driver is one per process and not thread-safe: a process-wide
  lock serialises it, whichever thread calls;
* an unknown voice name is ignored silently, so after rendering we read the
  engine's voice back and fail if it is not the one asked for;
* about one render in two hundred, espeak-ng (asynchronous retrieval mode)
  delivers the end-of-message event without a single sample, and the driver
  writes a WAV header with no audio; such a render is done again, once.
"""

from __future__ import annotations

import functools
import importlib.metadata
import logging
import os
import subprocess
import threading
import time
import wave
from pathlib import Path
from typing import Protocol

from ivr.prompts.exceptions import TtsError, VoiceNotAvailable

log = logging.getLogger(__name__)

#: Words per minute: a little slower than espeak's default 175, clearer on a phone line.
DEFAULT_RATE = 160
#: The telephone format FreeSWITCH plays without resampling.
SAMPLE_RATE, CHANNELS, SAMPLE_WIDTH = 8000, 1, 2
_TIMEOUT = 60.0
#: After pyttsx3 reports an utterance finished its file is complete within milliseconds; waiting
#: longer only keeps a caller in silence before the espeak-ng fallback renders the prompt.
FILE_GRACE = 2.0
#: Renders of one text before the in-process driver is given up on (see the module docstring).
RENDER_TRIES = 2
_WAV_HEADER = 44


class Synthesizer(Protocol):
    """Writes speech for ``text`` to a WAV file in whatever format the engine makes."""

    name: str
    version: str

    def synthesize(self, text: str, voice: str, rate: int, out: Path) -> None: ...


def _tool_version(*cmd: str) -> str:
    try:
        out = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TtsError(f"{cmd[0]} is not installed or does not run: {exc}") from None
    lines = (out.stdout or out.stderr).strip().splitlines()
    return lines[0].strip() if lines else "unknown"


@functools.lru_cache(maxsize=1)
def espeak_version() -> str:
    """e.g. "eSpeak NG text-to-speech: 1.51 Data at: ..." (first line, data path dropped)."""
    return _tool_version("espeak-ng", "--version").split("  Data at")[0]


@functools.lru_cache(maxsize=1)
def sox_version() -> str:
    return _tool_version("sox", "--version")


@functools.lru_cache(maxsize=1)
def espeak_voice_ids() -> frozenset[str]:
    """Voice identifiers as pyttsx3 spells them ("sit/cmn-latn-pinyin"): the File column, lower case."""
    out = subprocess.run(["espeak-ng", "--voices"], capture_output=True, text=True, timeout=10).stdout
    ids = set()
    for line in out.splitlines()[1:]:
        cols = line.split()
        if len(cols) >= 5:
            ids.add(cols[4].lower())
    return frozenset(ids)


def _wait_for_file(path: Path, timeout: float) -> None:
    """Poll with a bound: the engine may still be writing after it says it is done."""
    deadline = time.monotonic() + timeout
    delay = 0.002
    while not (path.exists() and path.stat().st_size > _WAV_HEADER):
        if time.monotonic() > deadline:
            raise TtsError(f"TTS engine reported done but {path.name} was not written")
        time.sleep(delay)
        delay = min(delay * 2, 0.05)


def _header_only(path: Path) -> bool:
    """The file is there and holds a WAV header and nothing else (the driver wrote an empty buffer)."""
    try:
        return path.stat().st_size <= _WAV_HEADER
    except FileNotFoundError:
        return False


class Pyttsx3Synthesizer:
    """pyttsx3 on espeak-ng, in this process, serialised by a process-wide lock."""

    name = "pyttsx3"
    _lock = threading.Lock()  # class-level: the espeak driver is one per process
    _engine = None
    _done = threading.Event()

    def __init__(self, timeout: float = _TIMEOUT) -> None:
        self.timeout = timeout
        self.version = f"pyttsx3 {importlib.metadata.version('pyttsx3')}; {espeak_version()}"
        #: The voice the engine reported after the last render (for checks and tests).
        self.last_voice: str | None = None
        #: Renders done again because the driver wrote a file without audio.
        self.rerenders = 0

    @classmethod
    def _get_engine(cls):
        if cls._engine is None:
            import pyttsx3
            import pyttsx3.drivers.espeak as driver

            # The driver prints "Audio saved to ..." on every file; keep stdout for the CLI's own output.
            driver.print = lambda *args, **kwargs: None  # type: ignore[attr-defined]
            engine = pyttsx3.init("espeak")
            engine.connect("finished-utterance", lambda name, completed: cls._done.set())
            cls._engine = engine
        return cls._engine

    def synthesize(self, text: str, voice: str, rate: int, out: Path) -> None:
        """Render ``text`` to ``out`` (22,050 Hz mono); raise if the voice did not take effect."""
        if voice.lower() not in espeak_voice_ids():
            raise VoiceNotAvailable(f"espeak-ng has no voice {voice!r}")
        with self._lock:
            engine = self._get_engine()
            for attempt in range(1, RENDER_TRIES + 1):
                self._render(engine, text, voice, rate, out)
                if attempt < RENDER_TRIES and _header_only(out):  # the driver wrote no samples: once more
                    self.rerenders += 1
                    log.info("pyttsx3 finished %s with no audio; rendering it again", out.name)
                    continue
                break
            _wait_for_file(out, min(self.timeout, FILE_GRACE))

    def _render(self, engine, text: str, voice: str, rate: int, out: Path) -> None:
        """One ``save_to_file`` + ``runAndWait``, until the driver reports the utterance finished."""
        self._done.clear()
        engine.setProperty("voice", voice)
        engine.setProperty("rate", rate)
        engine.save_to_file(text, str(out), "prompt")
        engine.runAndWait()
        if not self._done.wait(self.timeout):
            raise TtsError("pyttsx3 never reported the utterance finished")
        actual = engine.getProperty("voice")
        self.last_voice = actual
        if actual != voice.lower():
            raise VoiceNotAvailable(f"asked pyttsx3 for voice {voice!r} but the engine used {actual!r}")
        # No read-back of the rate: espeak's GetParameter reports the voice default, not the rate in use.


class EspeakCliSynthesizer:
    """``espeak-ng -w`` as a child process: no shared driver, so any number may run at once."""

    name = "espeak-ng"

    def __init__(self, timeout: float = _TIMEOUT) -> None:
        self.timeout = timeout
        self.version = f"cli; {espeak_version()}"

    def synthesize(self, text: str, voice: str, rate: int, out: Path) -> None:
        """Render via the CLI; it exits non-zero on an unknown voice, which we turn into VoiceNotAvailable."""
        if voice.lower() not in espeak_voice_ids():
            raise VoiceNotAvailable(f"espeak-ng has no voice {voice!r}")
        cmd = ["espeak-ng", "-v", voice, "-s", str(rate), "-w", str(out), "--stdin"]
        try:
            proc = subprocess.run(cmd, input=text.encode("utf-8"), capture_output=True, timeout=self.timeout)
        except subprocess.TimeoutExpired:
            raise TtsError(f"espeak-ng took longer than {self.timeout}s") from None
        if proc.returncode != 0:
            raise TtsError(f"espeak-ng failed ({proc.returncode}): {proc.stderr.decode(errors='replace').strip()}")
        _wait_for_file(out, self.timeout)


class FallbackSynthesizer:
    """pyttsx3 first; when its driver fails to write a file, the espeak-ng child process instead.

    In a busy multi-threaded engine the in-process driver occasionally reports
    an utterance done without writing it; a caller must never hear silence
    because of that. Both speak with the same espeak-ng voice data, so the
    cache key stays that of the primary (the audio is the same voice and rate).
    """

    def __init__(self, primary: Synthesizer, secondary: Synthesizer) -> None:
        self.primary, self.secondary = primary, secondary
        self.name = primary.name
        self.version = primary.version
        self.fallbacks = 0

    def synthesize(self, text: str, voice: str, rate: int, out: Path) -> None:
        try:
            self.primary.synthesize(text, voice, rate, out)
        except VoiceNotAvailable:
            raise
        except TtsError as exc:
            self.fallbacks += 1
            log.warning("%s failed (%s); rendering with %s instead", self.primary.name, exc, self.secondary.name)
            self.secondary.synthesize(text, voice, rate, out)


def make_synthesizer(engine: str = "pyttsx3") -> Synthesizer:
    """The synthesizer for an engine name: "pyttsx3" (default, falls back to the CLI) or "espeak-ng"."""
    if engine == "pyttsx3":
        return FallbackSynthesizer(Pyttsx3Synthesizer(), EspeakCliSynthesizer())
    if engine in ("espeak-ng", "espeak"):
        return EspeakCliSynthesizer()
    raise ValueError(f"unknown TTS engine {engine!r}; use pyttsx3 or espeak-ng")


def convert_to_telephony(src: Path, dst: Path) -> None:
    """sox to 8 kHz, 16-bit signed, mono WAV (what a phone leg carries)."""
    cmd = ["sox", "-V1", str(src), "-t", "wav", "-r", str(SAMPLE_RATE), "-c", str(CHANNELS),
           "-b", "16", "-e", "signed-integer", str(dst)]
    proc = subprocess.run(cmd, capture_output=True, timeout=_TIMEOUT)
    if proc.returncode != 0:
        raise TtsError(f"sox failed ({proc.returncode}): {proc.stderr.decode(errors='replace').strip()}")


def is_telephony_wav(path: Path) -> bool:
    """True when the file is already 8 kHz mono 16-bit PCM WAV."""
    try:
        with wave.open(str(path), "rb") as w:
            return (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (SAMPLE_RATE, CHANNELS, SAMPLE_WIDTH)
    except (wave.Error, EOFError, OSError):
        return False


def wav_duration(path: Path) -> float:
    """Seconds of audio in a PCM WAV."""
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def render_wav(synth: Synthesizer, text: str, voice: str, rate: int, dst: Path) -> None:
    """Synthesize ``text`` and write the 8 kHz result to ``dst`` (not atomically; see cache)."""
    raw = dst.with_name(dst.name + ".raw.wav")
    try:
        synth.synthesize(text, voice, rate, raw)
        convert_to_telephony(raw, dst)
    finally:
        try:
            os.unlink(raw)
        except FileNotFoundError:
            pass
