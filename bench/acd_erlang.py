"""The ACD against queueing theory: a simulated day through the real router beside Erlang C.

    .venv/bin/python bench/acd_erlang.py [--agents 50] [--occupancy 0.85 0.90 0.95] [--aht 180] [--days 10]
                                         [--skip-multi] [--skip-single]

Single skill: Poisson arrivals at rate lambda = occupancy * N / AHT, exponential
handle times (mean AHT), one queue, FIFO, no abandonment, zero ring time and
zero wrap-up -- the M/M/N queue Erlang C describes. The calls go through the
real ACD (``acd.Acd`` on a ``task.Clock``: ``enqueue``, the router, offers,
``CHANNEL_BRIDGE``-style answers and hang-ups through the ACD's scripted
caller port from ``tests/acd/acd_helpers.py``; no switch). A discrete-event
loop advances the clock to the next timer. Measured ASA and SL(20 s) are
printed beside Erlang C, with the relative error and a 95% interval from
per-day batch means; any agent time the router wasted (an idle agent while a
qualified caller waits) would show as a longer measured wait.

Several skills: callers need one of three languages; specialists (level 8) and
a few generalists (level 5 in all). The ACD's ``skills_based`` strategy (best
skill match, then longest idle) beside a naive ``first_available`` baseline
(the first qualified free agent by id, registered through the plug-in API),
same arrivals and handle times for both.

Prints the load average (the bench box is shared; the results are simulated
time and do not depend on it, only the run time does).
"""

from __future__ import annotations

import argparse
import math
import os
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
from acd.routing import Choice, register  # noqa: E402

DAY = 86400.0
SL_T = 20.0


# -- Erlang C ---------------------------------------------------------------------------------

def erlang_c(n: int, a: float) -> float:
    """P(wait) for N agents and A erlangs (A < N), through the stable Erlang B recurrence."""
    if a >= n:
        return 1.0
    b = 1.0
    for k in range(1, n + 1):
        b = a * b / (k + a * b)
    return n * b / (n - a * (1 - b))


def erlang_asa(n: int, a: float, aht: float) -> float:
    return erlang_c(n, a) * aht / (n - a)


def erlang_sl(n: int, a: float, aht: float, t: float) -> float:
    return 1 - erlang_c(n, a) * math.exp(-(n - a) * t / aht)


# -- the naive baseline strategy ---------------------------------------------------------------

class FirstAvailable:
    """Naive hunt group: the first qualified free agent by id, whatever the skill levels."""

    name = "first_available"

    def choose(self, caller, candidates, ctx):
        if not candidates:
            return Choice(None, "no agent available", strategy=self.name)
        return Choice(min(candidates, key=lambda a: a.id), "first available", strategy=self.name)


register(FirstAvailable.name, FirstAvailable)


# -- the simulation -----------------------------------------------------------------------------

class SimLeg(ScriptedLeg):
    """A caller who stays until served; an offered agent answers at once and talks ``handle`` s."""

    def __init__(self, clock: Clock, handle: float) -> None:
        super().__init__()
        self.clock, self.handle = clock, handle

    def connect(self, extension, variables, ring_timeout, on_answer):
        d = super().connect(extension, variables, ring_timeout, on_answer)
        ring = self.ring
        self.clock.callLater(0, ring.answer)
        self.clock.callLater(self.handle, ring.end)
        return d


