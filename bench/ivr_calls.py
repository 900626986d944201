"""IVR throughput: N concurrent callers running the order-status flow end to end, on PostgreSQL.

Why: the goal is >= 500 concurrent IVR calls on one engine core with the
p99 gap between a caller's key and the next prompt starting < 100 ms.

Two processes, as in ``bench/esl_calls.py`` (whose helpers this reuses):
 * this process (the engine): the real ``CallServer`` on 127.0.0.1 running
   ``IvrApplication`` (and the call recorder writing each call's CDR) with the demo menu (``menus/demo.yaml``, published with
   ``ivr.menu.store.import_and_publish``), a ``CrmGateway`` on the engine's DB gateway over a scratch
   PostgreSQL database (``hotline_bench_<pid>``, created, migrated, seeded and
   dropped by this script) and the production prompt path
   (``RendererPromptPlayer`` -> ``PromptRenderer`` -> ``PromptBuilder`` ->
   ``PromptCache``). Every prompt a call can hear is pre-rendered into the
   cache before the run (a WAV of ``--prompt-seconds`` under the cache key of
   its catalogue text), so TTS is never measured but every request still takes
   the real cache-hit path;
 * a child process (the switch): ``freeswitch.sim.Simulator`` on its own
   reactor placing calls at ``--rate``/s. Each caller is a seeded customer
   (ANI = its phone) with the script: greeting + language menu -> ``1``
   (Mandarin) -> main menu ``1`` (order status) -> ``1`` (key a number) ->
   its order number + ``#`` -> listens to the status and the SMS offer ->
   holds -> hangs up. The hold is sized so that ``--concurrency`` calls are up
   at once (Little's law: call length = concurrency / rate).

The key -> next prompt gap is read from the simulator's transcript (``press``
and ``prompt`` entries, the simulator's clock): the last digit of a key group
to the start of the next prompt. It includes the simulator's own 20 ms media
frame before each queued app (``--exec-delay-ms`` changes it) and, for the
order number, the database look-up. A call counts as completed when the caller
heard its own order's status prompt and hung up itself with NORMAL_CLEARING.

The baseline phase runs the same calls at ``--baseline-concurrency`` (default
50, arrival rate scaled down by the same factor) before the main phase.
Engine CPU is ``time.process_time`` of this process (reactor + database pool
threads + prompt pool threads); the database share is the thread CPU spent in
the gateway's transactions. The 1-minute load average is printed: the machine
is shared, so read the figures with it. Timing never fails the run.

Usage: ``.venv/bin/python bench/ivr_calls.py [--concurrency 500] [--rate 30] [--calls 1500]
[--customers 2000] [--profile FILE] [--pg-url URL]``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import shutil
import sys
import tempfile
import threading
import time
import wave
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "bench"))

from esl_calls import child_process, logging_off, percentile  # noqa: E402

DNIS = "4008001234"
DEFAULT_PG = "postgresql+psycopg://hotline:hotline@127.0.0.1:5432/hotline_test"
STEPS = ("language->main", "main->order", "choice->number", "number#->status")
#: A Wednesday 10:00 in Shanghai: inside the demo menu's business hours whatever the wall clock says.
OPEN_HOURS_UTC = dt.datetime(2026, 11, 25, 2, 0, tzinfo=dt.UTC).timestamp()


def caller_script(number: str, think: float, hold: float) -> str:
    return (f"wait_prompt 2; wait {think}; press 1; "           # greeting + language menu -> Mandarin
            f"wait_prompt 1; wait {think}; press 1; "           # main menu -> order status
            f"wait_prompt 1; wait {think}; press 1; "           # keyed number
            f"wait_prompt 1; wait {think}; press {number}#; "   # the order number
            f"wait_prompt 2; wait {hold:.2f}; hangup")          # status + SMS offer, hold, hang up


def load1() -> float:
    return os.getloadavg()[0]


# -- the simulator side (child process) ----------------------------------------------------


def sim_child(args: argparse.Namespace) -> None:
    """Place ``calls`` order-status callers at ``rate``/s; print one JSON line of results."""
    from twisted.internet import reactor, task

    from freeswitch.sim.simulator import Simulator

    logging_off()
    workdir = Path(args.workdir)
    plan = json.loads(Path(args.plan).read_text())
    sim = Simulator(reactor, port=0, socket_port=args.engine_port, sounds_dir=workdir,
                    recordings_dir=workdir, idle_timeout=600)
    sim.start()
    import gc

    gc.collect()
    gc.freeze()  # the switch is C in production: keep this stand-in's GC stalls out of the engine's figures
    if args.exec_delay_ms is not None:
        def fast(kind, data) -> None:
            if kind == "channel_create":
                data["channel"].exec_delay = args.exec_delay_ms / 1000.0

        sim.core.listeners.append(fast)
    state = {"placed": 0, "finished": 0, "ok": 0, "bad_cause": 0, "no_status": 0, "peak": 0}
    causes: dict[str, int] = {}
    gaps: dict[str, list[float]] = {s: [] for s in STEPS}
    lag: list[float] = []
    beat_lag, _beating = timer_lag(reactor)  # this process waits for a core too
    start_wall = time.perf_counter()
    start_cpu = time.process_time()

    def finished(call, expect: str) -> None:
        state["finished"] += 1
        cause = call.channel.hangup_cause or "?"
        causes[cause] = causes.get(cause, 0) + 1
        last_press, step = None, 0
        heard = False
        for entry in call.transcript:
            if entry["event"] == "press":
                last_press = entry["t"]
            elif entry["event"] == "prompt":
                heard = heard or expect in entry["file"]
                if last_press is not None and step < len(STEPS):
                    gaps[STEPS[step]].append(entry["t"] - last_press)
                    step += 1
                last_press = None
        if cause != "NORMAL_CLEARING":
            state["bad_cause"] += 1
        elif not heard:
            state["no_status"] += 1
        else:
            state["ok"] += 1
        if state["finished"] == args.calls:
            done()

    def tick() -> None:
        now = time.perf_counter() - start_wall
        due = min(args.calls, int(now * args.rate) + 1)
        while state["placed"] < due:
            lag.append(now - state["placed"] / args.rate)
            ani, number, expect = plan[(args.offset + state["placed"]) % len(plan)]
            call = sim.place_call(ani, DNIS, caller_script(number, args.think, args.hold))
            state["placed"] += 1
            call.finished.addBoth(lambda r, c=call, e=expect: finished(c, e))
        state["peak"] = max(state["peak"], len(sim.channels))
        if state["placed"] >= args.calls and placing.running:
            placing.stop()

    def done() -> None:
        wall = time.perf_counter() - start_wall
        cpu = time.process_time() - start_cpu
        print(json.dumps({**state, "causes": causes, "gaps": gaps, "wall": wall, "cpu": cpu,
                          "place_lag_p99": percentile(lag, 0.99),
                          "reactor_lag_p99": percentile(beat_lag, 0.99) if beat_lag else None,
                          "maxrss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}), flush=True)
        sim.stop()
        reactor.callLater(0.2, reactor.stop)

    def deadline() -> None:
        state["error"] = "deadline"  # type: ignore[assignment]
        done()

    placing = task.LoopingCall(tick)
    placing.start(0.01)
    reactor.callLater(args.deadline, deadline)
    reactor.run()


# -- the engine side (this process) -------------------------------------------------------------


class DbStats:
    """Per transaction of the gateway: queue wait, wall time and thread CPU (appended from pool threads)."""

    def __init__(self) -> None:
        self.samples: list[tuple[float, float, float]] = []
        self.failures = 0
        self.profiling = False
        self.profiles: dict[int, object] = {}  # thread id -> cProfile.Profile of its transactions

    def mark(self) -> int:
        return len(self.samples)


def make_gateway(factory, reactor, db: DbStats, max_threads: int):
    from twisted.internet.threads import deferToThreadPool

    from crm_core.db import transaction
    from hotline.db_gateway import ThreadPoolGateway
    from ivr.crm_gateway import CrmGateway

    class TimedGateway(ThreadPoolGateway):
        """The engine's DB gateway with timings (same transaction, pool and group commit; nothing else changes)."""

        def run(self, work, *args, **kwargs):
            self.start()
            submitted = time.perf_counter()

            def in_transaction():
                prof = None
                if db.profiling:
                    import cProfile

                    prof = db.profiles.setdefault(threading.get_ident(), cProfile.Profile())
                    prof.enable()
                t0, c0 = time.perf_counter(), time.thread_time()
                try:
                    with transaction(self.sessions) as session:
                        return work(session, *args, **kwargs)
                except Exception:
                    db.failures += 1
                    raise
                finally:
                    if prof is not None:
                        prof.disable()
                    db.samples.append((t0 - submitted, time.perf_counter() - t0, time.thread_time() - c0))

            return deferToThreadPool(self.reactor, self._pool, in_transaction)

    return CrmGateway(TimedGateway(factory, reactor, max_threads=max_threads))


