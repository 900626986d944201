"""Automated campaigns on the real path: the dialer rig plus the IVR's campaign script runner.

The runner gets the IVR's own gateway (``CrmGateway``) over the test session
and a prompt player that writes one short WAV per text (with a ``.txt``
beside it holding the words said, merge fields filled in), so what the
callee heard can be read back from the simulator's ``prompt``
notifications.
"""

from __future__ import annotations

import hashlib
import wave
from pathlib import Path
from typing import Any, Mapping

from twisted.internet import defer

from hotline.db_gateway import InlineGateway
from ivr.campaign import CampaignScriptRunner
from ivr.crm_gateway import CrmGateway
from ivr.menu import load_yaml
from ivr.menu.store import import_and_publish
from ivr.runtime.session import IvrConfig

REPO = Path(__file__).resolve().parents[2]
DELIVERY_CARE = REPO / "menus" / "delivery_care.yaml"
QUESTIONS = [
    {"key": "satisfied", "prompt": "{name}，您对这次配送满意吗？满意请按1，不满意请按2。", "valid_digits": "12"},
    {"key": "courier_rating", "prompt": "请为快递员打分，1到5分。", "valid_digits": "12345"},
]
TEXT_SECONDS = 2.0
PROMPT_SECONDS = 1.0


class TextPrompts:
    """A PromptPlayer: ``<root>/<lang>/<digest>.wav`` per text or catalogue prompt, the words in a ``.txt``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.said: list[str] = []

    def files(self, prompt_id: str | None, lang: str, text: Mapping[str, str] | None = None,
              **variables: Any) -> defer.Deferred:
        if text and text.get(lang):
            words, seconds = text[lang], TEXT_SECONDS
        elif prompt_id:
            words, seconds = f"<{prompt_id}>", PROMPT_SECONDS
        else:
            return defer.fail(KeyError("nothing to say"))
        self.said.append(words)
        path = self.root / lang / (hashlib.sha1(words.encode()).hexdigest()[:16] + ".wav")
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            with wave.open(str(path), "wb") as out:
                out.setnchannels(1)
                out.setsampwidth(2)
                out.setframerate(8000)
                out.writeframes(b"\x00\x00" * int(seconds * 8000))
            path.with_suffix(".txt").write_text(words, encoding="utf-8")
        return defer.succeed([str(path)])


def publish_script(session: Any, path: Path = DELIVERY_CARE, **changes: Any) -> Any:
    import dataclasses

    menu = load_yaml(path)
    if changes:
        menu = dataclasses.replace(menu, **changes)
    return import_and_publish(session, menu, by="test")


def runner_for(rig: Any) -> CampaignScriptRunner:
    """The runner as the engine builds it: the IVR's gateway and prompts, the rig's clock."""
    rig.prompts = TextPrompts(rig.tmp_path / "prompts")
    rig.crm = CrmGateway(InlineGateway(rig.session))
    rig.runner = CampaignScriptRunner(rig.crm, rig.prompts, clock=rig.clock,
                                      config=IvrConfig(end_prompt="goodbye"))
    return rig.runner


def heard(rig: Any, call_uuid: str) -> list[str]:
    """What the callee of ``call_uuid`` heard, in order (the ``.txt`` of every prompt played to it)."""
    return [text for uuid, text in rig.heard if uuid == call_uuid]


def watch_prompts(rig: Any) -> None:
    rig.heard = []

    def on(kind: str, data: dict) -> None:
        if kind == "prompt" and not data["target"].startswith("silence_stream"):
            rig.heard.append((data["channel"].uuid, data.get("text") or data["target"]))

    rig.sim.core.listeners.append(on)


def ivr_campaign(rig: Any, numbers: list[str], data: list[dict] | None = None, **settings: Any) -> Any:
    settings.setdefault("questions", QUESTIONS)
    return rig.campaign(numbers, mode="ivr", ivr_script="delivery_care", data=data, **settings)


__all__ = ["QUESTIONS", "TextPrompts", "heard", "ivr_campaign", "publish_script", "runner_for",
           "watch_prompts"]
