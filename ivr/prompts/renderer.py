"""Prompt id + language + values -> a playable WAV path, blocking or as a Deferred.

``PromptBuilder`` is the blocking pipeline (catalogue text, override
recording, cache, TTS) used by the CLI and by worker threads. ``PromptRenderer``
is what call flows hold: it runs the builder in its own bounded thread pool so
the reactor never waits on espeak-ng or sox (ARCHITECTURE boundary 1), and
when several calls ask for the same audio at once only one render happens.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any, Mapping

from twisted.internet import defer
from twisted.internet.interfaces import IReactorCore, IReactorThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.failure import Failure
from twisted.python.threadpool import ThreadPool

from ivr.prompts.cache import DEFAULT_OVERRIDES_DIR, OverrideStore, PromptCache, RenderResult
from ivr.prompts.catalogue import Catalogue
from ivr.prompts.exceptions import PromptNotFound
from ivr.prompts.tts import make_synthesizer

log = logging.getLogger(__name__)

#: Remembered prompt paths before the memo starts over (a few MB at most).
MEMO_LIMIT = 50_000


class PromptBuilder:
    """Blocking and thread-safe: turns a prompt into audio, honouring uploaded recordings."""

    def __init__(
        self,
        catalogue: Catalogue,
        cache: PromptCache,
        voices: Mapping[str, str],
        overrides: OverrideStore | None = None,
    ) -> None:
        self.catalogue = catalogue
        self.cache = cache
        self.voices = dict(voices)
        self.overrides = overrides

    @classmethod
    def from_settings(cls, settings: Any, catalogue: Catalogue | None = None, engine: str = "pyttsx3",
                      overrides_dir: str | Path | None = None) -> "PromptBuilder":
        """Wire the default pieces from ``settings.tts`` (the composition root calls this)."""
        tts = settings.tts
        cache = PromptCache(tts.cache_dir, make_synthesizer(engine))
        if overrides_dir is None:  # uploaded recordings: ivr.prompt_recordings_dir (under var_dir by default)
            ivr = getattr(settings, "ivr", None)
            overrides_dir = getattr(ivr, "prompt_recordings_dir", None) or DEFAULT_OVERRIDES_DIR
        overrides = OverrideStore(overrides_dir, tts.cache_dir)
        return cls(catalogue or Catalogue.load(), cache, {"zh": tts.voice_zh, "en": tts.voice_en}, overrides)

    def voice(self, lang: str) -> str:
        """The configured voice for a language."""
        try:
            return self.voices[lang]
        except KeyError:
            raise PromptNotFound(f"no TTS voice configured for language {lang!r}") from None

    def dedupe_key(self, prompt_id: str | None, lang: str, text: str) -> tuple[str, str, str]:
        """Requests with equal keys produce the same file, so concurrent ones can share one render."""
        return (prompt_id or "", lang, self.cache.key(text, self.voice(lang)))

    def build_text(self, text: str, lang: str, prompt_id: str | None = None) -> RenderResult:
        """Audio for already-worded text; an uploaded recording for ``prompt_id`` wins."""
        if prompt_id and self.overrides is not None:
            override = self.overrides.resolve(prompt_id, lang, text)
            if override is not None:
                if self.catalogue.get(prompt_id).variables:
                    log.warning("recording for %s/%s replaces a prompt with variables; values are not spoken", lang, prompt_id)
                return override
        return self.cache.get_or_render(text, self.voice(lang), lang)

    def build(self, prompt_id: str, lang: str, **variables: Any) -> RenderResult:
        """Audio for a catalogue prompt with its variables."""
        return self.build_text(self.catalogue.render_text(prompt_id, lang, **variables), lang, prompt_id)


class PromptRenderer:
    """The reactor-facing renderer: ``render(...) -> Deferred[Path]``, never blocking the reactor.

    Owns a thread pool of at most ``max_workers`` threads, started with the
    reactor and stopped at shutdown. With the pyttsx3 engine the synthesis
    itself is serialised by its process-wide lock (the driver is not
    thread-safe) while sox conversions and cache hits proceed in parallel;
    with the espeak-ng CLI engine every worker synthesises independently.
    """

    def __init__(self, builder: PromptBuilder, reactor: Any = None, max_workers: int = 2) -> None:
        if reactor is None:
            from twisted.internet import reactor as default_reactor

            reactor = default_reactor
        if max_workers < 1:
            raise ValueError("max_workers must be at least 1")
        self.builder = builder
        self._reactor: IReactorCore | IReactorThreads = reactor
        self._pool = ThreadPool(minthreads=0, maxthreads=max_workers, name="hotline-tts")
        self._pending: dict[tuple[str, str, str], list[defer.Deferred]] = {}
        self._started = False
        #: How many renders actually went to a worker (dedupe and the memo make this < requests).
        self.jobs_started = 0
        #: key -> (path, stamp of the uploaded recording when resolved): repeat requests skip the pool.
        self._known: dict[tuple[str, str, str], tuple[Path, float | None]] = {}

    def start(self) -> None:
        """Start the worker pool and stop it when the reactor shuts down."""
        if not self._started:
            self._pool.start()
            self._started = True
            self._reactor.addSystemEventTrigger("during", "shutdown", self.stop)

    def stop(self) -> None:
        """Stop the worker pool (waits for running renders)."""
        if self._started:
            self._started = False
            self._pool.stop()

    def run_blocking(self, work: Any, *args: Any) -> defer.Deferred:
        """Run other blocking prompt work (``work(builder, *args)``) in this renderer's pool."""
        self.start()
        return deferToThreadPool(self._reactor, self._pool, work, self.builder, *args)

    def render(self, prompt_id: str, lang: str, **variables: Any) -> defer.Deferred:
        """Deferred firing with the WAV path of a catalogue prompt (errback on bad id/vars/TTS failure)."""
        try:
            text = self.builder.catalogue.render_text(prompt_id, lang, **variables)
        except Exception:
            return defer.fail(Failure())
        return self._submit(prompt_id, lang, text)

    def render_text(self, text: str, lang: str) -> defer.Deferred:
        """Deferred firing with the WAV path for free text (e.g. an admin announcement)."""
        return self._submit(None, lang, " ".join(text.split()))

    def _submit(self, prompt_id: str | None, lang: str, text: str) -> defer.Deferred:
        try:
            key = self.builder.dedupe_key(prompt_id, lang, text)
        except Exception:
            return defer.fail(Failure())
        known = self._known.get(key)
        if known is not None:
            path, stamp = known
            # Two stat calls, no thread hop: a cache hit must not queue behind renders (IVR key->prompt gap).
            if stamp == self._override_stamp(prompt_id, lang) and path.exists():
                return defer.succeed(path)
            del self._known[key]
        waiter: defer.Deferred = defer.Deferred()
        if key in self._pending:
            self._pending[key].append(waiter)
            return waiter
        self._pending[key] = [waiter]
        self.start()
        self.jobs_started += 1
        job = deferToThreadPool(self._reactor, self._pool, self.builder.build_text, text, lang, prompt_id)
        job.addBoth(self._fan_out, key)
        return waiter

    def _override_stamp(self, prompt_id: str | None, lang: str) -> float | None:
        """When the uploaded recording for this prompt changed (None: no recording), so an upload wins at once."""
        overrides = self.builder.overrides
        if not prompt_id or overrides is None:
            return None
        path = overrides.find(prompt_id, lang)
        return path.stat().st_mtime if path is not None else None

    def _fan_out(self, result: RenderResult | Failure, key: tuple[str, str, str]) -> None:
        if not isinstance(result, Failure):
            if len(self._known) >= MEMO_LIMIT:
                self._known.clear()
            prompt_id, lang = key[0] or None, key[1]
            self._known[key] = (result.path, self._override_stamp(prompt_id, lang))
        for waiter in self._pending.pop(key, []):
            if isinstance(result, Failure):
                waiter.errback(result)
            else:
                waiter.callback(result.path)

