"""Speech input in menus, end to end with the real Korean Vosk model.

simulator caller ``speak``s an espeak-ng Korean WAV (``sox -D`` to 8 kHz) ->
the switch's ``record`` -> loopback ESL -> IvrSession -> AsrService (Vosk in
its worker pool, grammar from the node's keywords) -> the option, the
"did you say ...?" confirmation, or the fall-back to keys.

Utterances were picked for being recognised the same way on every run with
dither off (see test_asr.py). What reaches the recogniser is the simulator's
recording: the WAV cut where silence detection says the speech ended (its
~0.3 s silent tail dropped), which the model hears a little differently from
the whole file. Measured that way: in the grammar ["주문", "상담원"],
"상담원" is heard at confidence 1.0 (accepted) and "예" is forced onto "주문"
at 0.534 (confirm); in ["예", "아니요"], "예" is heard at 1.0.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import pytest_twisted
from sqlalchemy import select
from twisted.internet import reactor

from crm_core.db import transaction
from crm_core.models import Interaction
from ivr.asr import AsrService
from ivr.menu.model import HangupNode, MenuDefinition, MenuNode, Option, QueueNode

from transcripts import prompts_heard, texts_heard

try:
    from asr_fixtures import asr_model_dir, say  # noqa: F401  (pytest fixtures)
except ImportError:  # tests/ became a package
    from tests.ivr.asr_fixtures import asr_model_dir, say  # noqa: F401

#: Menus speak zh/en; the only model here is Korean, so the test menu's zh keywords are Korean words.
KO_CONFIRM = {"zh": {"yes": ("예",), "no": ("아니요",)}, "en": {"yes": ("yes",), "no": ("no",)}}
SPEAK_AFTER = 0.3  # the caller starts talking this long after the prompt ends (recording has started)


def speech_menu() -> MenuDefinition:
    main = MenuNode(id="main", prompt="main_menu", timeout=1.0, retries=2, options={
        "1": Option("goodbye", {"zh": ("주문",)}, label="order"),
        "0": Option("agent", {"zh": ("상담원",)}, label="agent"),
    })
    return MenuDefinition(name="main", entry="main", nodes={
        "main": main,
        "agent": QueueNode(id="agent", prompt="transferring", queue="general", skills=("sales",)),
        "goodbye": HangupNode(id="goodbye", prompt="goodbye"),
    })


@pytest.fixture(scope="module")
def asr_service(asr_model_dir: Path):
    service = AsrService(asr_model_dir, threshold=0.6, confirm_threshold=0.4, reactor=reactor, max_workers=1)
    yield service
    service.stop()


@pytest.fixture
def speech_rig(rig, asr_service):
    rig.app.asr = asr_service
    rig.app.config = rig.config = dataclasses.replace(
        rig.config, speech_silence_seconds=1, speech_max_seconds=4, confirm_words=KO_CONFIRM)
    rig.publish(speech_menu())
    return rig


def events(rig, call_uuid):
    with transaction(rig.factory) as s:
        return [i.detail for i in s.scalars(
            select(Interaction).where(Interaction.call_uuid == call_uuid).order_by(Interaction.id))]


def apps(call):
    return [e["app"] for e in call.transcript if e["event"] == "app"]


@pytest_twisted.ensureDeferred
async def test_speech_spoken_choice_is_recognised_and_routed(speech_rig, say):
    call = await speech_rig.call(f"wait_prompt 2; wait {SPEAK_AFTER}; speak {say('상담원')}; wait_prompt 1; wait 0.3; hangup")
    assert prompts_heard(call) == ["greeting", "main_menu", "transferring"]
    assert texts_heard(call)[-1] == "正在为您转接人工客服，请稍候。"
    assert "record" in apps(call)
    request = speech_rig.handoff.requests[-1]
    assert (request.reason, request.queue, request.skills) == ("caller_choice", "general", ("sales",))
    logged = events(speech_rig, call.uuid)
    spoken = [d for d in logged if d["event"] == "speech"]
    assert spoken and spoken[0]["phrase"] == "상담원" and spoken[0]["key"] == "0"
    assert spoken[0]["confidence"] >= 0.6
    assert any(d["event"] == "option" and d["key"] == "0" for d in logged)
    assert speech_rig.app.stats.speech["accepted"] == 1
    assert not list((speech_rig.config.recordings_dir / "speech").glob("*.wav"))  # recordings not kept


@pytest_twisted.ensureDeferred
async def test_speech_low_confidence_asks_did_you_say_and_a_spoken_yes_confirms(speech_rig, say):
    script = (f"wait_prompt 2; wait {SPEAK_AFTER}; speak {say('예')}; "
              f"wait_prompt 1; wait {SPEAK_AFTER}; speak {say('예')}; wait_prompt 1; wait 1")
    call = await speech_rig.call(script)
    heard = prompts_heard(call)
    assert heard == ["greeting", "main_menu", "speech_confirm_choice-주문", "goodbye"]
    assert texts_heard(call)[2] == "您是说“주문”吗？是请按一或说“是”，不是请按二或说“不是”。"
    logged = events(speech_rig, call.uuid)
    maybe = [d for d in logged if d["event"] == "speech"][0]
    assert (maybe["outcome"], maybe["phrase"], maybe["key"]) == ("confirm", "주문", "1")
    assert 0.4 <= maybe["confidence"] < 0.6
    assert [d["key"] for d in logged if d["event"] == "speech_confirm"] == ["1"]
    assert any(d["event"] == "option" and d["key"] == "1" for d in logged)
    assert apps(call).count("record") == 2 and speech_rig.app.stats.speech["confirm"] == 1


@pytest_twisted.ensureDeferred
async def test_speech_confirmation_denied_falls_back_to_keys(speech_rig, say):
    script = (f"wait_prompt 2; wait {SPEAK_AFTER}; speak {say('예')}; wait_prompt 1; wait 0.05; press 2; "
              "wait_prompt 2; wait 0.05; press 0; wait_prompt 1; wait 0.3; hangup")
    call = await speech_rig.call(script)
    assert prompts_heard(call) == ["greeting", "main_menu", "speech_confirm_choice-주문", "speech_not_understood",
                                   "main_menu", "transferring"]
    assert texts_heard(call)[3] == "对不起，没有听清您的回答，请用电话按键选择。"
    assert apps(call).count("record") == 2  # the menu and the confirmation; the retry takes keys only
    assert apps(call)[-3:].count("play_and_get_digits") == 0 and "play_and_get_digits" in apps(call)
    logged = events(speech_rig, call.uuid)
    assert [d["key"] for d in logged if d["event"] == "speech_confirm"] == ["2"]
    assert "speech_rejected" in [d["event"] for d in logged]
    assert speech_rig.handoff.requests[-1].reason == "caller_choice"


@pytest_twisted.ensureDeferred
async def test_speech_silence_counts_as_a_timeout_and_falls_back_to_keys(speech_rig):
    call = await speech_rig.call("wait_prompt 4; wait 0.05; press 1; wait_prompt 1; wait 1")
    assert prompts_heard(call) == ["greeting", "main_menu", "timeout", "main_menu", "goodbye"]
    assert apps(call).count("record") == 1
    logged = [d["event"] for d in events(speech_rig, call.uuid)]
    assert "speech_no_input" in logged and "timeout" not in logged
    assert speech_rig.app.stats.errors["timeout"] == 1 and speech_rig.app.stats.speech["no_input"] == 1


@pytest_twisted.ensureDeferred
async def test_speech_below_the_confirm_threshold_is_not_understood_and_takes_keys(speech_rig, say, asr_model_dir):
    strict = AsrService(asr_model_dir, threshold=0.6, confirm_threshold=0.55, reactor=reactor, max_workers=1)
    speech_rig.app.asr = strict  # same model (loaded once per process), stricter bands: 0.534 is rejected
    try:
        call = await speech_rig.call(f"wait_prompt 2; wait {SPEAK_AFTER}; speak {say('예')}; "
                                     "wait_prompt 2; wait 0.05; press 0; wait_prompt 1; wait 0.3; hangup")
    finally:
        strict.stop()
    assert prompts_heard(call) == ["greeting", "main_menu", "speech_not_understood", "main_menu", "transferring"]
    rejected = [d for d in events(speech_rig, call.uuid) if d["event"] == "speech_rejected"]
    assert rejected and rejected[0]["outcome"] == "rejected" and rejected[0]["confidence"] < 0.55
    assert speech_rig.app.stats.errors["timeout"] == 1


@pytest_twisted.ensureDeferred
async def test_speech_a_key_during_the_prompt_wins_and_nothing_is_recorded(speech_rig):
    speech_rig.prompts.seconds = 1.0
    call = await speech_rig.call("wait_prompt 1; wait 0.3; press 0; wait_prompt 1; wait 0.3; hangup")
    assert prompts_heard(call) == ["greeting", "main_menu", "transferring"]
    assert "record" not in apps(call)
    press = [e["t"] for e in call.transcript if e["event"] == "press"][0]
    transferring = [e["t"] for e in call.transcript if e["event"] == "prompt" and "transferring" in e["file"]][0]
    assert transferring - press < 1.0  # the 1 s menu prompt was cut short


@pytest_twisted.ensureDeferred
async def test_speech_a_key_during_the_recording_wins(speech_rig, say):
    call = await speech_rig.call("wait_prompt 2; wait 0.3; press 1; wait_prompt 1; wait 1")
    assert prompts_heard(call) == ["greeting", "main_menu", "goodbye"]
    assert "record" in apps(call)
    assert not [d for d in events(speech_rig, call.uuid) if d["event"].startswith("speech")]


@pytest_twisted.ensureDeferred
async def test_speech_without_a_model_menus_take_keys_only(speech_rig):
    speech_rig.app.asr = AsrService(None, reactor=reactor)
    call = await speech_rig.call("wait_prompt 2; wait 0.05; press 0; wait_prompt 1; wait 0.3; hangup")
    assert prompts_heard(call) == ["greeting", "main_menu", "transferring"]
    assert "record" not in apps(call) and "play_and_get_digits" in apps(call)