def simulate(agents: list[dict[str, int]], mix: list[tuple[str, float]], rate: float, aht: float, days: float,
             strategy: str, seed: int, warmup: float = 3600.0) -> dict:
    """Run ``days`` of Poisson arrivals; returns per-call records (arrival, skill, wait, agent)."""
    rnd = random.Random(seed)
    clock = Clock()
    acd = Acd(clock)
    acd.configure_queue(QueueConfig("q", strategy=strategy, announce_every=None, wrapup_seconds=0,
                                    ring_timeout=30, max_wait=None, callback_after=None))
    for i, skills in enumerate(agents):
        acd.add_agent(i, str(1000 + i), skills=skills)
        acd.login(i, ["q"])
    end = warmup + days * DAY
    records: list[tuple[float, str, float, int]] = []
    skills_cum = []
    acc = 0.0
    for name, share in mix:
        acc += share
        skills_cum.append((acc, name))
    busy_time = [0.0]

    def arrive() -> None:
        now = clock.seconds()
        u = rnd.random() * acc
        skill = next(name for c, name in skills_cum if u <= c)
        handle = rnd.expovariate(1 / aht)
        leg = SimLeg(clock, handle)
        d = acd.enqueue(leg, "q", skills={skill: 1} if skill else None)

        def done(outcome, t0=now, skill=skill, handle=handle) -> None:
            if outcome.kind != "served":
                raise RuntimeError(f"call ended {outcome.kind}")
            if t0 >= warmup:
                records.append((t0, skill, outcome.wait_seconds, outcome.agent_id))
                busy_time[0] += handle
        d.addCallback(done)
        nxt = now + rnd.expovariate(rate)
        if nxt < end:
            clock.callLater(nxt - now, arrive)

    clock.callLater(rnd.expovariate(rate), arrive)
    t0 = time.perf_counter()
    while clock.calls:  # the discrete-event loop: jump to the next timer
        clock.advance(max(0.0, clock.calls[0].getTime() - clock.seconds()))
    return {"records": records, "cpu": time.perf_counter() - t0, "warmup": warmup, "n_agents": len(agents),
            "busy": busy_time[0], "span": end - warmup}  # the arrival window


def summarize(records, warmup: float, days: float, skill: str | None = None) -> dict:
    rows = [r for r in records if skill is None or r[1] == skill]
    waits = [r[2] for r in rows]
    batches = []
    nb = max(1, int(round(days)))
    width = days * DAY / nb
    for b in range(nb):
        w = [r[2] for r in rows if warmup + b * width <= r[0] < warmup + (b + 1) * width]
        if w:
            batches.append((statistics.fmean(w), sum(x <= SL_T for x in w) / len(w)))

    def ci(values: list[float]) -> float:
        return 1.96 * statistics.stdev(values) / math.sqrt(len(values)) if len(values) > 1 else float("nan")

    return {"n": len(waits), "asa": statistics.fmean(waits), "sl": sum(w <= SL_T for w in waits) / len(waits),
            "pwait": sum(w > 1e-9 for w in waits) / len(waits),
            "asa_ci": ci([b[0] for b in batches]), "sl_ci": ci([b[1] for b in batches])}


def single(args) -> None:
    n, aht = args.agents, args.aht
    print(f"== one skill, FIFO, M/M/{n}: AHT {aht:.0f} s, {args.days:g} simulated day(s) per load after a "
          f"1 h warm-up, strategy {args.strategy}, SL target {SL_T:.0f} s")
    print("ErlC = Erlang C at the nominal load; 'at real' = Erlang C at the load the random arrivals and handle times"
          " actually offered (calls/time x mean handle), which removes the input sampling noise")
    print(f"{'occ':>5} {'calls':>7} {'P(wait) ErlC/meas':>18} {'ASA ErlC':>9} {'ASA meas (95% CI)':>20} {'err':>7}"
          f" {'at real':>8} {'err':>7} {'SL20 ErlC':>9} {'SL20 meas (95% CI)':>21} {'err':>7} {'at real':>8} {'err':>7}"
          f" {'util meas':>9} {'cpu s':>6}")
    for occ in args.occupancy:
        rate = occ * n / aht
        a = rate * aht
        r = simulate([{"voice": 1}] * n, [("voice", 1.0)], rate, aht, args.days, args.strategy, args.seed)
        s = summarize(r["records"], r["warmup"], args.days)
        asa_p, sl_p, pw = erlang_asa(n, a, aht), erlang_sl(n, a, aht, SL_T), erlang_c(n, a)
        util = r["busy"] / (r["span"] * n)
        aht_real = r["busy"] / s["n"]
        a_real = s["n"] / r["span"] * aht_real
        asa_r, sl_r = erlang_asa(n, a_real, aht_real), erlang_sl(n, a_real, aht_real, SL_T)
        print(f"{occ:5.2f} {s['n']:7d} {pw:8.3f}/{s['pwait']:.3f} {asa_p:8.2f}s {s['asa']:8.2f}s (+-{s['asa_ci']:5.2f})"
              f" {100 * (s['asa'] - asa_p) / asa_p:+6.1f}% {asa_r:7.2f}s {100 * (s['asa'] - asa_r) / asa_r:+6.1f}%"
              f" {100 * sl_p:8.1f}% {100 * s['sl']:8.1f}% (+-{100 * s['sl_ci']:4.1f})"
              f" {100 * (s['sl'] - sl_p) / sl_p:+6.1f}% {100 * sl_r:7.1f}% {100 * (s['sl'] - sl_r) / sl_r:+6.1f}%"
              f" {100 * util:8.1f}% {r['cpu']:6.1f}", flush=True)


