"""Prompts the switch plays on its own, rendered by Hotline into a folder FreeSWITCH reads.

Most prompts are played by the engine, which passes FreeSWITCH the path of
a WAV in the prompt cache. A few are played by the dialplan while no engine
is connected (the reconnect loop's "one moment please"); they must not rely
on FreeSWITCH's optional sound packages, and the switch does not know the
caller's language. So each is rendered from the catalogue in every language
it has, joined into one 8 kHz WAV under a fixed name in the cache's
``switch`` folder (``vars.xml``: ``hotline_switch_prompts_dir``), with the
usual ``.txt`` transcript beside it. ``hotline prompts render`` writes them,
and the engine does at start when they are missing or stale.
"""

from __future__ import annotations

import os
import tempfile
import wave
from pathlib import Path
from typing import Any

from ivr.prompts.cache import sidecar_path
from ivr.prompts.tts import CHANNELS, SAMPLE_RATE, SAMPLE_WIDTH

#: catalogue ids the dialplans play by file name (``<id>.wav`` in the switch folder)
SWITCH_PROMPTS: tuple[str, ...] = ("reconnect_hold",)
SWITCH_FOLDER = "switch"
#: silence between the languages of one switch prompt
GAP_SECONDS = 0.4


def switch_prompts_dir(cache_dir: str | Path) -> Path:
    """Where the switch prompts of a prompt cache live (absolute: FreeSWITCH resolves nothing relative)."""
    return Path(cache_dir).resolve() / SWITCH_FOLDER


def switch_prompt_path(cache_dir: str | Path, prompt_id: str) -> Path:
    """The file the dialplan plays for ``prompt_id``."""
    return switch_prompts_dir(cache_dir) / f"{prompt_id}.wav"


def render_switch_prompts(builder: Any) -> list[Path]:
    """Render every switch prompt in all its languages and write the joined files (blocking)."""
    folder = switch_prompts_dir(builder.cache.cache_dir)
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for prompt_id in SWITCH_PROMPTS:
        prompt = builder.catalogue.get(prompt_id)
        parts = [builder.build(prompt_id, lang) for lang in prompt.texts if lang in builder.voices]
        target = folder / f"{prompt_id}.wav"
        _write_joined(target, [part.path for part in parts])
        _write_if_changed(sidecar_path(target), " / ".join(part.text for part in parts).encode("utf-8"))
        written.append(target)
    return written


def _write_joined(target: Path, parts: list[Path]) -> None:
    gap = b"\x00" * int(SAMPLE_RATE * GAP_SECONDS) * SAMPLE_WIDTH * CHANNELS
    frames = []
    for part in parts:
        with wave.open(str(part), "rb") as wav:
            if (wav.getframerate(), wav.getnchannels(), wav.getsampwidth()) != (SAMPLE_RATE, CHANNELS, SAMPLE_WIDTH):
                raise ValueError(f"{part} is not 8 kHz mono 16-bit")
            frames.append(wav.readframes(wav.getnframes()))
    fd, tmp = tempfile.mkstemp(prefix=f".{target.stem}.", suffix=".wav", dir=target.parent)
    os.close(fd)
    with wave.open(tmp, "wb") as out:
        out.setnchannels(CHANNELS)
        out.setsampwidth(SAMPLE_WIDTH)
        out.setframerate(SAMPLE_RATE)
        out.writeframes(gap.join(frames))
    _replace_if_changed(Path(tmp), target)


def _write_if_changed(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    _replace_if_changed(Path(tmp), path)


def _replace_if_changed(tmp: Path, path: Path) -> None:
    """Atomically put ``tmp`` at ``path`` unless it holds the same bytes (a switch may be playing it)."""
    if path.exists() and path.read_bytes() == tmp.read_bytes():
        tmp.unlink()
        return
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)
