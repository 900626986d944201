"""Benchmark the CRM hot path: phone orders placed per second, and order-status look-up latency at scale.

    .venv/bin/python bench/crm_orders.py [--pg-url URL] [--orders 2000] [--threads 8,16]
                                         [--lookup-rows 1000000] [--sqlite-lookup-rows N] [--backends sqlite,postgresql]
                                         [--profile N] [--no-ceiling] [--async-commit-info]

Each backend gets a throw-away database (a temp file; a new PostgreSQL
database created beside ``--pg-url`` / ``$HOTLINE_TEST_PG_URL`` and dropped at
the end), migrated with the real migrations. Orders go through
``crm_core.services.place_order`` in one transaction each; look-ups through
``order_by_number`` in a fresh session each, as the IVR does. Orders are
timed with one thread (the per-call latency bound) and with each of
``--threads`` (PostgreSQL only; SQLite has one writer); on PostgreSQL each
order is one statement plus its COMMIT, so many connections let the server
flush several commits with one WAL write (group commit).

To judge a PostgreSQL figure, the bench first measures what the box can do at
all: the "commit ceiling", transactions per second of a one-row INSERT +
COMMIT loop (raw psycopg, same thread counts). Single-thread orders can never
beat the single-connection ceiling (one WAL flush each). With
``--async-commit-info`` it also times orders with ``synchronous_commit=off``
on the bench's own sessions: an INFORMATIONAL line only, never how Hotline
runs (a crash could lose the last commits; the database is the record).

Each row carries the 1-minute load average before and after its timing, so
a figure taken while other processes loaded this machine can be told apart.
``--profile N`` prints a cProfile of N single-thread orders. The figures are
printed, never asserted.
"""

from __future__ import annotations

import argparse
import cProfile
import datetime as dt
import io
import pstats
import os
import random
import statistics
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import create_engine, func, select, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from crm_core import migrate  # noqa: E402
from crm_core.db import make_engine, session_factory, transaction  # noqa: E402
from crm_core.models import Customer, CustomerPhone, Order, Product, Stock, Warehouse  # noqa: E402
from crm_core.services import order_by_number, place_order  # noqa: E402
from crm_core.services.orders import luhn_digit  # noqa: E402

PRODUCTS = 50
CUSTOMERS = 1000
START_LOAD = os.getloadavg()


def _create_pg_database(base: str) -> tuple[str, str]:
    name = f"hotline_bench_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False), name


def _drop_pg_database(base: str, name: str) -> None:
    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _seed(factory) -> tuple[list[str], list[int]]:
    with transaction(factory) as session:
        warehouse = Warehouse(code="MAIN", name="Main warehouse")
        session.add(warehouse)
        products = [Product(sku=f"SKU{i}", phone_code=str(1000 + i), name=f"Product {i}", price=f"{19 + i}.90")
                    for i in range(PRODUCTS)]
        session.add_all(products)
        session.flush()
        session.add_all(Stock(product_id=p.id, warehouse_id=warehouse.id, on_hand=10_000_000) for p in products)
        customers = [Customer(name=f"Caller {i}", phones=[CustomerPhone(e164=f"+86139{i:08d}", is_primary=True)])
                     for i in range(CUSTOMERS)]
        session.add_all(customers)
        session.flush()
        return [p.phone_code for p in products], [c.id for c in customers]


def bench_orders(
    factory, codes: list[str], customers: list[int], total: int, threads: int, multi_share: float
) -> tuple[float, int]:
    """Place ``total`` orders from ``threads`` threads (``multi_share`` of them two-product); (orders/s, failures)."""
    per_thread = total // threads
    failures = [0]
    lock = threading.Lock()
    start_gate = threading.Barrier(threads + 1)

    def worker(seed: int) -> None:
        rng = random.Random(seed)
        start_gate.wait()
        for _ in range(per_thread):
            products = 2 if rng.random() < multi_share else 1
            lines = [(code, rng.randint(1, 3)) for code in rng.sample(codes, products)]
            try:
                with transaction(factory) as session:
                    place_order(session, rng.choice(customers), lines, media_source="4008001234")
            except Exception:  # noqa: BLE001 - a benchmark counts failures, it does not stop on them
                with lock:
                    failures[0] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    start_gate.wait()
    began = time.perf_counter()
    for thread in pool:
        thread.join()
    elapsed = time.perf_counter() - began
    return per_thread * threads / elapsed, failures[0]


