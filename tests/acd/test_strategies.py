

def test_queue_with_unknown_strategy_still_routes_by_longest_idle():
    from twisted.internet.task import Clock

    from acd.agents import AgentBoard
    from acd.routing.router import FALLBACK_STRATEGY, Router

    class _Config:
        name = "typo-queue"
        strategy = "no-such-strategy"

    class _Queue:
        config = _Config()

    strategy = Router(AgentBoard(Clock())).strategy_for(_Queue())
    assert strategy.name == FALLBACK_STRATEGY