class OpenHoursClock:
    """The reactor's clock shifted into business hours (``IvrApplication(clock=...)`` only reads ``seconds``)."""

    def __init__(self, reactor) -> None:
        self._reactor = reactor
        self._offset = OPEN_HOURS_UTC - reactor.seconds()

    def seconds(self) -> float:
        return self._reactor.seconds() + self._offset

    def __getattr__(self, name):
        return getattr(self._reactor, name)


class BenchSynth:
    """Stands in for pyttsx3 if a prompt was not pre-rendered (counted: it should stay at 0)."""

    name = "bench-synth"
    version = "1"

    def __init__(self, template: Path) -> None:
        self.template = template
        self.calls = 0

    def synthesize(self, text: str, voice: str, rate: int, out: Path) -> None:
        self.calls += 1
        shutil.copyfile(self.template, out)


def write_wav(path: Path, seconds: float) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x01\x00" * int(8000 * seconds))


def create_database(base: str) -> tuple[str, str]:
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url

    name = f"hotline_bench_{os.getpid()}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False), name


def drop_database(base: str, name: str) -> None:
    from sqlalchemy import create_engine, text

    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def seed(factory, customers: int) -> list[tuple[str, int, str]]:
    """Customers with a phone and one order each (through ``place_order``): [(ani, customer id, order number)]."""
    from crm_core.db import transaction
    from crm_core.models import Customer, CustomerPhone, Product, Stock, Warehouse
    from crm_core.services import place_order

    with transaction(factory) as session:
        warehouse = Warehouse(code="MAIN", name="Main warehouse")
        session.add(warehouse)
        products = [Product(sku=f"SKU{i}", phone_code=str(1000 + i), name=f"Product {i}", price=f"{19 + i}.90")
                    for i in range(20)]
        session.add_all(products)
        session.flush()
        session.add_all(Stock(product_id=p.id, warehouse_id=warehouse.id, on_hand=1_000_000) for p in products)
        codes = [p.phone_code for p in products]
    out = []
    for start in range(0, customers, 250):
        with transaction(factory) as session:
            batch = [Customer(name=f"Caller {i}", phones=[CustomerPhone(e164=f"+86139{i:08d}", is_primary=True)])
                     for i in range(start, min(customers, start + 250))]
            session.add_all(batch)
            session.flush()
            for i, customer in zip(range(start, start + len(batch)), batch):
                order = place_order(session, customer.id, [(codes[i % len(codes)], 1 + i % 3)],
                                    media_source=DNIS)
                out.append((f"139{i:08d}", customer.id, order.number))
    return out