SERVER_SETTINGS: dict[str, str] = {}


def _server_settings(url: str) -> dict[str, str]:
    """The settings that decide what a COMMIT costs, as the server runs them."""
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            return {n: connection.exec_driver_sql(f"SHOW {n}").scalar()
                    for n in ("synchronous_commit", "fsync", "wal_sync_method", "commit_delay")}
    finally:
        engine.dispose()


def commit_ceiling(url: str, threads: int, seconds: float) -> float:
    """Transactions/s of a one-row INSERT + COMMIT loop from ``threads`` raw psycopg connections: the box's ceiling."""
    import psycopg

    dsn = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS bench_commit_probe (id bigserial PRIMARY KEY, v integer,"
                     " at timestamptz DEFAULT now())")
    counts = [0] * threads
    gate = threading.Barrier(threads + 1)
    stop = threading.Event()

    def worker(index: int) -> None:
        with psycopg.connect(dsn) as conn:
            gate.wait()
            while not stop.is_set():
                conn.execute("INSERT INTO bench_commit_probe (v) VALUES (%s)", [index])
                conn.commit()
                counts[index] += 1

    pool = [threading.Thread(target=worker, args=(i,)) for i in range(threads)]
    for thread in pool:
        thread.start()
    gate.wait()
    began = time.perf_counter()
    time.sleep(seconds)
    stop.set()
    for thread in pool:
        thread.join()
    return sum(counts) / (time.perf_counter() - began)


def _bulk_numbers(count: int) -> list[str]:
    # i * k mod 9e8 with k coprime to 9e8 is a permutation: unique nine-digit bodies, no collisions.
    bodies = (str(100_000_000 + (i * 611_953) % 900_000_000) for i in range(count))
    return [b + luhn_digit(b) for b in bodies]


def bulk_load(engine, customers: list[int], rows: int) -> tuple[list[str], float]:
    """Replace the orders table's contents with ``rows`` orders as fast as the driver allows."""
    numbers = _bulk_numbers(rows)
    now = dt.datetime.now(dt.timezone.utc)
    began = time.perf_counter()
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        if engine.dialect.name == "postgresql":
            cursor.execute("TRUNCATE orders CASCADE")
            columns = "number, customer_id, status, channel, delivery_method, payment_method, subtotal, total, created_at"
            with cursor.copy(f"COPY orders ({columns}) FROM STDIN") as copy:
                for i, number in enumerate(numbers):
                    copy.write_row((number, customers[i % len(customers)], "ordered", "ivr", "courier", "cod",
                                    "99.00", "99.00", now))
            raw.commit()
            raw.driver_connection.autocommit = True
            cursor.execute("VACUUM (ANALYZE) orders")  # steady state: no autovacuum racing the timings
            raw.driver_connection.autocommit = False
        else:
            cursor.execute("DELETE FROM points_entries")
            cursor.execute("DELETE FROM orders")
            stamp = now.strftime("%Y-%m-%d %H:%M:%S.%f")
            cursor.execute("BEGIN")
            cursor.executemany(
                "INSERT INTO orders (number, customer_id, status, channel, delivery_method, payment_method,"
                " subtotal, total, created_at, updated_at) VALUES (?, ?, 'ordered', 'ivr', 'courier', 'cod',"
                " 99.0, 99.0, ?, ?)",
                ((n, customers[i % len(customers)], stamp, stamp) for i, n in enumerate(numbers)),
            )
            cursor.execute("COMMIT")
            cursor.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return numbers, time.perf_counter() - began


def bench_lookups(factory, numbers: list[str], samples: int) -> tuple[float, float, float]:
    """Latency of order-status look-up by number, one fresh session each: (p50, p99, max) in ms."""
    rng = random.Random(7)
    timings = []
    for number in rng.sample(numbers, min(200, len(numbers))):  # warm-up: pool, prepared statements, cache
        with factory() as session:
            order_by_number(session, number)
    for number in rng.sample(numbers, min(samples, len(numbers))):
        began = time.perf_counter()
        with factory() as session:
            status = order_by_number(session, number).status
        timings.append((time.perf_counter() - began) * 1000)
        assert status == "ordered"
    timings.sort()
    return statistics.median(timings), timings[int(len(timings) * 0.99) - 1], timings[-1]


