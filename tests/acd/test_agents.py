"""Agent state machine, membership, pending requests, wrap-up timers, state log."""

from __future__ import annotations

import pytest
from twisted.internet.task import Clock

from acd.agents import AgentBoard, AgentState, MemoryStateLog
from acd.exceptions import IllegalTransition, NotAMember, NotLoggedIn

S = AgentState


@pytest.fixture
def board() -> AgentBoard:
    clock = Clock()
    b = AgentBoard(clock, MemoryStateLog())
    b.add(1, "1001", "Ann", {"sales": 5})
    return b


def test_agent_logs_into_several_queues_and_becomes_available(board):
    agent = board.login(1, ["sales", "support"])
    assert agent.state is S.AVAILABLE
    assert board.members("sales") == {1} and board.members("support") == {1}


def test_agent_leaving_one_queue_stays_logged_into_the_others(board):
    board.login(1, ["sales", "support"])
    board.logout(1, ["sales"])
    assert board.get(1).state is S.AVAILABLE and board.members("sales") == set() and board.members("support") == {1}


def test_agent_leaving_the_last_queue_is_logged_out(board):
    board.login(1, ["sales"])
    board.logout(1)
    assert board.get(1).state is S.LOGGED_OUT and board.members("sales") == set()


def test_logout_of_a_queue_the_agent_is_not_in_raises_typed_error(board):
    board.login(1, ["sales"])
    with pytest.raises(NotAMember) as err:
        board.logout(1, ["support"])
    assert err.value.error_id == "acd-agent-not-a-member"


def test_logged_out_agent_cannot_be_put_on_call(board):
    with pytest.raises(IllegalTransition) as err:
        board.transition(1, S.ON_CALL)
    assert err.value.error_id == "acd-illegal-transition"


def test_agent_cannot_ask_for_ringing_or_on_call(board):
    board.login(1, ["sales"])
    with pytest.raises(IllegalTransition):
        board.request(1, S.ON_CALL)


def test_logged_out_agent_without_queue_cannot_go_available(board):
    with pytest.raises(NotLoggedIn):
        board.request(1, S.AVAILABLE)


def test_break_requested_on_a_call_is_pending_until_wrap_up_ends(board):
    board.login(1, ["sales"])
    board.transition(1, S.RINGING, call_uuid="c1")
    board.transition(1, S.ON_CALL, call_uuid="c1")
    assert board.request(1, S.BREAK, "lunch") is False
    assert board.get(1).state is S.ON_CALL
    board.start_wrap_up(1, 30, "c1")
    assert board.get(1).state is S.WRAP_UP
    board.clock.advance(30)
    assert board.get(1).state is S.BREAK and board.get(1).reason == "lunch"


def test_wrap_up_timer_makes_agent_available_after_the_queue_wrap_up_time(board):
    board.login(1, ["sales"])
    board.transition(1, S.RINGING, call_uuid="c1")
    board.transition(1, S.ON_CALL, call_uuid="c1")
    board.start_wrap_up(1, 10, "c1")
    board.clock.advance(9.9)
    assert board.get(1).state is S.WRAP_UP
    board.clock.advance(0.1)
    assert board.get(1).state is S.AVAILABLE


def test_agent_ending_wrap_up_early_cancels_the_timer(board):
    board.login(1, ["sales"])
    board.transition(1, S.RINGING, call_uuid="c1")
    board.transition(1, S.ON_CALL, call_uuid="c1")
    board.start_wrap_up(1, 10, "c1")
    board.end_wrap_up(1)
    assert board.get(1).state is S.AVAILABLE
    assert not board.clock.getDelayedCalls()


def test_every_state_change_is_logged_with_time_reason_and_queues(board):
    board.login(1, ["sales"])
    board.clock.advance(5)
    board.request(1, S.NOT_READY, "training")
    changes = board.state_log.changes
    assert [(c.state, c.reason, c.at, c.queues) for c in changes] == [
        (S.AVAILABLE, None, 0.0, ("sales",)), (S.NOT_READY, "training", 5.0, ("sales",))]


def test_not_ready_reason_can_change_while_not_ready(board):
    board.login(1, ["sales"], S.NOT_READY, "meeting")
    board.request(1, S.NOT_READY, "training")
    assert board.get(1).reason == "training"


def test_available_listener_fires_on_login_and_end_of_break(board):
    seen = []
    board.on_available(lambda a: seen.append(a.id))
    board.login(1, ["sales"])
    board.request(1, S.BREAK)
    board.request(1, S.AVAILABLE)
    assert seen == [1, 1]