def prerender(factory, builder, seeded, seconds: float, template: Path) -> tuple[list, int]:
    """Every prompt the order-status callers can hear, into the prompt cache: (plan rows, files written)."""
    from sqlalchemy import select

    from crm_core.db import transaction
    from crm_core.models import Customer, Order
    from ivr.crm_gateway import _order_view
    from ivr.prompts.cache import sidecar_path
    from ivr.crm_gateway import local_date
    from ivr.runtime.flows.orders import status_prompt
    from ivr.runtime.prompts import RUNTIME_PROMPTS

    written = 0

    def put(prompt_id: str, lang: str, **variables) -> Path:
        nonlocal written
        text = builder.catalogue.render_text(prompt_id, lang, **variables)
        path = builder.cache.path_for(text, builder.voice(lang), lang)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            os.link(template, path)  # one WAV, many names: the simulator times its length
            sidecar_path(path).write_text(text, encoding="utf-8")
            written += 1
        return path

    for lang in ("zh", "en"):
        for prompt_id in sorted(RUNTIME_PROMPTS | {"language_menu", "main_menu", "after_hours", "services_menu"}):
            if prompt_id in builder.catalogue and not builder.catalogue.get(prompt_id).variables:
                put(prompt_id, lang)
    plan = []
    numbers = {number: ani for ani, _, number in seeded}
    with transaction(factory) as session:
        for customer in session.scalars(select(Customer)):
            for lang in ("zh", "en"):
                put("greeting_named", lang, name=customer.name)
                put("greeting_vip", lang, name=customer.name)
        for order in session.scalars(select(Order).order_by(Order.id)):
            prompt_id, variables = status_prompt(_order_view(order), lambda m: local_date(m, "Asia/Shanghai"))
            put(prompt_id, "en", **variables)
            path = put(prompt_id, "zh", **variables)
            plan.append((numbers[order.number], order.number, str(path)))
    return plan, written


