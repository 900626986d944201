"""Routing decision latency: one agent frees up while many callers wait (the ACD's hot path).

    .venv/bin/python bench/acd_router.py [--agents 500 5000 50000] [--callers 10000] [--skills 100]

Each agent holds 3 of ``skills`` skills; each caller needs one skill at level
>= 1. All agents start on a call; the benchmark frees one agent at a time
(end of wrap-up) and times the whole reaction: route, strategy, offer and
the screen pop, against a ``task.Clock`` and the ACD's own scripted caller
port (no switch). Prints p50/p99 per size.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "acd"))

from acd_helpers import ScriptedLeg  # noqa: E402
from twisted.internet.task import Clock  # noqa: E402

from acd import Acd, QueueConfig  # noqa: E402
from acd.agents import AgentState  # noqa: E402


def run(agents: int, callers: int, skills: int, samples: int, strategy: str, seed: int = 1) -> tuple[float, float]:
    rnd = random.Random(seed)
    clock = Clock()
    clock.advance(1_800_000_000)
    acd = Acd(clock)
    acd.configure_queue(QueueConfig("q", strategy=strategy, announce_every=None, wrapup_seconds=0))
    for i in range(agents):
        acd.add_agent(i, str(10000 + i), skills={f"s{k}": rnd.randint(1, 10) for k in rnd.sample(range(skills), 3)})
        acd.login(i, ["q"], AgentState.NOT_READY)
    for _ in range(callers):
        acd.enqueue(ScriptedLeg(), "q", skills={f"s{rnd.randrange(skills)}": 1})
    times = []
    order = list(range(agents))
    rnd.shuffle(order)
    for agent_id in order[:samples]:
        start = time.perf_counter()
        acd.set_state(agent_id, "available")
        times.append(time.perf_counter() - start)
    times.sort()
    return statistics.median(times) * 1000, times[int(len(times) * 0.99) - 1] * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[500, 5000, 50000])
    parser.add_argument("--callers", type=int, default=10000)
    parser.add_argument("--skills", type=int, default=100)
    parser.add_argument("--samples", type=int, default=300)
    parser.add_argument("--strategy", default="skills_based")
    args = parser.parse_args()
    print(f"strategy={args.strategy} callers={args.callers} skills={args.skills}")
    for n in args.agents:
        p50, p99 = run(n, args.callers, args.skills, min(args.samples, n), args.strategy)
        print(f"agents={n:>6}  p50={p50:8.3f} ms  p99={p99:8.3f} ms")


if __name__ == "__main__":
    main()
