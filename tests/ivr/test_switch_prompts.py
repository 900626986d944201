"""The prompts FreeSWITCH plays by itself: rendered by Hotline, every language in one file, readable by the switch."""

from __future__ import annotations

import os
import stat
import wave

from ivr.prompts.cache import PromptCache, sidecar_path
from ivr.prompts.catalogue import Catalogue
from ivr.prompts.renderer import PromptBuilder
from ivr.prompts.switch_prompts import SWITCH_PROMPTS, render_switch_prompts, switch_prompt_path, switch_prompts_dir
from ivr.prompts.tts import EspeakCliSynthesizer, wav_duration

VOICES = {"zh": "sit/cmn-latn-pinyin", "en": "gmw/en-us"}


def test_switch_prompts_hold_every_language_under_a_fixed_name_and_the_switch_can_read_them(tmp_path):
    builder = PromptBuilder(Catalogue.load(), PromptCache(tmp_path / "cache", EspeakCliSynthesizer()), VOICES)
    written = render_switch_prompts(builder)
    assert written == [switch_prompt_path(tmp_path / "cache", p) for p in SWITCH_PROMPTS]
    target = switch_prompt_path(tmp_path / "cache", "reconnect_hold")
    assert target.parent == switch_prompts_dir(tmp_path / "cache") == (tmp_path / "cache" / "switch").resolve()
    parts = [builder.build("reconnect_hold", lang) for lang in ("zh", "en")]
    with wave.open(str(target), "rb") as w:
        assert (w.getframerate(), w.getnchannels(), w.getsampwidth()) == (8000, 1, 2)
    assert wav_duration(target) > sum(wav_duration(p.path) for p in parts)  # both, with a gap between
    assert sidecar_path(target).read_text(encoding="utf-8") == " / ".join(p.text for p in parts)
    for path in (target, parts[0].path):
        assert stat.S_IMODE(os.stat(path).st_mode) & 0o044 == 0o044  # group and others may read it
    before = target.stat().st_mtime_ns
    render_switch_prompts(builder)
    assert target.stat().st_mtime_ns == before  # unchanged audio is not rewritten under a playing switch


def test_the_reconnect_prompt_is_in_the_catalogue_in_every_language():
    prompt = Catalogue.load().get("reconnect_hold")
    assert set(prompt.texts) == {"zh", "en"} and prompt.is_static