class Phase:
    def __init__(self, label: str, calls: int, concurrency: int, rate: float) -> None:
        self.label, self.calls, self.concurrency, self.rate = label, calls, concurrency, rate


def timer_lag(reactor) -> tuple[list[float], object]:
    """How late a 20 ms timer fires on ``reactor``, sample by sample (and the LoopingCall, to stop it)."""
    from twisted.internet import task

    lag: list[float] = []
    expected = [time.perf_counter() + 0.02]

    def beat() -> None:
        now = time.perf_counter()
        lag.append(max(0.0, now - expected[0]))
        expected[0] = now + 0.02

    beating = task.LoopingCall(beat)
    beating.clock = reactor
    reactor.callLater(0.02, beating.start, 0.02, False)
    return lag, beating


def gc_pauses() -> list[tuple[int, float]]:
    """(generation, seconds) of every garbage collection in this process: a stall every call in flight feels."""
    import gc

    pauses: list[tuple[int, float]] = []
    started = [0.0]

    def watch(phase: str, info: dict) -> None:
        if phase == "start":
            started[0] = time.perf_counter()
        else:
            pauses.append((info["generation"], time.perf_counter() - started[0]))

    gc.callbacks.append(watch)
    return pauses


def instrument_turnaround() -> list[float]:
    """The engine's own share of the gap: a digit-reading app's EXECUTE_COMPLETE handled -> next execute sent.

    The gap the caller hears also holds the switch's side (the simulator's
    20 ms media frame before a queued app, and its process waiting for one of
    the box's 2 cores); this list tells the two apart.
    """
    from freeswitch.call import Call

    turnaround: list[float] = []
    pending: dict[str, float] = {}
    handle_event, execute = Call.handle_event, Call.execute

    def timed_handle_event(self, event):
        if event.name == "CHANNEL_EXECUTE_COMPLETE" and event.get("Application") in ("play_and_get_digits", "read"):
            pending[self.uuid] = time.perf_counter()
        return handle_event(self, event)

    def timed_execute(self, app, arg=None, timeout=None):
        started = pending.pop(self.uuid, None)
        if started is not None:
            turnaround.append(time.perf_counter() - started)
        return execute(self, app, arg, timeout)

    Call.handle_event, Call.execute = timed_handle_event, timed_execute  # type: ignore[method-assign]
    return turnaround


