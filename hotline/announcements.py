"""The ACD's position / expected-wait announcements, spoken with Hotline's own prompts.

The ACD asks its announcer for files synchronously, from a timer, while the
caller hears hold music; rendering a prompt is blocking TTS work that runs
in the prompt renderer's threads. So this announcer answers from what is
already rendered: ``queue_position`` for this position and wait when that
audio exists, else the generic ``queue_still_waiting`` (rendered once at
start), and asks the renderer for the exact one in the background so the
next announcement has it. Nothing here names FreeSWITCH's stock sounds,
which a source-built switch does not have.
"""

from __future__ import annotations

import logging
from typing import Any

from acd.estimator import round_for_announcement

log = logging.getLogger(__name__)

POSITION_PROMPT = "queue_position"
FALLBACK_PROMPT = "queue_still_waiting"
#: positions and minutes beyond these are said as these (longer numbers sound like an error anyway)
MAX_POSITION, MAX_MINUTES = 99, 120


class RenderedAnnouncer:
    """``announcer(position, expected_wait) -> [path]`` for :class:`acd.engine.Acd`, from a PromptPlayer."""

    def __init__(self, prompts: Any, language: str = "zh") -> None:
        self.prompts = prompts
        self.language = language
        self._ready: dict[tuple[int, int], list[str]] = {}
        self._asked: set[tuple[int, int]] = set()
        self._fallback: list[str] = []

    def start(self) -> None:
        """Render the fallback announcement now, so the first waiting caller already has one."""
        d = self.prompts.files(FALLBACK_PROMPT, self.language)
        d.addCallbacks(self._set_fallback, lambda f: log.error("announcement %s not rendered: %s", FALLBACK_PROMPT,
                                                               f.getErrorMessage()))

    def _set_fallback(self, files: list[str]) -> None:
        self._fallback = list(files)

    def __call__(self, position: int, expected_wait: float | None) -> list[str]:
        minutes = round_for_announcement(expected_wait)
        if minutes is None:  # no estimate yet: the position alone is not a prompt of its own
            return list(self._fallback)
        key = (min(position, MAX_POSITION), min(minutes, MAX_MINUTES))
        files = self._ready.get(key)
        if files is not None:
            return list(files)
        if key not in self._asked:
            self._asked.add(key)
            d = self.prompts.files(POSITION_PROMPT, self.language, position=key[0], wait=key[1])
            d.addCallbacks(lambda paths: self._ready.__setitem__(key, list(paths)),
                           lambda f: log.warning("announcement for %s not rendered: %s", key, f.getErrorMessage()))
        return list(self._fallback)
