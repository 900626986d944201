"""The router never offers a caller to an agent whose phone has a live call; a freed phone is routed at once."""

from __future__ import annotations

from acd.phones import PhoneLines, attach, phone_of
from freeswitch.esl.events import Event

from acd_helpers import Harness


def event(name: str, uuid: str, channel: str) -> Event:
    return Event({"Event-Name": name, "Unique-ID": uuid, "Channel-Name": channel})


def test_phone_of_reads_the_user_of_calls_from_and_to_a_phone_on_the_agents_profile_only():
    profiles = ("agents",)
    assert phone_of("sofia/agents/1001@hotline.example.com", profiles) == "1001"  # from the phone
    assert phone_of("sofia/agents/1001@127.0.0.1:25070", profiles) == "1001"  # to the phone (its contact)
    assert phone_of("sofia/agents/sip:1002@10.0.0.7:5060", profiles) == "1002"
    assert phone_of("sofia/trunk/1001@203.0.113.10", profiles) is None  # a customer whose number looks like one
    assert phone_of("loopback/1001-a", profiles) is None
    assert phone_of("", profiles) is None


def test_lines_count_channels_per_phone_until_the_last_one_hangs_up():
    lines = PhoneLines()
    freed: list[str] = []
    lines.on_free(freed.append)
    lines.on_event(event("CHANNEL_CREATE", "a", "sofia/agents/1001@example.com"))
    lines.on_event(event("CHANNEL_CREATE", "a", "sofia/agents/1001@example.com"))  # a repeated event counts once
    lines.on_event(event("CHANNEL_CREATE", "b", "sofia/agents/1001@127.0.0.1:5070"))
    lines.on_event(event("CHANNEL_CREATE", "c", "sofia/trunk/13800138000@203.0.113.10"))
    assert lines.busy("1001") and not lines.busy("1002")
    lines.on_event(event("CHANNEL_HANGUP_COMPLETE", "a", "sofia/agents/1001@example.com"))
    assert lines.busy("1001") and freed == []
    lines.on_event(event("CHANNEL_DESTROY", "b", "sofia/agents/1001@127.0.0.1:5070"))
    lines.on_event(event("CHANNEL_HANGUP_COMPLETE", "b", "sofia/agents/1001@127.0.0.1:5070"))
    assert not lines.busy("1001") and freed == ["1001"]


def test_prune_forgets_channels_whose_hangup_was_missed():
    lines = PhoneLines()
    freed: list[str] = []
    lines.on_free(freed.append)
    lines.on_event(event("CHANNEL_CREATE", "a", "sofia/agents/1001@example.com"))
    lines.on_event(event("CHANNEL_CREATE", "b", "sofia/agents/1002@example.com"))
    lines.prune({"b"})
    assert not lines.busy("1001") and lines.busy("1002") and freed == ["1001"]


def test_router_skips_an_available_agent_whose_phone_is_busy_and_routes_when_it_frees_up():
    h = Harness()
    h.queue()
    h.agent(1)  # extension 1001
    lines = attach(h.acd, PhoneLines())
    lines.on_event(event("CHANNEL_CREATE", "feature-call", "sofia/agents/1001@example.com"))
    leg, _ = h.call()
    assert h.state(1) == "available" and leg.rings == []  # available, but the phone is on a call
    lines.on_event(event("CHANNEL_HANGUP_COMPLETE", "feature-call", "sofia/agents/1001@example.com"))
    assert h.state(1) == "ringing" and leg.ring.extension == "1001"


def test_router_offers_another_agent_while_one_phone_is_busy():
    h = Harness()
    h.queue()
    h.agent(1)
    h.agent(2)
    lines = attach(h.acd, PhoneLines())
    lines.on_event(event("CHANNEL_CREATE", "x", "sofia/agents/1001@example.com"))
    lines.on_event(event("CHANNEL_CREATE", "y", "sofia/agents/1002@example.com"))
    lines.on_event(event("CHANNEL_HANGUP_COMPLETE", "y", "sofia/agents/1002@example.com"))
    leg, _ = h.call()
    assert leg.ring.extension == "1002" and h.state(1) == "available"
