"""Feature codes: what each means in each state, planned without changing anything until the prompt is said."""

from __future__ import annotations

import pytest
from twisted.internet import defer

from acd.exceptions import AcdError
from acd.features import FeatureHandler

from acd_helpers import Harness


def handler(h: Harness) -> FeatureHandler:
    return FeatureHandler(h.acd)


@pytest.fixture
def h() -> Harness:
    harness = Harness()
    harness.queue()
    harness.agent(1, login=False)
    return harness


def run(fh: FeatureHandler, h: Harness, feature: str, digit: str = "") -> str:
    """Plan, check nothing changed, then make the change; the confirmation key."""
    agent = h.acd.board.get(1)
    before = (agent.state, agent.reason, set(agent.queues))
    key, change = fh.plan(feature, agent, digit)
    assert (agent.state, agent.reason, set(agent.queues)) == before  # planning changes nothing
    if change is not None:
        change()
    return key


def test_star61_logs_in_not_ready_and_star63_makes_ready(h):
    fh = handler(h)
    assert run(fh, h, "login") == "login"
    assert h.state(1) == "not_ready" and h.acd.board.get(1).queues == {"sales"}
    assert run(fh, h, "ready") == "ready"
    assert h.state(1) == "available"


def test_asking_for_the_state_one_is_in_is_confirmed_not_refused(h):
    fh = handler(h)
    assert run(fh, h, "logout") == "logout"  # already logged out
    run(fh, h, "login")
    assert run(fh, h, "login") == "login" and h.state(1) == "not_ready"
    run(fh, h, "ready")
    assert run(fh, h, "ready") == "ready" and run(fh, h, "login") == "ready" and h.state(1) == "available"
    assert run(fh, h, "break", "1") == "break" and run(fh, h, "break", "2") == "break"
    assert h.state(1) == "break"


def test_star63_when_logged_out_logs_in_ready_in_one_step(h):
    assert run(handler(h), h, "ready") == "ready" and h.state(1) == "available"


def test_not_ready_needs_a_login_and_says_so(h):
    with pytest.raises(AcdError):
        handler(h).plan("not_ready", h.acd.board.get(1), "")


def test_a_request_while_on_a_call_waits_for_the_call(h):
    fh = handler(h)
    run(fh, h, "ready")
    leg, _ = h.call()
    assert h.state(1) == "ringing"
    assert run(fh, h, "not_ready", "1") == "pending" and h.state(1) == "ringing"
    leg.ring.answer()
    leg.ring.end()
    h.clock.advance(h.acd.queues["sales"].config.wrapup_seconds + 1)
    assert h.state(1) == "break"


class _Call:
    """Just enough of a Call for the handler: the test sees the order of answer, prompt and hang-up."""

    def __init__(self, variables: dict, log: list) -> None:
        self.variables, self.log, self.uuid, self.ani, self.hung_up = variables, log, "u1", "1001", False

    def answer(self) -> defer.Deferred:
        self.log.append("answer")
        return defer.succeed(None)

    def playback(self, target: str) -> defer.Deferred:
        self.log.append("prompt")
        return defer.succeed(None)

    def hangup(self, cause: str) -> defer.Deferred:
        self.log.append("hangup")
        self.hung_up = True
        return defer.succeed(None)


class _Prompts:
    def files(self, prompt_id, lang, text=None, **variables):
        return defer.succeed([f"/prompts/{lang}.wav"])


def test_handle_changes_the_state_after_the_confirmation_and_before_the_hangup(h):
    steps: list[str] = []
    h.acd.bus.subscribe("acd.agent_state", lambda _t, p: steps.append(p["state"]))
    fh = FeatureHandler(h.acd, _Prompts())
    call = _Call({"hotline_feature": "login", "hotline_feature_agent": "1"}, steps)
    defer.ensureDeferred(fh.handle(call))
    assert steps == ["answer", "prompt", "not_ready", "hangup"]
    assert fh.handled == [(1, "login", "login")]


def test_handle_refuses_an_unknown_agent_with_the_error_prompt_and_changes_nothing(h):
    steps: list[str] = []
    fh = FeatureHandler(h.acd, _Prompts())
    defer.ensureDeferred(fh.handle(_Call({"hotline_feature": "ready", "hotline_feature_agent": "99"}, steps)))
    assert steps == ["answer", "prompt", "hangup"] and fh.handled == [(None, "ready", "error")]
    assert h.state(1) == "logged_out"