def run_phase(reactor, ctx: dict, phase: Phase, offset: int, profile: str | None):
    """One phase: spawn the simulator child, wait for it, return (Deferred of) the report dict."""

    args = ctx["args"]
    hold = ctx["hold_for"](phase.concurrency, phase.rate)
    deadline = phase.calls / phase.rate + phase.concurrency / phase.rate + 90
    app, server, db = ctx["app"], ctx["server"], ctx["db"]
    errors0 = dict(app.stats.errors)
    handled0, failures0 = ctx["handled"][0], server.handler_failures
    db0 = db.mark()
    dbfail0 = db.failures
    renders0 = ctx["synth"].calls
    prompts0 = len(ctx["prompt_waits"])
    turn0 = len(ctx["turnaround"])
    gc0 = len(ctx["gc"])
    ctx["peak"][0] = 0
    load_before = load1()

    child = child_process()
    argv = [sys.executable, __file__, "--sim-child", "--engine-port", str(ctx["port"]), "--calls", str(phase.calls),
            "--rate", str(phase.rate), "--workdir", str(ctx["workdir"]), "--deadline", str(deadline),
            "--plan", str(ctx["plan_file"]), "--offset", str(offset), "--think", str(args.think),
            "--hold", str(hold)]
    if args.exec_delay_ms is not None:
        argv += ["--exec-delay-ms", str(args.exec_delay_ms)]
    cpu0, wall0 = time.process_time(), time.perf_counter()
    ivcsw0 = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw
    lag, beating = timer_lag(reactor)  # the engine busy, or this process waiting for a core
    steady: dict[str, tuple[float, float]] = {}
    call_length = phase.concurrency / phase.rate
    arrivals = phase.calls / phase.rate
    if arrivals > call_length + 2:  # a window with the target number of calls up: after ramp-up, before arrivals end
        reactor.callLater(call_length + 1, lambda: steady.__setitem__("a", (time.process_time(), time.perf_counter())))
        reactor.callLater(arrivals, lambda: steady.__setitem__("b", (time.process_time(), time.perf_counter())))
    prof = None
    if profile:
        import cProfile

        prof = cProfile.Profile()
        prof.enable()
        db.profiling = True
    reactor.spawnProcess(child, sys.executable, argv, env=dict(os.environ), path=str(REPO))

    def finish(_):
        if prof is not None:
            prof.disable()
            prof.dump_stats(profile)
            db.profiling = False
            if db.profiles:
                import pstats

                merged = pstats.Stats(*db.profiles.values())
                merged.dump_stats(profile + ".db")
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        if beating.running:
            beating.stop()
        ivcsw = resource.getrusage(resource.RUSAGE_SELF).ru_nivcsw - ivcsw0
        try:
            sim = json.loads(child.out.decode().strip().splitlines()[-1])
        except (ValueError, IndexError):
            sim = {"error": "no report from the simulator", "raw": child.out[-400:].decode(errors="replace")}
        samples = db.samples[db0:]
        errors = {k: v - errors0.get(k, 0) for k, v in app.stats.errors.items() if v - errors0.get(k, 0)}
        steady_util = None
        if "a" in steady and "b" in steady:
            steady_util = (steady["b"][0] - steady["a"][0]) / max(1e-9, steady["b"][1] - steady["a"][1])
        return {
            "label": phase.label, "calls": phase.calls, "concurrency": phase.concurrency, "rate": phase.rate,
            "hold": hold, "call_length": call_length, "cpu": cpu, "wall": wall, "steady_util": steady_util,
            "sim": sim, "handled": ctx["handled"][0] - handled0, "handler_failures": server.handler_failures - failures0,
            "ivr_errors": errors, "peak_sessions": ctx["peak"][0], "db": samples, "db_failures": db.failures - dbfail0,
            "renders": ctx["synth"].calls - renders0, "lag": lag, "ivcsw": ivcsw,
            "prompt_waits": ctx["prompt_waits"][prompts0:], "load_before": load_before, "load_after": load1(),
            "turnaround": ctx["turnaround"][turn0:], "gc": ctx["gc"][gc0:],
        }

    return child.done.addCallback(finish)


