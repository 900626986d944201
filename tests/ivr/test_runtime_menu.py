"""The IVR session end to end: simulator -> loopback ESL -> CallServer -> IvrSession, transcript asserted."""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path

import pytest_twisted
from sqlalchemy import select

from crm_core.db import transaction
from crm_core.models import Interaction
from ivr.menu import load_yaml
from ivr.menu.model import WEEKDAYS

from transcripts import prompts_heard

DEMO = Path(__file__).resolve().parents[2] / "menus" / "demo.yaml"


def demo_menu(**changes):
    """The demo menu, always open, with a quick language menu."""
    menu = load_yaml(DEMO)
    nodes = dict(menu.nodes)
    nodes["language"] = dataclasses.replace(nodes["language"], timeout=0.4)
    nodes["main"] = dataclasses.replace(nodes["main"], timeout=1.0, retries=2)
    always = {day: ((dt.time(0), dt.time.max),) for day in WEEKDAYS}  # stored as 00:00-24:00
    hours = dataclasses.replace(menu.business_hours, weekly=always, holidays=())
    return dataclasses.replace(menu, business_hours=hours, nodes=nodes, **changes)


def interactions(rig, call_uuid):
    with transaction(rig.factory) as s:
        return [(i.summary, i.detail) for i in s.scalars(
            select(Interaction).where(Interaction.call_uuid == call_uuid).order_by(Interaction.id))]


@pytest_twisted.ensureDeferred
async def test_runtime_unknown_caller_language_switch_to_english_then_agent(rig):
    rig.publish(demo_menu())
    call = await rig.call("wait_prompt 2; wait 0.05; press 2; wait_prompt 1; wait 0.05; press 0; wait_prompt 1; wait 0.3; hangup")
    heard = prompts_heard(call)
    assert heard[:2] == ["greeting", "language_menu"]  # the language menu: zh then en, one prompt
    assert "main_menu" in heard[2:]
    main_index = heard.index("main_menu", 2)
    # after pressing 2 the main menu is in English
    entries = [e["file"] for e in call.transcript if e["event"] == "prompt" and "main_menu" in e["file"]]
    assert "/en/" in entries[0]
    assert heard[main_index + 1] == "transferring"
    apps = [(e["app"], e["arg"]) for e in call.transcript if e["event"] == "app"]
    assert ("transfer", "agents XML default") in apps
    request = rig.handoff.requests[-1]
    assert (request.reason, request.language, request.queue, request.skills) == ("caller_choice", "en", "general",
                                                                                ("sales",))
    logged = [d["event"] for _, d in interactions(rig, call.uuid)]
    assert logged[:3] == ["start", "option", "language"]
    assert "handoff" in logged
    assert rig.app.stats.options[("language", "2")] == 1


@pytest_twisted.ensureDeferred
async def test_runtime_invalid_key_plays_invalid_prompt_then_retry_works(rig):
    rig.publish(demo_menu())
    call = await rig.call("wait_prompt 2; wait 0.05; press 1; wait_prompt 1; wait 0.05; press 8; wait_prompt 2; wait 0.05; press 0; wait_prompt 1; wait 0.3; hangup")
    heard = prompts_heard(call)
    i = heard.index("main_menu")
    assert heard[i:i + 4] == ["main_menu", "invalid_input", "main_menu", "transferring"]
    events = [d["event"] for _, d in interactions(rig, call.uuid)]
    assert "invalid" in events


@pytest_twisted.ensureDeferred
async def test_runtime_timeouts_lead_to_too_many_errors_and_agent_handoff(rig):
    rig.publish(demo_menu())
    call = await rig.call("wait 12; hangup", timeout=20)
    heard = prompts_heard(call)
    i = heard.index("main_menu")
    assert heard[i:] == ["main_menu", "timeout", "main_menu", "timeout", "main_menu", "too_many_errors"]
    assert rig.handoff.requests[-1].reason == "too_many_errors"
    assert any(e["event"] == "app" and e["app"] == "transfer" for e in call.transcript)


@pytest_twisted.ensureDeferred
async def test_runtime_barge_in_key_stops_the_prompt_early(rig):
    menu = demo_menu()
    rig.prompts.seconds = 2.0  # long prompts: a key must cut them short
    rig.publish(menu)
    call = await rig.call("wait_prompt 2; wait 0.05; press 1; wait 0.3; press 0; wait 2.5; hangup", timeout=20)
    prompts = [e for e in call.transcript if e["event"] == "prompt" and "main_menu" in e["file"]]
    press = [e for e in call.transcript if e["event"] == "press" and e["digit"] == "0"][0]
    transferring = [e for e in call.transcript if e["event"] == "prompt" and "transferring" in e["file"]][0]
    assert prompts and press["t"] - prompts[0]["t"] < 0.5
    assert transferring["t"] - press["t"] < 1.0  # not after the 2 s main menu prompt


@pytest_twisted.ensureDeferred
async def test_runtime_repeat_and_back_keys(rig):
    rig.publish(demo_menu())
    # main: 3 -> products menu; * (back) -> main; # (repeat) -> main again; 0 -> agent
    call = await rig.call("wait_prompt 2; wait 0.05; press 1; wait_prompt 1; wait 0.05; press 3; wait_prompt 1; wait 0.05; press *; "
                          "wait_prompt 1; wait 0.05; press #; wait_prompt 1; wait 0.05; press 0; wait_prompt 1; wait 0.3; hangup")
    heard = prompts_heard(call)
    i = heard.index("main_menu")
    assert heard[i] == "main_menu" and heard[i + 1].startswith("text-")  # products menu (inline text)
    assert heard[i + 2:i + 5] == ["main_menu", "main_menu", "transferring"]
    events = [d["event"] for _, d in interactions(rig, call.uuid)]
    assert "back" in events and "repeat" in events


@pytest_twisted.ensureDeferred
async def test_runtime_new_calls_get_a_newly_published_menu(rig):
    rig.publish(demo_menu())
    first = await rig.call("wait_prompt 2; wait 0.05; press 1; wait_prompt 1; wait 0.05; press 0; wait_prompt 1; wait 0.3; hangup")
    menu = demo_menu()
    nodes = dict(menu.nodes)
    nodes["main"] = dataclasses.replace(nodes["main"], prompt=None,
                                        text={"zh": "新菜单：人工服务请按零。", "en": "New menu: press 0 for an agent."})
    rig.publish(dataclasses.replace(menu, nodes=nodes))
    second = await rig.call("wait_prompt 2; wait 0.05; press 1; wait_prompt 1; wait 0.05; press 0; wait_prompt 1; wait 0.3; hangup")
    assert "main_menu" in prompts_heard(first)
    assert "main_menu" not in prompts_heard(second)
    versions = [d.get("menu_version") for _, d in interactions(rig, first.uuid) + interactions(rig, second.uuid)
                if d["event"] == "start"]
    assert versions == [1, 2]
