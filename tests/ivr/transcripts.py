"""What a simulated caller heard, read from its transcript (shared by the IVR runtime tests).

A module of its own, not conftest: ``from conftest import`` resolves to whichever
conftest pytest imported first when several test folders run together.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any


def prompts_heard(call: Any) -> list[str]:
    """Prompt ids (file stems) the caller heard, in order; silence and tones left out."""
    out = []
    for entry in call.transcript:
        if entry["event"] != "prompt":
            continue
        for part in entry["file"].replace("file_string://", "").split("!"):
            if part.endswith(".wav") and "/prompts/" in part:
                out.append(Path(part).stem)
    return out


def texts_heard(call: Any) -> list[str]:
    """The words of every prompt the caller heard, in order (from the ``.txt`` beside each prompt WAV)."""
    out = []
    for entry in call.transcript:
        if entry["event"] != "prompt":
            continue
        for part in entry["file"].replace("file_string://", "").split("!"):
            if part.endswith(".wav") and "/prompts/" in part:
                out.append(Path(part).with_suffix(".txt").read_text(encoding="utf-8"))
    return out
