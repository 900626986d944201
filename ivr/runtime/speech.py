"""Speech input for menus: play the prompt, record the answer, recognise it with the menu's grammar.

One turn (:func:`listen`) is: the prompt as a ``playback`` that any key stops
(``playback_terminators`` = every key), then ``record`` with a time limit and
silence detection that any key stops too, then Vosk (``AsrService.recognize``,
in its worker pool) with a grammar of the options' keywords, mapped back to an
option with ``match_option``. A key pressed at any point wins over speech. The
result says what to do: take a key or an option, confirm a low-confidence
match ("did you say ...?"), or fall back to keys (nothing heard, not
understood, recogniser failed).

The recording is written by the switch and read here, so in production the
recordings directory must be shared (or local to) the FreeSWITCH box, as it is
for voicemail. Recordings are deleted after recognition unless kept in config.
"""

from __future__ import annotations

import itertools
import logging
import os
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

from freeswitch.esl.errors import CallHungUp

#: The session a speech turn runs in (``ivr.runtime.session.IvrSession``, which imports this module: typed
#: loosely here so the two stay one-way).
IvrSession = Any

log = logging.getLogger(__name__)

#: Every key stops the prompt and the recording (DTMF always wins over speech).
ALL_KEYS = "0123456789*#"
#: The switch's default, restored after a speech turn (a key stops ``say`` prompts).
DEFAULT_TERMINATORS = "*"
_turns = itertools.count(1)


@dataclass(frozen=True)
class Heard:
    """The outcome of one speech turn.

    ``outcome``: ``dtmf`` (``key`` pressed), ``accepted`` (``key`` = the option
    spoken), ``confirm`` (``key`` = the candidate option to confirm),
    ``no_input`` (silence), ``rejected`` (speech not usable), ``failed``
    (recogniser error).
    """

    outcome: str
    key: str | None = None
    text: str = ""
    phrase: str | None = None
    confidence: float = 0.0

    @property
    def spoken(self) -> bool:
        return self.outcome in ("accepted", "confirm")


def speech_options(node: Any, lang: str, languages: Sequence[str]) -> dict[str, tuple[str, ...]]:
    """Option key -> keywords the caller may say at ``node`` (every language for a multilingual node)."""
    langs = languages if getattr(node, "multilingual", False) else (lang,)
    out: dict[str, tuple[str, ...]] = {}
    for key, option in node.options.items():
        words: list[str] = []
        for code in langs:
            words += [w for w in option.keywords.get(code, ()) if w.strip()]
        if words:
            out[key] = tuple(dict.fromkeys(words))
    return out


def speech_available(asr: Any) -> bool:
    """Whether an AsrService with a model is configured."""
    return asr is not None and bool(getattr(asr, "available", False))


async def listen(s: "IvrSession", files: list[str], options: Mapping[str, Sequence[str]]) -> Heard:
    """One speech-or-key turn at a prompt; see the module docstring."""
    from ivr.asr import grammar_for, match_option

    cfg = s.config
    call = s.call
    await call.set_var("playback_terminators", ALL_KEYS)
    try:
        if files:
            played = await call.playback(files)
            if played.terminator:
                return Heard("dtmf", played.terminator)
        folder = s.recordings_dir / "speech"
        folder.mkdir(parents=True, exist_ok=True)
        path = str((folder / f"{s.uuid}-{next(_turns)}.wav").resolve())
        result = await call.record(path, max(1, int(cfg.speech_max_seconds)), cfg.speech_silence_threshold,
                                   max(1, int(cfg.speech_silence_seconds)))
    finally:
        if not call.hung_up:
            await call.set_var("playback_terminators", DEFAULT_TERMINATORS)
    if result.hung_up or call.hung_up:
        _discard(path, cfg)
        raise CallHungUp(s.uuid, getattr(call, "hangup_cause", None) or "NORMAL_CLEARING")
    if result.terminator:
        _discard(path, cfg)
        return Heard("dtmf", result.terminator)
    if (result.record_ms or 0) < cfg.speech_min_ms or not os.path.exists(path):
        _discard(path, cfg)
        return Heard("no_input")
    try:
        recognition = await s.asr.recognize(path, grammar_for(options))
    except Exception as exc:  # a recogniser failure must not cost the caller the call: keys still work
        log.warning("call %s: speech recognition failed (%s); falling back to keys", s.uuid, exc)
        return Heard("failed")
    finally:
        _discard(path, cfg)
    found = dict(text=recognition.text, phrase=recognition.phrase, confidence=recognition.confidence)
    if recognition.no_input:
        return Heard("no_input", **found)
    chosen = match_option(recognition, options)
    if chosen is not None:
        return Heard("accepted", chosen, **found)
    if recognition.needs_confirmation:
        candidate = match_option(recognition, options, require_accepted=False)
        if candidate is not None:
            return Heard("confirm", candidate, **found)
    return Heard("rejected", **found)


async def confirm(s: "IvrSession", heard: Heard) -> bool:
    """"Did you say X?" -- yes by key 1 or by voice; anything else (no, silence, doubt) is no."""
    words = s.config.confirm_words.get(s.lang, {})
    options = {"1": tuple(words.get("yes", ())), "2": tuple(words.get("no", ()))}
    options = {k: v for k, v in options.items() if v}
    files = await s.files("speech_confirm", choice=heard.phrase or heard.text)
    if options:
        answer = await listen(s, files, options)
        key = answer.key if answer.outcome in ("dtmf", "accepted") else None
    else:
        key = await s.ask(files, s.config.input_timeout) or None
    s.log_step("speech_confirm", f"ivr: confirmation {'yes' if key == '1' else 'no'}", heard=heard.phrase,
               key=key)
    return key == "1"


def _discard(path: str, cfg: Any) -> None:
    if not cfg.keep_speech_recordings:
        try:
            os.unlink(path)
        except OSError:
            pass
