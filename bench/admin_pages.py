"""Benchmark the admin pages at scale: the orders list and the reports page with a million orders.

    .venv/bin/python bench/admin_pages.py [--pg-url URL] [--orders 1000000] [--cdrs N] [--interactions N]
                                          [--backends postgresql,sqlite] [--repeat 9]
                                          [--pg-db NAME] [--sqlite-path FILE] [--explain] [--pages a,b]

Each backend gets a throw-away database (a temp file; a PostgreSQL database
created beside ``--pg-url`` / ``$HOTLINE_TEST_PG_URL`` and dropped at the
end), migrated with the real migrations, then bulk-loaded (COPY on
PostgreSQL, one executemany transaction on SQLite): ``--orders`` orders over
the last year from 1,000 customers and eight media sources, as many inbound
CDRs (``--cdrs``) over the same year with answered / abandoned calls and wrap-up
over four queues and 40 agents, IVR / SMS / fax interactions, agent state
changes and complaints. Then the admin app (Flask test client, logged in as
admin) serves each page ``--repeat`` times after one warm-up, and the server
time p50 / p95 / max are printed: orders list (default sort, first page),
order search by phone, by order number, and the reports page for the last
30 days. The goal is < 300 ms each; figures are printed, never asserted.

``--pg-db NAME`` / ``--sqlite-path FILE`` keep the database between runs
(created and loaded when empty, migrated to head every run, never dropped),
so a query change can be re-timed without the load. ``--explain`` prints the
plan of every SQL statement each page runs (``EXPLAIN (ANALYZE, BUFFERS)`` on
PostgreSQL, ``EXPLAIN QUERY PLAN`` on SQLite). ``--pages`` picks pages by
key: list, phone, number, reports.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from crm_orders import _create_pg_database, _drop_pg_database, _bulk_numbers, _seed  # noqa: E402

from crm_core import migrate  # noqa: E402
from crm_core.db import make_engine, session_factory, transaction  # noqa: E402
from crm_core.models import Agent, Queue  # noqa: E402

UTC = dt.timezone.utc
SOURCES = ["4008001234", "4008005678", "4008009999", "4006661111", "4006662222", "4007770000", "4001230001", None]
QUEUES = ["sales", "service", "vip", "english"]
AGENTS = 40
DAYS = 365
STATES = ["available", "on_call", "wrap_up", "available", "not_ready", "available", "on_call", "wrap_up"]


def _stamp(value: dt.datetime, dialect: str) -> object:
    return value if dialect == "postgresql" else value.astimezone(UTC).replace(tzinfo=None).strftime(
        "%Y-%m-%d %H:%M:%S.%f")


def _copy_or_insert(raw, dialect: str, table: str, columns: list[str], rows) -> None:
    cursor = raw.cursor()
    if dialect == "postgresql":
        with cursor.copy(f"COPY {table} ({', '.join(columns)}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
    else:
        marks = ", ".join("?" for _ in columns)
        cursor.executemany(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows)


def load(engine, customers: list[int], args: argparse.Namespace) -> dict[str, float]:
    """Bulk-load orders, CDRs, interactions, state changes and complaints; seconds per table."""
    dialect = engine.dialect.name
    now = dt.datetime.now(UTC)
    rng = random.Random(11)
    timings: dict[str, float] = {}
    with transaction(session_factory(engine)) as s:
        queues = [Queue(name=n, sl_target_seconds=20) for n in QUEUES]
        agents = [Agent(login=f"bench{i}", name=f"Bench agent {i}", extension=str(3000 + i), password_hash="x")
                  for i in range(AGENTS)]
        s.add_all(queues + agents)
        s.flush()
        queue_ids, agent_ids = [q.id for q in queues], [a.id for a in agents]
    phones = [f"+86139{i:08d}" for i in range(len(customers))]
    raw = engine.raw_connection()
    try:
        if dialect == "sqlite":
            raw.cursor().execute("BEGIN")
        began = time.perf_counter()
        numbers = _bulk_numbers(args.orders)
        span = DAYS * 86400

        def orders():
            for i, number in enumerate(numbers):
                created = now - dt.timedelta(seconds=span * (1 - i / len(numbers)))  # ids grow with time
                total = f"{rng.randint(20, 2000)}.00"
                status = "cancelled" if i % 37 == 0 else "ordered"
                c = i % len(customers)
                yield (number, customers[c], status, "ivr", "courier", "cod", SOURCES[i % len(SOURCES)],
                       phones[c] if i % 3 else None, total, total, _stamp(created, dialect), _stamp(created, dialect))

        _copy_or_insert(raw, dialect, "orders", ["number", "customer_id", "status", "channel", "delivery_method",
                                                  "payment_method", "media_source", "ship_to_phone", "subtotal",
                                                  "total", "created_at", "updated_at"], orders())
        timings["orders"] = time.perf_counter() - began

        began = time.perf_counter()

        def cdrs():
            for i in range(args.cdrs):
                entered = now - dt.timedelta(seconds=span * (1 - i / args.cdrs))
                wait = rng.expovariate(1 / 25)
                abandoned = i % 11 == 0
                answered = None if abandoned else entered + dt.timedelta(seconds=wait)
                ended = entered + dt.timedelta(seconds=wait) if abandoned else answered + dt.timedelta(
                    seconds=rng.randint(30, 600))
                wrap = None if abandoned else ended + dt.timedelta(seconds=rng.randint(0, 60))
                yield (f"bench-{i}", "inbound", queue_ids[i % len(queue_ids)],
                       None if abandoned else agent_ids[i % len(agent_ids)], SOURCES[i % len(SOURCES)],
                       _stamp(entered, dialect), _stamp(entered, dialect),
                       None if answered is None else _stamp(answered, dialect), _stamp(ended, dialect),
                       None if wrap is None else _stamp(wrap, dialect), "abandoned" if abandoned else "answered")

        _copy_or_insert(raw, dialect, "call_detail_records",
                        ["uuid", "direction", "queue_id", "agent_id", "dnis", "entered_at", "queued_at",
                         "answered_at", "ended_at", "wrapup_ended_at", "disposition"], cdrs())
        timings["cdrs"] = time.perf_counter() - began

        began = time.perf_counter()

        def interactions():
            for i in range(args.interactions):
                at = _stamp(now - dt.timedelta(seconds=span * (1 - i / args.interactions)), dialect)
                kind = i % 10
                if kind < 6:
                    detail = {"event": "option", "node": rng.choice(["main", "orders", "products"]),
                              "key": str(rng.randint(1, 6))}
                    yield ("ivr", "inbound", json.dumps(detail), at)
                elif kind < 8:
                    yield ("ivr", "inbound", json.dumps({"event": "product", "code": str(1000 + i % 50)}), at)
                elif kind == 8:
                    yield ("sms", "outbound", None, at)
                else:
                    yield ("fax", "inbound", None, at)

        _copy_or_insert(raw, dialect, "interactions", ["channel", "direction", "detail", "occurred_at"],
                        interactions())

        def states():
            for day in range(31):
                for a in agent_ids:
                    t0 = now - dt.timedelta(days=day, hours=8)
                    for k, state in enumerate(STATES * 6):
                        yield (a, state, _stamp(t0 + dt.timedelta(minutes=10 * k), dialect))

        _copy_or_insert(raw, dialect, "agent_state_log", ["agent_id", "state", "at"], states())

        def complaints():
            for i in range(args.orders // 100):
                at = _stamp(now - dt.timedelta(seconds=span * (1 - i / (args.orders // 100))), dialect)
                yield (rng.choice(["product_quality", "service", "logistics", "other"]), "call",
                       rng.choice(["open", "resolved"]), at, at)

        _copy_or_insert(raw, dialect, "complaints", ["category", "channel", "status", "created_at", "updated_at"],
                        complaints())
        timings["other tables"] = time.perf_counter() - began
        raw.commit()
        began = time.perf_counter()
        cursor = raw.cursor()
        if dialect == "postgresql":
            raw.driver_connection.autocommit = True
            cursor.execute("VACUUM (ANALYZE)")  # steady state: visibility map set, no autovacuum racing the timings
            raw.driver_connection.autocommit = False
        else:
            cursor.execute("ANALYZE")
            raw.commit()
        timings["analyze"] = time.perf_counter() - began
    finally:
        raw.close()
    return timings


def measure(client, url: str, repeat: int) -> tuple[float, float, float, int]:
    """(p50, p95, max) server time in ms of ``repeat`` GETs after one warm-up, and the response size."""
    first = client.get(url)
    assert first.status_code == 200, (url, first.status_code, first.text[:500])
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        response = client.get(url)
        response.get_data()
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, url
    timings.sort()
    p95 = timings[min(len(timings) - 1, int(round(len(timings) * 0.95)) - 1)]
    return statistics.median(timings), p95, timings[-1], len(first.get_data())


def _loaded(engine) -> int:
    from sqlalchemy import text

    with engine.connect() as connection:
        return int(connection.execute(text("SELECT count(*) FROM (SELECT 1 FROM orders LIMIT 1) o")).scalar())


def _analyze(engine) -> None:
    raw = engine.raw_connection()
    try:
        if engine.dialect.name == "postgresql":
            raw.driver_connection.autocommit = True
            raw.cursor().execute("VACUUM (ANALYZE)")
        else:
            raw.cursor().execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()


def explain(engine, label: str, statements: list[tuple[str, object]]) -> None:
    """Print the plan of each statement a page ran (EXPLAIN ANALYZE BUFFERS on PostgreSQL)."""
    dialect = engine.dialect.name
    prefix = "EXPLAIN (ANALYZE, BUFFERS) " if dialect == "postgresql" else "EXPLAIN QUERY PLAN "
    raw = engine.raw_connection()
    try:
        for i, (statement, parameters) in enumerate(statements, 1):
            cursor = raw.cursor()
            cursor.execute(prefix + statement, parameters)
            plan = cursor.fetchall()
            first = " ".join(statement.split())
            print(f"--- {label} [{i}/{len(statements)}]: {first[:400]}")
            for row in plan:
                print("    " + (row[0] if dialect == "postgresql" else " " * (2 * 0) + str(row[-1])))
        raw.rollback()
    finally:
        raw.close()


def run_backend(name: str, url: str, args: argparse.Namespace) -> list[dict[str, str]]:
    migrate.upgrade(url)
    engine = make_engine(url)
    try:
        if _loaded(engine):
            print(f"{name}: reusing the loaded database", flush=True)
            if args.analyze:
                _analyze(engine)
        else:
            _codes, customers = _seed(session_factory(engine))
            timings = load(engine, customers, args)
            print(f"{name}: loaded {args.orders:,} orders, {args.cdrs:,} CDRs, {args.interactions:,} interactions "
                  f"({', '.join(f'{k} {v:.1f} s' for k, v in timings.items())})", flush=True)
    finally:
        engine.dispose()

    from admin.app import create_app
    from admin.bootstrap import create_demo_users
    from admin.extensions import db

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "SECRET_KEY": "bench", "WTF_CSRF_ENABLED": False})
    with app.app_context():
        create_demo_users(db.session)
        db.session.commit()
    client = app.test_client()
    response = client.post("/login", data={"username": "admin", "password": "admin-demo"})
    assert response.status_code == 302, response.text[:300]
    today = dt.datetime.now(dt.timezone(dt.timedelta(minutes=480))).date()
    start = (today - dt.timedelta(days=29)).isoformat()
    number = _bulk_numbers(args.orders)[args.orders // 2]
    pages = [
        ("list", "orders list (default sort, page 1)", "/admin/orders/"),
        ("phone", "orders: search by phone", "/admin/orders/?search=13900000042"),
        ("number", "orders: search by order number", f"/admin/orders/?search={number}"),
        ("reports", "reports page (30 days)", f"/admin/reports/?start={start}&end={today.isoformat()}"),
    ]
    wanted = {p.strip() for p in args.pages.split(",") if p.strip()} if args.pages else None
    rows = []
    for key, label, page in pages:
        if wanted is not None and key not in wanted:
            continue
        if args.explain:
            from sqlalchemy import event

            statements: list[tuple[str, object]] = []

            def record(_conn, _cursor, statement, parameters, _context, _many, statements=statements):
                statements.append((statement, parameters))

            with app.app_context():
                engine = db.engine
            event.listen(engine, "before_cursor_execute", record)
            try:
                assert client.get(page).status_code == 200
            finally:
                event.remove(engine, "before_cursor_execute", record)
            skip = ("admin_users", "SAVEPOINT", "RELEASE", "ROLLBACK", "admin_roles")
            explain(engine, label, [(s, p) for s, p in statements
                                    if s.lstrip().upper().startswith("SELECT") and not any(k in s for k in skip)])
        p50, p95, worst, size = measure(client, page, args.repeat)
        rows.append({"backend": name, "page": label, "p50 ms": f"{p50:,.0f}", "p95 ms": f"{p95:,.0f}",
                     "max ms": f"{worst:,.0f}", "goal": "ok" if p95 < 300 else "SLOW", "kB": f"{size / 1024:,.0f}"})
        print(f"  {label}: p50 {p50:,.0f} ms, p95 {p95:,.0f} ms", flush=True)
    with app.app_context():
        db.engine.dispose()
    return rows


def _ensure_pg_database(base: str, name: str) -> str:
    """The URL of database ``name`` beside ``base``, created when missing (kept: never dropped here)."""
    from sqlalchemy import create_engine, make_url, text

    admin = create_engine(base, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            if not connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                connection.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        admin.dispose()
    return make_url(base).set(database=name).render_as_string(hide_password=False)


def _print_table(rows: list[dict[str, str]]) -> None:
    if not rows:
        return
    keys = list(rows[0])
    widths = {k: max(len(k), *(len(r[k]) for r in rows)) for k in keys}
    print("  ".join(k.ljust(widths[k]) for k in keys))
    for row in rows:
        print("  ".join(row[k].ljust(widths[k]) for k in keys))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg-url", default=os.environ.get("HOTLINE_TEST_PG_URL"))
    parser.add_argument("--orders", type=int, default=1_000_000)
    parser.add_argument("--cdrs", type=int, default=None, help="inbound CDRs (default: as many as orders)")
    parser.add_argument("--interactions", type=int, default=None, help="default: half the orders")
    parser.add_argument("--backends", default="postgresql,sqlite")
    parser.add_argument("--repeat", type=int, default=9)
    parser.add_argument("--pg-db", default=None, help="keep and reuse this PostgreSQL database (never dropped)")
    parser.add_argument("--sqlite-path", default=None, help="keep and reuse this SQLite file")
    parser.add_argument("--analyze", action="store_true", help="VACUUM ANALYZE a reused database first")
    parser.add_argument("--explain", action="store_true", help="print the plan of every query of each page")
    parser.add_argument("--pages", default=None, help="only these pages: list,phone,number,reports")
    args = parser.parse_args(argv)
    args.cdrs = args.orders if args.cdrs is None else args.cdrs
    args.interactions = args.orders // 2 if args.interactions is None else args.interactions
    rows: list[dict[str, str]] = []
    for backend in [b.strip() for b in args.backends.split(",") if b.strip()]:
        if backend == "postgresql":
            if not args.pg_url:
                print("postgresql: skipped (no --pg-url / HOTLINE_TEST_PG_URL)")
                continue
            if args.pg_db:
                rows += run_backend(backend, _ensure_pg_database(args.pg_url, args.pg_db), args)
                continue
            url, name = _create_pg_database(args.pg_url)
            try:
                rows += run_backend(backend, url, args)
            finally:
                _drop_pg_database(args.pg_url, name)
        elif backend == "sqlite":
            if args.sqlite_path:
                rows += run_backend(backend, f"sqlite:///{Path(args.sqlite_path).resolve()}", args)
                continue
            with tempfile.TemporaryDirectory() as tmp:
                rows += run_backend(backend, f"sqlite:///{tmp}/bench.db", args)
        else:
            print(f"unknown backend {backend}", file=sys.stderr)
            return 2
    print()
    _print_table(rows)
    return 0


if __name__ == "__main__":
    sys.exit(main())