def multi(args) -> None:
    aht = args.aht
    pool: list[dict[str, int]] = ([{"zh": 8}] * 30 + [{"en": 8}] * 6 + [{"yue": 8}] * 5
                                  + [{"zh": 5, "en": 5, "yue": 5}] * 9)
    random.Random(args.seed).shuffle(pool)  # agent ids (the hunt order) say nothing about skills
    mix = [("zh", 0.70), ("en", 0.17), ("yue", 0.13)]
    n = len(pool)
    print(f"\n== several skills: {n} agents (30 zh, 6 en, 5 yue specialists at level 8; 9 generalists at level 5 "
          f"in all three; ids shuffled); callers zh 70% / en 17% / yue 13%; AHT {aht:.0f} s; {args.days:g} day(s) per run; "
          f"same arrivals and handle times for both routers")
    print(f"{'occ':>5} {'router':>16} {'ASA all':>8} {'SL20 all':>8} | "
          + " | ".join(f"{'ASA ' + k:>8} {'SL20 ' + k:>9}" for k, _ in mix) + f" | {'cpu s':>6}")
    for occ in args.occupancy:
        rate = occ * n / aht
        for strategy in ("skills_based", "first_available"):
            r = simulate(pool, mix, rate, aht, args.days, strategy, args.seed)
            s = summarize(r["records"], r["warmup"], args.days)
            per = [summarize(r["records"], r["warmup"], args.days, k) for k, _ in mix]
            print(f"{occ:5.2f} {strategy:>16} {s['asa']:7.1f}s {100 * s['sl']:7.1f}% | "
                  + " | ".join(f"{p['asa']:7.1f}s {100 * p['sl']:8.1f}%" for p in per) + f" | {r['cpu']:6.1f}",
                  flush=True)
        print(f"{'':5} {'(pooled Erlang C)':>16} {erlang_asa(n, rate * aht, aht):7.1f}s "
              f"{100 * erlang_sl(n, rate * aht, aht, SL_T):7.1f}%   lower bound: one pool of {n} all-skilled agents")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--agents", type=int, default=50)
    parser.add_argument("--occupancy", type=float, nargs="+", default=[0.85, 0.90, 0.95])
    parser.add_argument("--aht", type=float, default=180.0)
    parser.add_argument("--days", type=float, default=10.0)
    parser.add_argument("--strategy", default="longest_idle", help="single-skill strategy (FIFO either way)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--skip-single", action="store_true")
    parser.add_argument("--skip-multi", action="store_true")
    args = parser.parse_args()
    print(f"load average before: {' '.join(f'{x:.2f}' for x in os.getloadavg())}  (cpus={os.cpu_count()})")
    if not args.skip_single:
        single(args)
    if not args.skip_multi:
        multi(args)
    print(f"load average after: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


if __name__ == "__main__":
    main()
