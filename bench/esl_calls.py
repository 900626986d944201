"""Call throughput: N concurrent simulated calls through the real CallServer over loopback TCP.

Why: one FreeSWITCH box carries ~1000 concurrent calls; the engine must never
be the bottleneck of the box it serves. Goal: one engine core sustains 1,000
concurrent calls at >= 50 new calls/s with the execute round-trip p99 < 50 ms.

Two processes, so each side's CPU is measured on its own:
 * this process (the engine): ``CallServer`` on 127.0.0.1 and a call handler
   that does what an IVR does -- answer, set, playback of a real 8 kHz WAV,
   play_and_get_digits (the caller presses ``12#``), a hold (a long
   ``silence_stream``) so that calls overlap, set, hangup;
 * a child process (the switch): ``freeswitch.sim.Simulator`` on its own
   reactor, placing calls at ``--rate`` to the CallServer until ``--calls``
   were placed, each with the script ``wait_prompt 2; press 12#``.

The hold time is ``concurrency / rate`` (Little's law), so ``--concurrency``
is the target number of calls up at once. Each phase reports the engine's CPU
per call (``time.process_time`` of this process over the phase), the
simulator's CPU, the execute round-trip of short apps (``answer``, ``set``:
sendmsg written -> matching CHANNEL_EXECUTE_COMPLETE, measured around
``Call.execute``), calls/s achieved, peak concurrency and failures. The first
phase is the baseline (``--baseline-concurrency``, default 100) at the same
rate, so the figures of the big phase can be read against it.

Timing never fails the run. Usage:
``python bench/esl_calls.py [--calls 2000] [--concurrency 1000] [--rate 50] [--profile FILE]``.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import struct
import sys
import tempfile
import time
import wave
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

DNIS = "4008001000"
DIGITS = "12"
# The pause after the prompt: the simulator drops digits pressed while no app reads
# DTMF (a real switch queues them for the next app; see docs/freeswitch.md).
CALLER_SCRIPT = f"wait_prompt 2; wait 0.05; press {DIGITS}#"


def write_prompt(path: Path, seconds: float = 0.5) -> None:
    """A real 8 kHz 16-bit mono WAV (a 440 Hz tone): what playback plays and the sim times."""
    frames = int(8000 * seconds)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"".join(struct.pack("<h", int(8000 * math.sin(2 * math.pi * 440 * i / 8000)))
                               for i in range(frames)))


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, math.ceil(q * len(ordered)) - 1)]


# -- the simulator side (child process) ----------------------------------------------


def sim_child(args: argparse.Namespace) -> None:
    """Run the simulator, place ``calls`` calls at ``rate``/s, print one JSON line of results."""
    from twisted.internet import reactor, task

    from freeswitch.sim.simulator import Simulator

    logging_off()
    workdir = Path(args.workdir)
    sim = Simulator(reactor, port=0, socket_port=args.engine_port, sounds_dir=workdir,
                    recordings_dir=workdir, idle_timeout=600)
    sim.start()
    if args.exec_delay_ms is not None:
        # The simulator starts each queued app one 20 ms media frame later, as a
        # parked FreeSWITCH session does; 0 isolates the engine's share of the round-trip.
        def fast(kind, data) -> None:
            if kind == "channel_create":
                data["channel"].exec_delay = args.exec_delay_ms / 1000.0

        sim.core.listeners.append(fast)
    profiler = None
    if args.sim_profile:
        import cProfile

        profiler = cProfile.Profile()
    state = {"placed": 0, "finished": 0, "bad_cause": 0, "peak": 0}
    causes: dict[str, int] = {}
    start_wall = time.perf_counter()
    start_cpu = time.process_time()
    lag: list[float] = []

    def finished(call) -> None:
        state["finished"] += 1
        cause = call.channel.hangup_cause or "?"
        causes[cause] = causes.get(cause, 0) + 1
        if cause != "NORMAL_CLEARING":
            state["bad_cause"] += 1
        if state["finished"] == args.calls:
            done()

    def tick() -> None:
        now = time.perf_counter() - start_wall
        due = min(args.calls, int(now * args.rate) + 1)
        while state["placed"] < due:
            lag.append(now - state["placed"] / args.rate)
            call = sim.place_call(f"1380000{state['placed']:04d}", DNIS, CALLER_SCRIPT)
            state["placed"] += 1
            call.finished.addBoth(lambda r, c=call: finished(c))
        state["peak"] = max(state["peak"], len(sim.channels))
        if state["placed"] >= args.calls:
            placing.stop()

    def done() -> None:
        wall = time.perf_counter() - start_wall
        cpu = time.process_time() - start_cpu
        if profiler is not None:
            profiler.disable()
            profiler.dump_stats(args.sim_profile)
        print(json.dumps({"placed": state["placed"], "finished": state["finished"],
                          "bad_cause": state["bad_cause"], "causes": causes, "peak_channels": state["peak"],
                          "wall": wall, "cpu": cpu, "place_lag_p99": percentile(lag, 0.99),
                          "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), flush=True)
        sim.stop()
        reactor.callLater(0.2, reactor.stop)

    def deadline() -> None:
        print(json.dumps({"error": "deadline", **state}), flush=True)
        done()

    if profiler is not None:
        profiler.enable()
    placing = task.LoopingCall(tick)
    placing.start(0.01)
    reactor.callLater(args.deadline, deadline)
    reactor.run()


def child_process():
    """A ProcessProtocol for the simulator child: keeps its stdout (the JSON report), passes its stderr on;
    ``.done`` fires when it exits."""
    from twisted.internet import defer, protocol

    class SimChild(protocol.ProcessProtocol):
        def __init__(self) -> None:
            self.out = b""
            self.done: defer.Deferred = defer.Deferred()

        def outReceived(self, data: bytes) -> None:
            self.out += data

        def errReceived(self, data: bytes) -> None:
            sys.stderr.write(data.decode(errors="replace"))

        def processEnded(self, reason) -> None:
            self.done.callback(None)

    return SimChild()


def logging_off() -> None:
    import logging

    logging.disable(logging.WARNING)


# -- the engine side (this process) -------------------------------------------------------


class EngineStats:
    def __init__(self) -> None:
        self.rtt: dict[str, list[float]] = {"answer": [], "set": []}
        self.completed = 0
        self.failed = 0
        self.wrong_digits = 0
        self.errors: dict[str, int] = {}
        self.first_start: float | None = None
        self.last_end = 0.0
        self.peak_live = 0


def make_handler(stats: EngineStats, prompt: str, hold_ms: int, server_ref: list):
    async def timed(call, app: str, arg: str | None = None):
        t0 = time.perf_counter()
        result = await call.execute(app, arg)
        stats.rtt[app].append(time.perf_counter() - t0)
        return result

    async def handler(call) -> None:
        now = time.perf_counter()
        if stats.first_start is None:
            stats.first_start = now
        stats.peak_live = max(stats.peak_live, server_ref[0].live_count)
        try:
            await timed(call, "answer")
            await timed(call, "set", "hotline_bench=1")
            await call.playback(prompt)
            digits = await call.play_and_get_digits(1, 4, 1, 3000, "#", prompt, "silence_stream://100",
                                                    "bench_digits", r"\d+")
            if getattr(digits, "digits", digits) != DIGITS:
                stats.wrong_digits += 1
            await call.playback(f"silence_stream://{hold_ms}")
            await timed(call, "set", "hotline_bench_done=1")
            await call.hangup("NORMAL_CLEARING")
            stats.completed += 1
        except Exception as exc:
            stats.failed += 1
            stats.errors[type(exc).__name__] = stats.errors.get(type(exc).__name__, 0) + 1
            raise
        finally:
            stats.last_end = time.perf_counter()

    return handler


def run_phase(reactor, label: str, calls: int, concurrency: int, rate: float, workdir: Path,
              prompt: Path, profile: str | None, sim_profile: str | None, exec_delay_ms: float | None = None):
    """One phase (a Deferred of its report dict)."""

    from freeswitch.callserver import CallServer

    hold_ms = max(0, int(1000 * (concurrency / rate - 1.8)))  # the rest of the call is ~1.8 s
    stats = EngineStats()
    server_ref: list = []
    server = CallServer(make_handler(stats, str(prompt), hold_ms, server_ref), reactor, exit_grace=10)
    server_ref.append(server)
    port = server.start(reactor, "127.0.0.1", 0).getHost().port
    deadline = calls / rate + concurrency / rate + 60

    child = child_process()
    argv = [sys.executable, __file__, "--sim-child", "--engine-port", str(port), "--calls", str(calls),
            "--rate", str(rate), "--workdir", str(workdir), "--deadline", str(deadline)]
    if sim_profile:
        argv += ["--sim-profile", sim_profile]
    if exec_delay_ms is not None:
        argv += ["--exec-delay-ms", str(exec_delay_ms)]
    cpu0 = time.process_time()
    wall0 = time.perf_counter()
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
    reactor.spawnProcess(child, sys.executable, argv, env=dict(os.environ), path=str(REPO))

    def finish(_):
        if prof is not None:
            prof.disable()
            prof.dump_stats(profile)
        cpu = time.process_time() - cpu0
        wall = time.perf_counter() - wall0
        try:
            sim = json.loads(child.out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            sim = {"error": "no report from the simulator", "raw": child.out[-400:].decode(errors="replace")}
        d = server.stop_listening()
        return d.addCallback(lambda _: report(label, calls, concurrency, rate, hold_ms, stats, cpu, wall, sim,
                                              server))

    return child.done.addCallback(finish)


def report(label, calls, concurrency, rate, hold_ms, stats: EngineStats, cpu, wall, sim, server) -> dict:
    short = stats.rtt["answer"] + stats.rtt["set"]
    span = (stats.last_end - stats.first_start) if stats.first_start else float("nan")
    sim_cpu = sim.get("cpu", float("nan"))
    sim_wall = sim.get("wall", float("nan"))
    out = {
        "label": label, "calls": calls, "target_concurrency": concurrency, "rate": rate, "hold_ms": hold_ms,
        "completed": stats.completed, "failed": stats.failed, "wrong_digits": stats.wrong_digits,
        "errors": stats.errors, "handler_failures": server.handler_failures,
        "peak_live": stats.peak_live, "engine_cpu": cpu, "engine_cpu_per_call_ms": 1000 * cpu / max(1, stats.completed),
        "engine_core_util": cpu / wall if wall else float("nan"),
        "sim_cpu": sim_cpu, "sim_core_util": sim_cpu / sim_wall if sim_wall else float("nan"),
        "calls_per_s": stats.completed / (calls / rate) if calls else 0.0,
        "p50_ms": 1000 * percentile(short, 0.5), "p99_ms": 1000 * percentile(short, 0.99),
        "max_ms": 1000 * max(short) if short else float("nan"), "samples": len(short),
        "span_s": span, "wall_s": wall, "sim": sim,
    }
    print(f"\n== {label}: {calls} calls at {rate:g}/s, target {concurrency} concurrent (hold {hold_ms / 1000:.1f} s)")
    print(f"  completed {stats.completed}/{calls}  failed {stats.failed} {stats.errors or ''}  "
          f"wrong digits {stats.wrong_digits}  sim finished {sim.get('finished')} "
          f"(non-NORMAL_CLEARING {sim.get('bad_cause')}) {sim.get('error', '')}")
    print(f"  peak concurrent: engine {stats.peak_live}, simulator {sim.get('peak_channels')} channels")
    print(f"  arrivals {out['calls_per_s']:.1f} calls/s achieved (placement lag p99 "
          f"{1000 * sim.get('place_lag_p99', float('nan')):.0f} ms)")
    print(f"  engine CPU {cpu:.2f} s = {out['engine_cpu_per_call_ms']:.2f} ms/call, "
          f"{100 * out['engine_core_util']:.0f}% of one core over {wall:.1f} s")
    print(f"  simulator CPU {sim_cpu:.2f} s = {1000 * sim_cpu / max(1, stats.completed):.2f} ms/call, "
          f"{100 * out['sim_core_util']:.0f}% of one core")
    print(f"  execute round-trip (answer/set, n={len(short)}): p50 {out['p50_ms']:.2f} ms  "
          f"p99 {out['p99_ms']:.2f} ms  max {out['max_ms']:.1f} ms")
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls in the main phase")
    parser.add_argument("--concurrency", type=int, default=1000, help="target concurrent calls")
    parser.add_argument("--rate", type=float, default=50.0, help="new calls per second")
    parser.add_argument("--baseline-concurrency", type=int, default=100,
                        help="concurrency of the baseline phase (0 skips it)")
    parser.add_argument("--baseline-calls", type=int, default=500)
    parser.add_argument("--exec-delay-ms", type=float,
                        help="the simulator's delay before it starts a queued app (default: its own 20 ms)")
    parser.add_argument("--profile", help="cProfile the engine during the main phase into this file")
    parser.add_argument("--sim-profile", help="cProfile the simulator during the main phase into this file")
    # child-process arguments
    parser.add_argument("--sim-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=600, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sim_child:
        sim_child(args)
        return

    from twisted.internet import defer, reactor

    logging_off()
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-calls-"))
    prompt = workdir / "welcome.wav"
    write_prompt(prompt, 0.5)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 8192:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(8192, hard), hard))
    print(f"python {sys.version.split()[0]}, reactor {type(reactor).__name__}, {os.cpu_count()} cores; "
          f"per call: answer, set, playback 0.5 s WAV, play_and_get_digits (caller presses {DIGITS}#), "
          f"hold, set, hangup")
    results: list[dict] = []

    @defer.inlineCallbacks
    def run():
        try:
            if args.baseline_concurrency:
                results.append((yield run_phase(reactor, "baseline", args.baseline_calls,
                                                args.baseline_concurrency, args.rate, workdir, prompt,
                                                None, None, args.exec_delay_ms)))
            results.append((yield run_phase(reactor, "main", args.calls, args.concurrency, args.rate, workdir,
                                            prompt, args.profile, args.sim_profile, args.exec_delay_ms)))
        finally:
            reactor.stop()

    reactor.callWhenRunning(run)
    reactor.run()
    if results:
        main_ = results[-1]
        print("\nsummary (goal: 1000 concurrent, >= 50 new calls/s, p99 < 50 ms on one engine core):")
        for r in results:
            print(f"  {r['label']:8s} peak {r['peak_live']:5d} concurrent, {r['calls_per_s']:5.1f} calls/s, "
                  f"p99 {r['p99_ms']:6.2f} ms, engine {r['engine_cpu_per_call_ms']:.2f} ms CPU/call "
                  f"({100 * r['engine_core_util']:.0f}% core), simulator {100 * r['sim_core_util']:.0f}% core, "
                  f"failures {r['failed'] + (r['calls'] - r['completed'])}")
        side = "simulator" if main_["sim_core_util"] > main_["engine_core_util"] else "engine"
        print(f"  busier side in the main phase: {side} "
              f"(engine {100 * main_['engine_core_util']:.0f}%, simulator {100 * main_['sim_core_util']:.0f}% "
              f"of one core)")


if __name__ == "__main__":
    main()
