"""Type-ahead: a key pressed during the greeting or an announcement answers the next menu, when allowed."""

from __future__ import annotations

import dataclasses

import pytest_twisted

from test_runtime_menu import demo_menu, interactions
from transcripts import prompts_heard, texts_heard


@pytest_twisted.ensureDeferred
async def test_a_key_pressed_during_the_greeting_answers_the_language_menu(rig):
    rig.publish(demo_menu())
    call = await rig.call("wait_answer; wait 0.1; press 2; wait_prompt 1; wait 0.3; hangup")
    heard, texts = prompts_heard(call), texts_heard(call)
    assert heard[0] == "greeting" and "language_menu" not in heard
    assert heard[1] == "main_menu" and texts[1].isascii()  # English: the key chose it
    events = [d for _, d in interactions(rig, call.uuid)]
    assert {"event": "type_ahead", "keys": "2"}.items() <= events[0].items()
    option = next(d for d in events if d["event"] == "option")
    assert (option["node"], option["key"], option.get("type_ahead")) == ("language", "2", True)


@pytest_twisted.ensureDeferred
async def test_a_menu_that_does_not_allow_type_ahead_asks_anyway(rig):
    menu = demo_menu()
    rig.publish(dataclasses.replace(menu, settings=dataclasses.replace(menu.settings, type_ahead=False)))
    call = await rig.call("wait_answer; wait 0.1; press 2; wait_prompt 1; wait 0.05; press 1; wait_prompt 1; "
                          "wait 0.3; hangup")
    heard = prompts_heard(call)
    assert heard[:2] == ["greeting", "language_menu"]


@pytest_twisted.ensureDeferred
async def test_a_key_that_is_no_option_of_the_next_menu_is_dropped(rig):
    rig.publish(demo_menu())
    call = await rig.call("wait_answer; wait 0.1; press 7; wait_prompt 1; wait 0.05; press 1; wait_prompt 1; "
                          "wait 0.3; hangup")
    heard = prompts_heard(call)
    assert heard[:2] == ["greeting", "language_menu"] and "main_menu" in heard
