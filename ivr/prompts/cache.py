"""The rendered-audio cache and the uploaded-recording overrides.

A prompt is rendered once: the file name is a hash of everything that changes
the audio (text, voice, rate, engine and converter versions), so a reworded
prompt or an upgraded espeak-ng gets a new file and an unchanged one is never
re-rendered. Files appear atomically (temp file + rename) because the engine
and ``hotline prompts render`` may fill the same cache at once, and
FreeSWITCH must never play half a file. Beside every WAV a ``<file>.txt``
sidecar holds the spoken text; the switch simulator copies it into call
transcripts.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ivr.prompts.tts import DEFAULT_RATE, Synthesizer, convert_to_telephony, is_telephony_wav, render_wav, sox_version

log = logging.getLogger(__name__)

#: Bump when the conversion pipeline changes in a way versions do not show.
PIPELINE_VERSION = "8k-s16-mono/1"
#: Mode of cached files: temp files are created 0600, but FreeSWITCH (often another user) must read them.
READABLE = 0o644
#: Where uploaded recordings go: <dir>/<lang>/<prompt_id>.wav.
DEFAULT_OVERRIDES_DIR = Path(__file__).resolve().parents[2] / "prompts" / "recordings"


def sidecar_path(wav: Path) -> Path:
    """The transcript beside a WAV: ``greeting.wav`` -> ``greeting.wav.txt``."""
    return wav.with_name(wav.name + ".txt")


def cache_key(text: str, voice: str, rate: int, engine_version: str) -> str:
    """Content hash naming the audio for this text as this engine speaks it."""
    blob = json.dumps([text, voice.lower(), rate, engine_version, PIPELINE_VERSION], ensure_ascii=False)
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:32]


def _write_text_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
        os.chmod(tmp, READABLE)
        os.replace(tmp, path)
    except BaseException:
        _unlink(Path(tmp))
        raise


def _unlink(path: Path) -> None:
    try:
        path.unlink()
    except FileNotFoundError:
        pass


@dataclass(frozen=True)
class RenderResult:
    """Where the audio is and how it got there ("rendered", "cached" or "override")."""

    path: Path
    status: str
    text: str


class PromptCache:
    """Renders text to 8 kHz WAV under ``cache_dir`` once per distinct (text, voice, rate, engine)."""

    def __init__(self, cache_dir: str | Path, synthesizer: Synthesizer, rate: int = DEFAULT_RATE) -> None:
        # Absolute: the switch resolves relative names against its own sound directory.
        self.cache_dir = Path(cache_dir).resolve()
        self.synthesizer = synthesizer
        self.rate = rate
        self.engine_version = f"{synthesizer.name}: {synthesizer.version}; {sox_version()}"

    def key(self, text: str, voice: str) -> str:
        """The cache key of this text in this voice."""
        return cache_key(text, voice, self.rate, self.engine_version)

    def path_for(self, text: str, voice: str, lang: str) -> Path:
        """Where the audio for this text lives (whether or not rendered yet)."""
        return self.cache_dir / lang / f"{self.key(text, voice)}.wav"

    def lookup(self, text: str, voice: str, lang: str) -> Path | None:
        """The cached WAV, if it and its sidecar are both there."""
        path = self.path_for(text, voice, lang)
        return path if path.exists() and sidecar_path(path).exists() else None

    def get_or_render(self, text: str, voice: str, lang: str) -> RenderResult:
        """Return the cached audio or render it now (blocking: call from a worker thread)."""
        hit = self.lookup(text, voice, lang)
        if hit is not None:
            return RenderResult(hit, "cached", text)
        path = self.path_for(text, voice, lang)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=".wav", dir=path.parent)
        os.close(fd)
        tmp = Path(tmp_name)
        try:
            render_wav(self.synthesizer, text, voice, self.rate, tmp)
            _write_text_atomic(sidecar_path(path), text)  # sidecar first: a visible WAV always has one
            os.chmod(tmp, READABLE)  # the switch, often another user, plays it
            os.replace(tmp, path)
        except BaseException:
            _unlink(tmp)
            raise
        log.debug("rendered %s (%s) to %s", text[:40], voice, path.name)
        return RenderResult(path, "rendered", text)


class OverrideStore:
    """Uploaded recordings that replace a prompt: ``<dir>/<lang>/<prompt_id>.wav``."""

    def __init__(self, directory: str | Path = DEFAULT_OVERRIDES_DIR, cache_dir: str | Path | None = None) -> None:
        self.directory = Path(directory).resolve()
        self.cache_dir = Path(cache_dir).resolve() if cache_dir is not None else None

    def find(self, prompt_id: str, lang: str) -> Path | None:
        """The recording for this prompt and language, if one was uploaded."""
        path = self.directory / lang / f"{prompt_id}.wav"
        return path if path.is_file() else None

    def resolve(self, prompt_id: str, lang: str, text: str) -> RenderResult | None:
        """The playable override (converted to 8 kHz if uploaded in another format) with its sidecar."""
        path = self.find(prompt_id, lang)
        if path is None:
            return None
        if not is_telephony_wav(path):
            path = self._converted(path, lang)
        if not sidecar_path(path).exists():
            try:
                _write_text_atomic(sidecar_path(path), text)
            except OSError as exc:  # a read-only upload folder must not stop the call
                log.warning("cannot write transcript beside %s: %s", path, exc)
        return RenderResult(path, "override", text)

    def _converted(self, path: Path, lang: str) -> Path:
        if self.cache_dir is None:
            raise ValueError(f"{path} is not 8 kHz mono 16-bit and no cache_dir was given to convert it into")
        digest = hashlib.sha256(path.read_bytes()).hexdigest()[:32]
        out = self.cache_dir / lang / f"override-{path.stem}-{digest}.wav"
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{out.stem}.", suffix=".wav", dir=out.parent)
            os.close(fd)
            try:
                convert_to_telephony(path, Path(tmp_name))
                os.chmod(tmp_name, READABLE)
                os.replace(tmp_name, out)
            except BaseException:
                _unlink(Path(tmp_name))
                raise
        return out
