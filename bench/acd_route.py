"""Routing decision latency: one agent frees up while many callers wait (the ACD's hot path).

    .venv/bin/python bench/acd_route.py [--agents 500 5000 50000] [--callers 10000] [--skills 100]
                                        [--samples 2000] [--strategy skills_based] [--scan]

Each agent holds 3 of ``skills`` skills (levels 1-10); each caller needs one
skill at level >= 1. Agents start not ready, ``callers`` callers wait, and
``--idle`` more agents (default 20) sit available holding only skills no
caller needs (a specialist team with nothing in line: common in a
multi-skill centre). Those idle agents are what made the old router scan the
whole line on every event: a free agent that matches nobody is never
"taken", so the scan never stopped early. Each
sample makes one agent available (``Acd.set_state``) and times the whole
reaction -- route, strategy, offer, screen pop -- and, separately, the routing
decision itself (``Router.match``). Then, untimed, the agent answers and
hangs up (it stays in wrap-up), and a new caller joins, so the line stays at
``callers`` in steady state. Driven by a ``task.Clock`` and the ACD's
scripted caller port (no switch). ``--scan`` times the reference line scan
(``Router.plan_scan``, the pre-index router) instead of the index.

GC: with 10,000 callers (each with Deferreds, timers, dicts) a full CPython
collection takes milliseconds and lands on whichever sample triggers it.
``--gc default`` leaves the collector alone (what the engine does today);
``--gc paused`` disables it around each timed call and collects untimed in
between, isolating the routing cost; both are printed by default.

Each time is taken twice: wall clock (``perf_counter``) and the thread's CPU
time (``thread_time``). On a shared box the wall-clock tail includes being
preempted by other processes (a 2-core box at load 5 loses whole time
slices); the CPU time is what routing itself costs. Prints p50/p99 per size,
growth against the smallest size, and the load average.
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "acd"))

from acd_helpers import ScriptedLeg  # noqa: E402
from twisted.internet.task import Clock  # noqa: E402

from acd import Acd, QueueConfig  # noqa: E402
from acd.agents import AgentState  # noqa: E402
from acd.routing.router import Router  # noqa: E402


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, max(0, math.ceil(len(values) * p) - 1))]


def run(agents: int, callers: int, skills: int, samples: int, strategy: str, seed: int = 1,
        gc_mode: str = "default", idle: int = 20) -> dict:
    rnd = random.Random(seed)
    clock = Clock()
    clock.advance(1_800_000_000)
    acd = Acd(clock)
    acd.configure_queue(QueueConfig("q", strategy=strategy, announce_every=None, wrapup_seconds=10**9))
    for i in range(agents):
        acd.add_agent(i, str(10000 + i), skills={f"s{k}": rnd.randint(1, 10) for k in rnd.sample(range(skills), 3)})
        acd.login(i, ["q"], AgentState.NOT_READY)

    def new_caller() -> None:
        acd.enqueue(ScriptedLeg(), "q", skills={f"s{rnd.randrange(skills)}": 1})

    for _ in range(callers):
        new_caller()
    for i in range(agents, agents + idle):  # available, but nobody in line needs what they hold
        acd.add_agent(i, str(10000 + i), skills={f"rare{i % 5}": 5})
        acd.login(i, ["q"], AgentState.AVAILABLE)
    decide: list[float] = []  # Router.match times of the current sample
    decide_cpu: list[float] = []
    decisions: list[float] = []
    decisions_cpu: list[float] = []
    react_cpu: list[float] = []
    match = acd.router.match
    wall, cpu = time.perf_counter, time.thread_time

    def timed_match(*a, **kw):
        c0, t0 = cpu(), wall()
        try:
            return match(*a, **kw)
        finally:
            decide.append(wall() - t0)
            decide_cpu.append(cpu() - c0)

    acd.router.match = timed_match  # type: ignore[method-assign]
    react: list[float] = []
    resting = list(range(agents))  # not ready or in wrap-up
    served = 0
    gc.collect()
    for _ in range(samples):
        agent_id = resting.pop(rnd.randrange(len(resting)))
        decide.clear()
        decide_cpu.clear()
        if gc_mode == "paused":
            gc.disable()
        c0, t0 = cpu(), wall()
        acd.set_state(agent_id, "available")
        react.append(wall() - t0)
        react_cpu.append(cpu() - c0)
        if gc_mode == "paused":
            gc.enable()
            gc.collect(0)
        decisions.append(sum(decide))
        decisions_cpu.append(sum(decide_cpu))
        agent = acd.board.get(agent_id)
        if agent.state is AgentState.RINGING:  # untimed: talk, hang up, wrap up; a new caller replaces this one
            leg = acd.callers[agent.call_uuid].leg
            leg.ring.answer()
            leg.ring.end()
            served += 1
            new_caller()
        resting.append(agent_id)
    waiting = len(acd.queues["q"])
    return {"react": react, "decide": decisions, "react_cpu": react_cpu, "decide_cpu": decisions_cpu,
            "served": served, "waiting": waiting}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, nargs="+", default=[500, 5000, 50000])
    parser.add_argument("--callers", type=int, default=10000)
    parser.add_argument("--skills", type=int, default=100)
    parser.add_argument("--samples", type=int, default=2000)
    parser.add_argument("--idle", type=int, default=20, help="available agents whose skills no caller needs")
    parser.add_argument("--strategy", default="skills_based")
    parser.add_argument("--scan", action="store_true", help="time the reference line scan instead of the index")
    parser.add_argument("--gc", nargs="+", choices=["default", "paused"], default=["default", "paused"])
    args = parser.parse_args()
    if args.scan:
        Router.plan = lambda self, queue, now, callers=None, memory=None: self.plan_scan(  # type: ignore
            queue, now, callers, memory)
    print(f"router={'scan (reference)' if args.scan else 'index'} strategy={args.strategy} "
          f"callers={args.callers} skills={args.skills} idle-unmatched={args.idle} samples={args.samples} python={sys.version.split()[0]} "
          f"cpus={os.cpu_count()}")
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    for mode in args.gc:
        print(f"-- gc {mode}")
        sizes(args, mode)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def sizes(args: argparse.Namespace, gc_mode: str) -> None:
    base = None
    for n in args.agents:
        r = run(n, args.callers, args.skills, args.samples, args.strategy, gc_mode=gc_mode, idle=args.idle)
        q = {k: (pct(r[k], 0.5) * 1e3, pct(r[k], 0.99) * 1e3) for k in ("decide", "react", "decide_cpu", "react_cpu")}
        if base is None:
            base = (n, q)
        growth = "" if n == base[0] else (
            f"  | p99 vs {base[0]}: cpu decision x{q['decide_cpu'][1] / base[1]['decide_cpu'][1]:.2f}, "
            f"cpu reaction x{q['react_cpu'][1] / base[1]['react_cpu'][1]:.2f} (ln N ratio {math.log(n) / math.log(base[0]):.2f})")
        print(f"agents={n:>6}  wall: decision p50 {q['decide'][0]:.3f} p99 {q['decide'][1]:.3f} ms, "
              f"reaction p50 {q['react'][0]:.3f} p99 {q['react'][1]:.3f} ms | "
              f"cpu: decision p50 {q['decide_cpu'][0]:.3f} p99 {q['decide_cpu'][1]:.3f} ms, "
              f"reaction p50 {q['react_cpu'][0]:.3f} p99 {q['react_cpu'][1]:.3f} ms | "
              f"served {r['served']}, waiting {r['waiting']}"
              f"{growth}  [load {os.getloadavg()[0]:.2f}]", flush=True)


if __name__ == "__main__":
    main()
