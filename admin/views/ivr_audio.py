"""Prompt audio for the admin: TTS renders for "listen" and test-call phrases, and uploaded recordings.

The admin builds its own blocking :class:`~ivr.prompts.renderer.PromptBuilder`
(same cache folder and voices as the engine, from the app config): Flask
requests already run on a pool thread, so calling it directly never blocks the
reactor. Uploaded recordings go where the engine's ``OverrideStore`` looks
(``<overrides>/<lang>/<prompt id>.wav``); the store's own ``resolve`` converts
them to 8 kHz mono, so an upload that sox cannot convert is refused and the
previous recording kept. Errors name files relative to the configured folders
(``admin.paths``), never with the server's absolute paths.
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
from pathlib import Path
from typing import Any

from flask import Flask, current_app

from admin.paths import scrub
from ivr.prompts.cache import DEFAULT_OVERRIDES_DIR, OverrideStore, PromptCache
from ivr.prompts.catalogue import Catalogue
from ivr.prompts.renderer import PromptBuilder
from ivr.prompts.tts import is_telephony_wav, make_synthesizer, wav_duration

BUILDER_KEY = "hotline_prompt_builder"
#: Without the engine's config (a bare app in tests): the settings' defaults.
DEFAULT_TTS_CACHE_DIR = "var/prompts"
DEFAULT_VOICES = {"zh": "sit/cmn-latn-pinyin", "en": "gmw/en-us"}
PROMPT_ID_RE = re.compile(r"^[a-z0-9_]{1,60}$")
MAX_RECORDING_BYTES = 20 * 1024 * 1024
_lock = threading.Lock()


class AudioError(ValueError):
    """A prompt cannot be rendered or a recording is refused; ``str(exc)`` is for the page."""


def prompt_builder(app: Flask | None = None) -> PromptBuilder:
    """The app's prompt builder, made once from ``TTS_CACHE_DIR``, ``TTS_VOICES``, ``PROMPT_OVERRIDES_DIR``."""
    app = app or current_app._get_current_object()  # type: ignore[attr-defined]
    builder = app.extensions.get(BUILDER_KEY)
    if builder is not None:
        return builder
    with _lock:
        builder = app.extensions.get(BUILDER_KEY)
        if builder is None:
            config = app.config
            cache_dir = config.get("TTS_CACHE_DIR") or DEFAULT_TTS_CACHE_DIR
            voices = config.get("TTS_VOICES") or dict(DEFAULT_VOICES)
            overrides = OverrideStore(config.get("PROMPT_OVERRIDES_DIR") or DEFAULT_OVERRIDES_DIR, cache_dir)
            catalogue = Catalogue.load(config["PROMPT_CATALOGUE_DIR"]) if config.get("PROMPT_CATALOGUE_DIR") \
                else Catalogue.load()
            cache = PromptCache(cache_dir, make_synthesizer(config.get("TTS_ENGINE") or "pyttsx3"))
            builder = PromptBuilder(catalogue, cache, voices, overrides)
            app.extensions[BUILDER_KEY] = builder
    return builder


def _check_lang(builder: PromptBuilder, lang: str) -> None:
    if lang not in builder.voices:
        raise AudioError(f"no voice for language {lang!r}")


def render_text(builder: PromptBuilder, text: str, lang: str) -> Path:
    """A WAV of ``text`` spoken in ``lang`` (cached)."""
    _check_lang(builder, lang)
    if not text.strip():
        raise AudioError("there is no text to say in this language")
    if len(text) > 2000:
        raise AudioError("the text is too long (2000 characters at most)")
    try:
        return builder.build_text(text.strip(), lang).path
    except Exception as exc:  # TTS/sox failures: tell the user, the page stays up
        raise AudioError(f"text-to-speech failed: {scrub(str(exc))}") from None


def render_prompt(builder: PromptBuilder, prompt_id: str, lang: str) -> Path:
    """A WAV of a catalogue prompt (its uploaded recording when there is one)."""
    _check_lang(builder, lang)
    if prompt_id not in builder.catalogue:
        raise AudioError(f"prompt {prompt_id!r} is not in the catalogue")
    prompt = builder.catalogue.get(prompt_id)
    if lang not in prompt.texts:
        raise AudioError(f"prompt {prompt_id!r} has no {lang!r} text")
    if prompt.variables and (builder.overrides is None or builder.overrides.find(prompt_id, lang) is None):
        # Say the template with its placeholders named, so the wording can still be checked.
        text = re.sub(r"\{(\w+)[^}]*\}", lambda m: m.group(1), prompt.texts[lang])
        return render_text(builder, text, lang)
    try:
        return builder.build(prompt_id, lang).path
    except Exception as exc:
        raise AudioError(f"rendering {prompt_id!r} failed: {scrub(str(exc))}") from None


def recording_status(builder: PromptBuilder, prompt_id: str, lang: str) -> bool:
    """Whether an uploaded recording replaces this prompt in this language."""
    return builder.overrides is not None and builder.overrides.find(prompt_id, lang) is not None


def save_recording(builder: PromptBuilder, prompt_id: str, lang: str, data: bytes) -> dict[str, Any]:
    """Validate and install an uploaded WAV as the prompt's recording; returns what was stored."""
    _check_lang(builder, lang)
    store = builder.overrides
    if store is None:
        raise AudioError("uploaded recordings are not enabled")
    if not PROMPT_ID_RE.match(prompt_id) or prompt_id not in builder.catalogue:
        raise AudioError(f"prompt {prompt_id!r} is not in the catalogue")
    if not data:
        raise AudioError("the file is empty")
    if len(data) > MAX_RECORDING_BYTES:
        raise AudioError("the file is larger than 20 MB")
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        raise AudioError("not a WAV file (RIFF/WAVE header missing)")
    folder = store.directory / lang
    final = folder / f"{prompt_id}.wav"
    try:
        folder.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{prompt_id}.", suffix=".wav", dir=folder)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        backup = None
        if final.exists():
            backup = final.with_name(final.name + ".previous")
            os.replace(final, backup)
        os.replace(tmp_name, final)
    except OSError as exc:
        raise AudioError(f"the recording could not be stored ({scrub(str(exc))})") from None
    sidecar = final.with_name(final.name + ".txt")
    try:
        text = builder.catalogue.render_text(prompt_id, lang) if not builder.catalogue.get(prompt_id).variables \
            else builder.catalogue.get(prompt_id).texts.get(lang, "")
        if sidecar.exists():
            sidecar.unlink()
        result = store.resolve(prompt_id, lang, text)  # converts to 8 kHz mono when needed
        if result is None or not is_telephony_wav(result.path):
            raise AudioError("the recording could not be converted to 8 kHz mono")
        seconds = wav_duration(result.path)
        if seconds <= 0:
            raise AudioError("the recording has no audio")
    except Exception as exc:
        os.replace(backup, final) if backup is not None else final.unlink(missing_ok=True)
        if isinstance(exc, AudioError):
            raise
        first = (str(exc).splitlines() or [type(exc).__name__])[0]
        raise AudioError(f"not a usable WAV recording ({scrub(first)[:200]})") from None
    if backup is not None:
        backup.unlink(missing_ok=True)
    return {"prompt": prompt_id, "lang": lang, "seconds": round(seconds, 2), "converted": result.path != final}