def _load1() -> float:
    return os.getloadavg()[0]


def profile_orders(factory, codes: list[str], customers: list[int], count: int, top: int = 25) -> str:
    """cProfile of ``count`` single-line orders from one thread, the ``top`` functions by own time."""
    rng = random.Random(99)
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        with transaction(factory) as session:
            place_order(session, rng.choice(customers), [(rng.choice(codes), 1)], media_source="4008001234")
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("tottime").print_stats(top)
    return out.getvalue()


def _thread_counts(name: str, args: argparse.Namespace) -> list[int]:
    if name != "postgresql":
        return [1]
    return [1] + sorted({t for t in args.threads if t > 1})


def run_backend(name: str, url: str, args: argparse.Namespace, lookup_rows: int) -> list[dict[str, str]]:
    migrate.upgrade(url)
    thread_counts = _thread_counts(name, args)
    engine = make_engine(url, pool_size=max(thread_counts) + 2)
    factory = session_factory(engine)
    try:
        results = []
        if name == "postgresql":
            SERVER_SETTINGS.update(_server_settings(url))
        if name == "postgresql" and args.ceiling:
            for threads in thread_counts:
                load_before = _load1()
                tps = commit_ceiling(url, threads, args.ceiling_seconds)
                results.append({"backend": "commit ceiling", "threads": str(threads), "orders/s": f"{tps:,.0f}",
                                "load 1m": f"{load_before:.2f}>{_load1():.2f}"})
        codes, customers = _seed(factory)
        bench_orders(factory, codes, customers, min(200, args.orders), 1, args.multi_line_share)  # warm-up
        for threads in thread_counts:
            load_before = _load1()
            rate, failures = bench_orders(factory, codes, customers, args.orders, threads, args.multi_line_share)
            results.append({"backend": name, "threads": str(threads), "orders/s": f"{rate:,.0f}",
                            "failed": str(failures), "load 1m": f"{load_before:.2f}>{_load1():.2f}"})
        if name == "postgresql" and args.async_commit_info:
            results.extend(_async_commit_info(url, codes, customers, thread_counts, args))
        if args.profile:
            print(f"--- {name}: cProfile of {args.profile} single-thread orders ---", file=sys.stderr)
            print(profile_orders(factory, codes, customers, args.profile), file=sys.stderr)
        with factory() as session:
            placed = session.scalar(select(func.count()).select_from(Order))
        results[-1]["placed"] = f"{placed:,}"
        if lookup_rows:
            numbers, load_s = bulk_load(engine, customers, lookup_rows)
            p50, p99, worst = bench_lookups(factory, numbers, args.lookups)
            results[-1].update({"rows": f"{lookup_rows:,}", "load s": f"{load_s:.1f}",
                                "p50 ms": f"{p50:.3f}", "p99 ms": f"{p99:.3f}", "max ms": f"{worst:.2f}"})
        return results
    finally:
        engine.dispose()


def _async_commit_info(url: str, codes: list[str], customers: list[int], thread_counts: list[int],
                       args: argparse.Namespace) -> list[dict[str, str]]:
    """INFORMATION ONLY: the same orders with synchronous_commit=off on the bench's own sessions (not durable)."""
    from sqlalchemy import event

    engine = make_engine(url, pool_size=max(thread_counts) + 2)

    @event.listens_for(engine, "connect")
    def _async_commit(dbapi_connection, _record) -> None:
        with dbapi_connection.cursor() as cursor:
            cursor.execute("SET synchronous_commit = off")
        dbapi_connection.commit()

    factory = session_factory(engine)
    rows = []
    try:
        bench_orders(factory, codes, customers, min(200, args.orders), 1, args.multi_line_share)  # warm-up
        for threads in (thread_counts[0], thread_counts[-1]):
            load_before = _load1()
            rate, failures = bench_orders(factory, codes, customers, args.orders, threads, args.multi_line_share)
            rows.append({"backend": "INFO async commit", "threads": str(threads), "orders/s": f"{rate:,.0f}",
                         "failed": str(failures), "load 1m": f"{load_before:.2f}>{_load1():.2f}"})
    finally:
        engine.dispose()
    return rows