def report(r: dict) -> dict:
    sim = r["sim"]
    ok = sim.get("ok", 0)
    gaps = [g for s in STEPS for g in sim.get("gaps", {}).get(s, [])]
    db = r["db"]
    db_cpu = sum(s[2] for s in db)
    db_wall = [s[1] for s in db]
    db_wait = [s[0] for s in db]
    out = {
        "label": r["label"], "ok": ok, "calls_per_s": ok / (r["calls"] / r["rate"]),
        "gap_p50_ms": 1000 * percentile(gaps, 0.5), "gap_p99_ms": 1000 * percentile(gaps, 0.99),
        "cpu_per_call_ms": 1000 * r["cpu"] / max(1, ok), "util": r["cpu"] / r["wall"],
        "steady_util": r["steady_util"], "db_share": db_cpu / r["cpu"] if r["cpu"] else float("nan"),
        "sim_util": sim.get("cpu", float("nan")) / sim.get("wall", float("nan")) if sim.get("wall") else float("nan"),
        "failures": r["calls"] - ok, "peak": sim.get("peak"), "load": (r["load_before"], r["load_after"]),
    }
    print(f"\n== {r['label']}: {r['calls']} callers at {r['rate']:g}/s, target {r['concurrency']} concurrent "
          f"(call ~{r['call_length']:.1f} s, hold {r['hold']:.1f} s)   load average {r['load_before']:.2f} -> "
          f"{r['load_after']:.2f}")
    print(f"  completed {ok}/{r['calls']} (heard their order's status, hung up NORMAL_CLEARING); "
          f"not completed: bad cause {sim.get('bad_cause')}, no status prompt {sim.get('no_status')} "
          f"{sim.get('causes', '')} {sim.get('error', '')}")
    print(f"  engine: sessions handled {r['handled']}, handler failures {r['handler_failures']}, IVR errors "
          f"{r['ivr_errors'] or 'none'}, database failures {r['db_failures']}, prompts rendered during the run "
          f"{r['renders']}")
    print(f"  peak concurrent: engine {r['peak_sessions']} IVR sessions, simulator {sim.get('peak')} channels")
    print(f"  completed calls/s {out['calls_per_s']:.1f} (arrivals {r['rate']:g}/s, placement lag p99 "
          f"{1000 * sim.get('place_lag_p99', float('nan')):.0f} ms)")
    steady = f", {100 * r['steady_util']:.0f}% with all calls up" if r["steady_util"] is not None else ""
    print(f"  engine CPU {r['cpu']:.2f} s = {out['cpu_per_call_ms']:.2f} ms/call, {100 * out['util']:.0f}% of one "
          f"core over {r['wall']:.1f} s{steady}")
    print(f"  database: {len(db)} transactions ({len(db) / max(1, ok):.1f}/call), thread CPU {db_cpu:.2f} s = "
          f"{100 * out['db_share']:.0f}% of engine CPU; transaction p50 {1000 * percentile(db_wall, 0.5):.1f} ms "
          f"p99 {1000 * percentile(db_wall, 0.99):.1f} ms; pool queue wait p99 {1000 * percentile(db_wait, 0.99):.1f} ms")
    print(f"  prompt look-ups (RendererPromptPlayer.files, cache hits via the TTS pool): n={len(r['prompt_waits'])} "
          f"p50 {1000 * percentile(r['prompt_waits'], 0.5):.1f} ms  p99 {1000 * percentile(r['prompt_waits'], 0.99):.1f} ms"
          f"  max {1000 * max(r['prompt_waits'] or [float('nan')]):.0f} ms")
    print(f"  reactor lag (20 ms timer late by): p50 {1000 * percentile(r['lag'], 0.5):.1f} ms  p99 "
          f"{1000 * percentile(r['lag'], 0.99):.1f} ms  max {1000 * max(r['lag'] or [float('nan')]):.0f} ms; "
          f"involuntary context switches {r['ivcsw']} (preempted by other processes/threads)")
    sim_lag = sim.get("reactor_lag_p99")
    print(f"  simulator CPU {sim.get('cpu', float('nan')):.2f} s, {100 * out['sim_util']:.0f}% of one core; its "
          f"reactor lag p99 {1000 * sim_lag if sim_lag is not None else float('nan'):.1f} ms")
    full = [seconds for generation, seconds in r["gc"] if generation == 2]
    print(f"  garbage collections: {len(r['gc'])} ({len(full)} full), longest pause "
          f"{1000 * max((p for _, p in r['gc']), default=0.0):.0f} ms, full ones total {1000 * sum(full):.0f} ms")
    turn = r["turnaround"]
    out["turn_p99_ms"] = 1000 * percentile(turn, 0.99) if turn else float("nan")
    print(f"  engine turnaround (digits' EXECUTE_COMPLETE handled -> next execute sent, n={len(turn)}): p50 "
          f"{1000 * percentile(turn, 0.5) if turn else float('nan'):.1f} ms  p99 {out['turn_p99_ms']:.1f} ms  "
          f"max {1000 * max(turn, default=float('nan')):.0f} ms")
    print(f"  key -> next prompt (n={len(gaps)}): p50 {out['gap_p50_ms']:.0f} ms  p99 {out['gap_p99_ms']:.0f} ms  "
          f"max {1000 * max(gaps) if gaps else float('nan'):.0f} ms")
    for step in STEPS:
        values = sim.get("gaps", {}).get(step, [])
        print(f"    {step:16s} p50 {1000 * percentile(values, 0.5):5.0f} ms  p99 {1000 * percentile(values, 0.99):5.0f} ms"
              f"  (n={len(values)})")
    return out


