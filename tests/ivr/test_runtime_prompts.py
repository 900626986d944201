"""The prompts the runtime says by id are all in the catalogue, and menu validation checks them."""

from __future__ import annotations

import logging
import re
from pathlib import Path

from twisted.internet import defer

from ivr.menu import load_yaml
from ivr.menu.validate import validate
from ivr.prompts.catalogue import Catalogue
from ivr.runtime.prompts import RUNTIME_PROMPTS, RUNTIME_TEXTS, RendererPromptPlayer

ROOT = Path(__file__).resolve().parents[2]
#: say("x"), choose("x"), enter_digits("x"), files("x"), prompt="x", ("x", {...}) and "order_status_x" returns
USES = re.compile(r'(?:say|choose|enter_digits|files)\("([a-z_]+)"|prompt="([a-z_]+)"|\("([a-z_]+)", \{'
                  r'|return "(order_status_[a-z]+)"|record_message\(s, "([a-z_]+)"|find_product\(s, "([a-z_]+)"')


def test_runtime_prompts_are_all_in_the_catalogue_in_both_languages():
    catalogue = Catalogue.load()
    missing = sorted(p for p in RUNTIME_PROMPTS if p not in catalogue)
    assert missing == []
    assert all(set(catalogue.get(p).texts) >= {"zh", "en"} for p in RUNTIME_PROMPTS)


def test_every_prompt_id_in_the_runtime_code_is_registered():
    used = set()
    for path in (ROOT / "ivr" / "runtime").rglob("*.py"):
        for match in USES.finditer(path.read_text(encoding="utf-8")):
            used |= {g for g in match.groups() if g}
    assert used, "the scan found nothing: the pattern is out of date"
    assert sorted(used - RUNTIME_PROMPTS) == []


def test_runtime_texts_are_only_a_small_safety_net():
    assert set(RUNTIME_TEXTS) <= {"system_error", "transferring", "too_many_errors"}


def test_validation_against_the_catalogue_reports_a_missing_runtime_prompt():
    menu = load_yaml(ROOT / "menus" / "demo.yaml")
    full = Catalogue.load()
    assert validate(menu, full) == []
    lacking = Catalogue([p for p in full if p.id not in ("speech_confirm", "voicemail_saved")])
    problems = [str(p) for p in validate(menu, lacking)]
    assert any("speech_confirm" in p and "said by the IVR itself" in p for p in problems)
    assert any("voicemail_saved" in p for p in problems)
    assert validate(menu) == []  # without a catalogue nothing is checked against it


class _Renderer:
    class builder:  # noqa: N801  (attribute shape of PromptRenderer)
        catalogue = Catalogue([])

    def render_text(self, words, lang):
        self.said = (words, lang)
        return defer.succeed(Path("/tmp/x.wav"))


def test_the_safety_net_speaks_and_logs_an_error(caplog):
    renderer = _Renderer()
    player = RendererPromptPlayer(renderer)
    with caplog.at_level(logging.ERROR, logger="ivr.runtime.prompts"):
        result = []
        player.files("system_error", "en").addCallback(result.append)
    assert result == [["/tmp/x.wav"]]
    assert renderer.said == (RUNTIME_TEXTS["system_error"]["en"], "en")
    assert "missing from the catalogue" in caplog.text
