"""Server paths in what the admin UI shows: names inside the configured folders, never absolute paths.

An error from sox, espeak-ng or the file system names the file it choked on
with its full path (``/srv/hotline/var/prompts/zh/…``), which tells a
visitor how the server is laid out. Messages and transcripts shown in the UI
go through :func:`scrub`: a path inside a configured folder becomes
``<folder label>/<path inside it>`` (``tts-cache/zh/main_menu.wav``; the
labels are ``prompt-recordings``, ``tts-cache``, ``sounds``, ``var``,
``voicemail`` and ``tmp``), any other absolute path its file name.
"""

from __future__ import annotations

import re
import tempfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

#: An absolute path inside text: a "/" not preceded by a word character, ":" or "/" (so URLs are left alone).
_ABSOLUTE = re.compile(r"(?<![\w:/.~-])/[^\s'\"`()<>,;]+")


def path_roots(config: Mapping[str, Any]) -> list[tuple[str, Path]]:
    """(label, folder) of the folders the admin app works in, from its config, longest first."""
    from ivr.prompts.cache import DEFAULT_OVERRIDES_DIR

    roots: list[tuple[str, Path]] = []
    for key, label in (("PROMPT_OVERRIDES_DIR", "prompt-recordings"), ("TTS_CACHE_DIR", "tts-cache")):
        folder = config.get(key) or (DEFAULT_OVERRIDES_DIR if key == "PROMPT_OVERRIDES_DIR" else None)
        if folder:
            roots.append((label, Path(folder)))
    for key, label in (("SIM_SOUNDS_DIR", "sounds"), ("HOTLINE_VAR_DIR", "var")):
        if config.get(key):
            roots.append((label, Path(config[key])))
    for folder in config.get("VOICEMAIL_DIRS") or []:
        roots.append(("voicemail", Path(folder)))
    roots.append(("tmp", Path(tempfile.gettempdir())))
    resolved = []
    for label, folder in roots:
        try:
            resolved.append((label, folder.resolve()))
        except OSError:
            continue
    return sorted(resolved, key=lambda item: len(str(item[1])), reverse=True)


def shown_path(path: str | Path, roots: list[tuple[str, Path]]) -> str:
    """``path`` as the UI may show it: ``label/inside`` for a configured folder, else the file name."""
    candidate = Path(path)
    for label, folder in roots:
        for form in (candidate, _resolved(candidate)):
            if form is not None and form.is_relative_to(folder):
                inside = form.relative_to(folder).as_posix()
                return label if inside == "." else f"{label}/{inside}"
    return candidate.name or "?"


def _resolved(path: Path) -> Path | None:
    try:
        return path.resolve()
    except OSError:
        return None


def scrub(text: str, roots: list[tuple[str, Path]] | None = None) -> str:
    """``text`` with every absolute path replaced by :func:`shown_path` (roots: the current app's by default)."""
    if roots is None:
        roots = current_roots()
    return _ABSOLUTE.sub(lambda match: shown_path(match.group(0), roots), text)


def current_roots() -> list[tuple[str, Path]]:
    """The path roots of the current Flask app (just the temporary folder outside a request)."""
    from flask import current_app, has_app_context

    return path_roots(current_app.config) if has_app_context() else path_roots({})


def scrub_value(value: Any, roots: list[tuple[str, Path]]) -> Any:
    """``value`` (text, or a dict / list holding text) with its absolute paths scrubbed."""
    if isinstance(value, str):
        return scrub(value, roots)
    if isinstance(value, dict):
        return {k: scrub_value(v, roots) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_value(v, roots) for v in value]
    return value