def main() -> None:
    from hotline.settings import CallServerSettings

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--calls", type=int, default=1500, help="callers in the main phase")
    parser.add_argument("--concurrency", type=int, default=500, help="target concurrent calls in the main phase")
    parser.add_argument("--rate", type=float, default=30.0, help="new calls per second in the main phase")
    parser.add_argument("--baseline-concurrency", type=int, default=50, help="0 skips the baseline")
    parser.add_argument("--baseline-calls", type=int, default=150)
    parser.add_argument("--customers", type=int, default=2000, help="customers (one order each) to seed")
    parser.add_argument("--prompt-seconds", type=float, default=1.0, help="length of every prompt WAV")
    parser.add_argument("--think", type=float, default=0.3, help="caller's pause after a prompt before a key")
    parser.add_argument("--db-threads", type=int, default=8, help="CrmGateway pool threads (and DB connections)")
    parser.add_argument("--no-gc-freeze", action="store_true",
                        help="leave start-up objects in full GC passes (hotline.engine.settle_memory is skipped)")
    parser.add_argument("--no-record", action="store_true",
                        help="run without the call recorder (no CDR per call): what the call record costs")
    parser.add_argument("--switch-interval-ms", type=float, default=CallServerSettings.switch_interval_ms,
                        help="sys.setswitchinterval for the engine process (the engine's callserver setting; "
                             "CPython's own default is 5)")
    parser.add_argument("--exec-delay-ms", type=float, help="simulator delay before a queued app (default 20 ms)")
    parser.add_argument("--pg-url", default=os.environ.get("HOTLINE_TEST_PG_URL", DEFAULT_PG))
    parser.add_argument("--profile", help="cProfile the engine in the main phase: reactor thread into FILE, "
                                          "database pool threads into FILE.db")
    parser.add_argument("--keep-db", action="store_true", help="do not drop the scratch database")
    # child-process arguments
    parser.add_argument("--sim-child", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--engine-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", help=argparse.SUPPRESS)
    parser.add_argument("--plan", help=argparse.SUPPRESS)
    parser.add_argument("--offset", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--hold", type=float, default=1.0, help=argparse.SUPPRESS)
    parser.add_argument("--deadline", type=float, default=600, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.sim_child:
        sim_child(args)
        return

    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < 8192:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(8192, hard), hard))
    logging_off()
    start_load = load1()
    workdir = Path(tempfile.mkdtemp(prefix="hotline-bench-ivr-"))
    url, dbname = create_database(args.pg_url)
    try:
        run(args, workdir, url, start_load)
    finally:
        if not args.keep_db:
            drop_database(args.pg_url, dbname)
        shutil.rmtree(workdir, ignore_errors=True)


def run(args: argparse.Namespace, workdir: Path, url: str, start_load: float) -> None:
    from twisted.internet import defer, reactor

    from crm_core import migrate
    from crm_core.db import make_engine, session_factory, transaction
    from freeswitch.callserver import CallServer
    from hotline.engine import CALL_EVENTS, settle_memory
    from ivr.menu.store import import_and_publish
    from ivr.menu.yaml_io import load_yaml
    from ivr.prompts.cache import PromptCache
    from ivr.prompts.catalogue import Catalogue
    from ivr.prompts.renderer import PromptBuilder, PromptRenderer
    from ivr.runtime.app import IvrApplication
    from ivr.runtime.prompts import RendererPromptPlayer
    from ivr.runtime.session import IvrConfig

    t0 = time.perf_counter()
    migrate.upgrade(url)
    engine = make_engine(url, pool_size=args.db_threads)
    factory = session_factory(engine)
    seeded = seed(factory, args.customers)
    with transaction(factory) as session:
        import_and_publish(session, load_yaml(REPO / "menus" / "demo.yaml"), by="bench")
    template = workdir / "template.wav"
    write_wav(template, args.prompt_seconds)
    synth = BenchSynth(template)
    catalogue = Catalogue.load()
    builder = PromptBuilder(catalogue, PromptCache(workdir / "prompt-cache", synth),
                            {"zh": "sit/cmn-latn-pinyin", "en": "gmw/en-us"})
    plan, written = prerender(factory, builder, seeded, args.prompt_seconds, template)
    plan_file = workdir / "plan.json"
    plan_file.write_text(json.dumps(plan))
    sys.setswitchinterval(args.switch_interval_ms / 1000.0)  # as hotline.engine does from the settings
    print(f"GIL switch interval {args.switch_interval_ms:g} ms, per-call events beyond myevents: "
          f"{', '.join(CALL_EVENTS) or 'none'}")
    print(f"python {sys.version.split()[0]}, reactor {type(reactor).__name__}, {os.cpu_count()} cores, "
          f"load average {start_load:.2f} at start; scratch PostgreSQL database seeded with {len(seeded)} "
          f"customers/orders, demo menu published, {written} prompts pre-rendered "
          f"({args.prompt_seconds:g} s each) in {time.perf_counter() - t0:.1f} s")

    # Call length without the hold: 9 prompt files (language menu and the SMS offer are two each), 5 pauses,
    # 14 digits 100 ms apart, and ~0.5 s of the simulator's 20 ms per app and the engine's turns.
    base_length = 9 * args.prompt_seconds + 5 * args.think + 1.4 + 0.5

    def hold_for(concurrency: int, rate: float) -> float:
        return max(0.5, concurrency / rate - base_length)

    longest_hold = hold_for(args.concurrency, args.rate)
    if args.baseline_concurrency:
        longest_hold = max(longest_hold, hold_for(args.baseline_concurrency,
                                                  args.rate * args.baseline_concurrency / args.concurrency))
    db = DbStats()
    gateway = make_gateway(factory, reactor, db, args.db_threads)
    renderer = PromptRenderer(builder, reactor)
    # input_timeout covers the caller's hold on the last menu (the caller hangs up there).
    config = IvrConfig(recordings_dir=workdir / "recordings", input_timeout=max(6.0, longest_hold + 10))
    player = RendererPromptPlayer(renderer)
    prompt_waits: list[float] = []  # files() asked -> paths back on the reactor thread
    files = player.files

    def timed_files(*a, **kw):
        t = time.perf_counter()
        return files(*a, **kw).addCallback(lambda r: prompt_waits.append(time.perf_counter() - t) or r)

    player.files = timed_files  # type: ignore[method-assign]
    from hotline.recorder import CallRecorder

    # every call's CDR, as hotline.wiring builds it (--no-record: without it, to see what the record costs)
    recorder = None if args.no_record else CallRecorder(gateway.db, reactor)
    app = IvrApplication(gateway, player, clock=OpenHoursClock(reactor), config=config, recorder=recorder)
    handled, peak = [0], [0]

    async def handle(call) -> None:
        try:
            if recorder is not None:
                recorder.entered(call)  # what the engine's CallRouter does first
            await app.handle(call)
        finally:
            handled[0] += 1
            peak[0] = max(peak[0], len(app.sessions) + 1)

    turnaround = instrument_turnaround()
    pauses = gc_pauses()
    if not args.no_gc_freeze:
        settle_memory()  # as Engine.start does once everything is built
    server = CallServer(handle, reactor, exit_grace=10, extra_events=CALL_EVENTS)  # as hotline.engine builds it
    port = server.start(reactor, "127.0.0.1", 0).getHost().port
    ctx = {"args": args, "app": app, "server": server, "db": db, "handled": handled, "peak": peak, "port": port,
           "workdir": workdir, "plan_file": plan_file, "hold_for": hold_for, "synth": synth,
           "prompt_waits": prompt_waits, "turnaround": turnaround, "gc": pauses}
    phases = []
    if args.baseline_concurrency:
        phases.append(Phase("baseline", args.baseline_calls, args.baseline_concurrency,
                            args.rate * args.baseline_concurrency / args.concurrency))
    phases.append(Phase("main", args.calls, args.concurrency, args.rate))
    print(f"per call: greeting, language menu -> 1, main menu -> 1, order status -> 1, order number + #, "
          f"status + SMS offer, hold, hang-up (think {args.think:g} s before each key)")
    results: list[dict] = []

    @defer.inlineCallbacks
    def go():
        try:
            offset = 0
            for phase in phases:
                raw = yield run_phase(reactor, ctx, phase, offset, args.profile if phase.label == "main" else None)
                offset += phase.calls
                results.append(report(raw))
        finally:
            yield server.stop_listening()
            gateway.stop()
            renderer.stop()
            reactor.stop()

    reactor.callWhenRunning(go)
    reactor.run()
    engine.dispose()
    if not results:
        return
    print(f"\nsummary (goal: >= 500 concurrent IVR calls on one engine core, key -> next prompt p99 < 100 ms); "
          f"load average now {load1():.2f} on {os.cpu_count()} cores shared with other work:")
    for r in results:
        steady = f"{100 * r['steady_util']:.0f}%" if r["steady_util"] is not None else "n/a"
        print(f"  {r['label']:8s} peak {r['peak']} calls, {r['calls_per_s']:5.1f} completed calls/s, gap p50 "
              f"{r['gap_p50_ms']:4.0f} ms p99 {r['gap_p99_ms']:5.0f} ms (engine's share p99 {r['turn_p99_ms']:.0f} ms), "
              f"engine {r['cpu_per_call_ms']:.1f} ms CPU/call "
              f"({100 * r['util']:.0f}% core, {steady} with all calls up; database {100 * r['db_share']:.0f}% of it), "
              f"simulator {100 * r['sim_util']:.0f}% core, failures {r['failures']}, load {r['load'][0]:.2f}->"
              f"{r['load'][1]:.2f}")
    if args.profile:
        import pstats

        print(f"\nengine reactor-thread profile of the main phase ({args.profile}), top 25 by own time:")
        pstats.Stats(args.profile).sort_stats("tottime").print_stats(25)
        if Path(args.profile + ".db").exists():
            print(f"database pool threads' transactions ({args.profile}.db), top 25 by cumulative time:")
            pstats.Stats(args.profile + ".db").sort_stats("cumulative").print_stats(25)


if __name__ == "__main__":
    main()