def _print_table(rows: list[dict[str, str]]) -> None:
    headers = ["backend", "threads", "orders/s", "failed", "load 1m", "placed", "rows", "load s", "p50 ms", "p99 ms",
               "max ms"]
    widths = [max(len(h), *(len(r.get(h, "-")) for r in rows)) for h in headers]
    print("  ".join(h.rjust(w) for h, w in zip(headers, widths, strict=True)))
    print("  ".join("-" * w for w in widths))
    for row in rows:
        print("  ".join(row.get(h, "-").rjust(w) for h, w in zip(headers, widths, strict=True)))
    print("\ngoals: >= 500 orders/s on PostgreSQL; p99 look-up < 5 ms")
    if any(r["backend"] == "commit ceiling" for r in rows):
        print("commit ceiling: one-row INSERT + COMMIT transactions/s from raw psycopg connections (durable:"
              " synchronous_commit as configured) - what this box can commit at all; an order (one statement +"
              " COMMIT on PostgreSQL) cannot beat it at the same thread count")
    if any(r["backend"] == "INFO async commit" for r in rows):
        print("INFO async commit: orders with synchronous_commit=off on the bench's sessions only - NOT how Hotline"
              " runs (a crash may lose the last commits), shown only to separate WAL-flush cost from the rest")
    if SERVER_SETTINGS:
        print("postgresql server: " + ", ".join(f"{k}={v}" for k, v in SERVER_SETTINGS.items()))
    print("load 1m: the 1-minute load average before>after that timing; above the cpu count, other processes"
          " were competing for the cpus (the database server runs on this machine too)")
    print(f"cpus: {os.cpu_count()}, load average at start: {' '.join(f'{x:.2f}' for x in START_LOAD)},"
          f" at end: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--pg-url", default=os.environ.get("HOTLINE_TEST_PG_URL"),
                        help="PostgreSQL server URL (a role with CREATEDB); default $HOTLINE_TEST_PG_URL")
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--orders", type=int, default=2000, help="orders to place per backend")
    parser.add_argument("--threads", type=lambda v: [int(t) for t in v.split(",")], default=[8, 16],
                        help="comma-separated thread counts for PostgreSQL orders (one thread is always timed too)")
    parser.add_argument("--no-ceiling", dest="ceiling", action="store_false",
                        help="skip measuring the commit ceiling (one-row INSERT + COMMIT tps) on PostgreSQL")
    parser.add_argument("--ceiling-seconds", type=float, default=3.0, help="seconds per commit-ceiling timing")
    parser.add_argument("--async-commit-info", action="store_true",
                        help="also time orders with synchronous_commit=off (informational, clearly labelled)")
    parser.add_argument("--multi-line-share", type=float, default=0.2,
                        help="share of orders with two products (the rest: one product, 1-3 units, as IVR orders)")
    parser.add_argument("--lookup-rows", type=int, default=1_000_000, help="orders in the table for look-ups")
    parser.add_argument("--sqlite-lookup-rows", type=int, default=None, help="override --lookup-rows for SQLite")
    parser.add_argument("--lookups", type=int, default=5000, help="look-ups timed")
    parser.add_argument("--profile", type=int, default=0, metavar="N",
                        help="print a cProfile of N single-thread orders per backend (stderr)")
    args = parser.parse_args(argv)
    rows = []
    for name in args.backends.split(","):
        if name == "sqlite":
            with tempfile.TemporaryDirectory() as folder:
                lookup_rows = args.lookup_rows if args.sqlite_lookup_rows is None else args.sqlite_lookup_rows
                rows.extend(run_backend(name, f"sqlite:///{folder}/bench.db", args, lookup_rows))
        elif name == "postgresql":
            if not args.pg_url:
                print("postgresql: skipped (no --pg-url and no $HOTLINE_TEST_PG_URL)", file=sys.stderr)
                continue
            url, database = _create_pg_database(args.pg_url)
            try:
                rows.extend(run_backend(name, url, args, args.lookup_rows))
            finally:
                _drop_pg_database(args.pg_url, database)
        print(f"{name}: done", file=sys.stderr)
    _print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
