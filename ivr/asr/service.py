"""Reactor-facing speech recognition: Deferreds in, a bounded thread pool underneath.

Boundary 1 of the architecture: the reactor never blocks. Every Vosk call
(model load included, ~3 s) runs in this service's own ``ThreadPool``, never
the reactor's shared one, so a burst of callers speaking cannot starve
database work. Vosk's Python binding calls libvosk through cffi, which
releases the GIL for the duration of each C call: decoding in worker threads
runs in parallel with the reactor and with each other. Verified: a 10 ms
reactor LoopingCall keeps firing (gaps < 0.2 s) while a 0.5 s chunk takes
~0.35 s to decode (tests/ivr/test_asr_service.py); on an idle 2-core machine
two free-form streams gave 1.57x the throughput of one (bench/asr.py).
``max_workers`` should not exceed the number of cores: free-form decoding is
CPU-bound at ~0.7 x real time per stream.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from twisted.internet.defer import Deferred, fail
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from ivr.asr.model import AsrError, model_path_from_settings
from ivr.asr.recognizer import Recognition, SpeechRecognizer


class AsrUnavailable(AsrError):
    """No model is configured: the IVR must take DTMF only."""


def _compact(text: str) -> str:
    return "".join(text.split())


def match_option(recognition: Recognition, options: Mapping[str, Sequence[str]],
                 require_accepted: bool = True) -> str | None:
    """The menu option whose keywords the caller said, or None (reprompt / DTMF).

    ``options`` maps an option id to its spoken keywords, e.g.
    ``{"order_status": ["订单", "查询订单"], "agent": ["人工", "客服"]}``.
    The grammar phrase is matched exactly first; otherwise (free-form mode)
    a keyword contained in the text counts, spaces ignored because Vosk
    splits Chinese and Korean text into words the keyword may not share.
    Two options heard at once is no answer. ``require_accepted=False``
    returns the candidate of a ``needs_confirmation`` result, for a
    "did you say ...?" prompt.
    """
    if recognition.no_input:
        return None
    if require_accepted and not recognition.accepted:
        return None
    if not require_accepted and recognition.rejected:
        return None
    if recognition.phrase is not None:
        exact = [opt for opt, kws in options.items() if any(_compact(k) == _compact(recognition.phrase) for k in kws)]
        if len(exact) == 1:
            return exact[0]
    heard = _compact(recognition.text)
    hits = {opt for opt, kws in options.items() if any(_compact(k) and _compact(k) in heard for k in kws)}
    return hits.pop() if len(hits) == 1 else None


def grammar_for(options: Mapping[str, Sequence[str]]) -> list[str]:
    """All keywords of a menu, de-duplicated in order: the grammar for its prompt."""
    seen: dict[str, None] = {}
    for keywords in options.values():
        for keyword in keywords:
            seen.setdefault(" ".join(keyword.split()), None)
    return [k for k in seen if k]


class AsrService:
    """Speech recognition for the IVR, returning Deferreds; one per engine process."""

    def __init__(self, model_path: str | Path | None, threshold: float = 0.6, reactor: Any = None,
                 max_workers: int = 2, confirm_threshold: float | None = None) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor
            reactor = default_reactor
        self.reactor = reactor
        self.model_path = str(model_path or "")
        self.threshold = threshold
        confirm = threshold * 2 / 3 if confirm_threshold is None else confirm_threshold
        self._recognizer = (
            SpeechRecognizer(self.model_path, threshold, confirm) if self.model_path else None
        )
        self._pool = ThreadPool(minthreads=0, maxthreads=max(1, max_workers), name="hotline-asr")
        self._started = False
        self._shutdown_trigger: Any = None

    @classmethod
    def from_settings(cls, settings: Any, reactor: Any = None, max_workers: int = 2) -> "AsrService":
        """Build from ``Settings`` (``[asr] model_path`` and ``confidence``)."""
        asr = getattr(settings, "asr", settings)
        return cls(model_path_from_settings(asr), float(asr.confidence), reactor, max_workers)

    @property
    def available(self) -> bool:
        """False when no model is configured: menus then offer DTMF only."""
        return self._recognizer is not None

    @property
    def recognizer(self) -> SpeechRecognizer | None:
        return self._recognizer

    def _ensure_started(self) -> None:
        if not self._started:
            self._pool.start()
            self._started = True
            self._shutdown_trigger = self.reactor.addSystemEventTrigger("before", "shutdown", self.stop)

    def _run(self, func: Any, *args: Any) -> Deferred:
        if self._recognizer is None:
            return fail(AsrUnavailable("speech recognition is off ([asr] model_path is empty)"))
        self._ensure_started()
        return deferToThreadPool(self.reactor, self._pool, func, *args)

    def warm_up(self) -> Deferred:
        """Load the model in a worker thread now, so the first caller does not wait ~3 s."""
        return self._run(lambda: self._recognizer.load())  # type: ignore[union-attr]

    def recognize(self, wav_path: str | Path, grammar: Sequence[str] | None = None) -> Deferred:
        """Deferred[Recognition] for a recording; ``grammar`` = the phrases this prompt accepts."""
        phrases = list(grammar) if grammar else None
        return self._run(lambda: self._recognizer.recognize_file(wav_path, phrases))  # type: ignore[union-attr]

    def stop(self) -> None:
        """Stop the worker threads (waits for the running recognitions to finish)."""
        if self._started:
            self._started = False
            if self._shutdown_trigger is not None:
                try:
                    self.reactor.removeSystemEventTrigger(self._shutdown_trigger)
                except (ValueError, KeyError):
                    pass  # already fired: we are being called by it
                self._shutdown_trigger = None
            self._pool.stop()
