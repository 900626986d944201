"""The demo shop: loads through the services, holds every case, keeps the invariants, and loads only once."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from crm_core.db import make_engine, session_factory
from crm_core.demo import DemoOptions, counts, load_demo, orders_by_status, plan_demo
from crm_core.demo.passwords import hash_password
from crm_core.demo.stamps import rng
from crm_core.enums import ORDER_TRANSITIONS, OrderStatus
from crm_core.migrate import upgrade
from crm_core.models import (
    Agent,
    CallbackRequest,
    Complaint,
    Customer,
    CustomerPhone,
    MediaPlan,
    Order,
    PointsEntry,
    Product,
    Queue,
    Stock,
)

SCALE = 0.05  # the smallest demo: 24 products, 12 customers, 30 orders, still every case
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]


@pytest.fixture(scope="module", params=BACKENDS)
def demo_db(request: pytest.FixtureRequest, database_maker: Callable[[str], str]) -> Iterator[tuple[str, dict]]:
    """A migrated database with the small demo loaded twice: (url, counts after the first load)."""
    url = database_maker(request.param)
    upgrade(url)
    engine = make_engine(url)
    factory = session_factory(engine)
    options = DemoOptions(scale=SCALE)
    notes = load_demo(factory, options)
    assert notes == []
    with factory() as session:
        first = counts(session)
    load_demo(factory, options)
    engine.dispose()
    yield url, first


@pytest.fixture
def demo_session(demo_db: tuple[str, dict]) -> Iterator[Session]:
    engine = make_engine(demo_db[0])
    with session_factory(engine)() as session:
        yield session
    engine.dispose()


def test_demo_given_small_scale_creates_products_customers_agents_queues_and_orders_in_every_status(demo_session):
    c = counts(demo_session)
    assert c["products"] >= 24 and c["customers"] >= 12 and c["orders"] >= 30
    assert c["agents"] == 10 and c["queues"] == 5 and c["media plans"] >= 5
    assert c["complaints"] >= 4 and c["callback requests"] >= 4 and c["knowledge articles"] >= 10
    assert c["campaign contacts"] > 0 and c["do-not-call numbers"] > 0
    assert set(orders_by_status(demo_session)) >= {s.value for s in OrderStatus}
    queues = {q.name for q in demo_session.scalars(select(Queue))}
    assert queues == {"sales", "service", "vip", "complaints", "english"}
    assert demo_session.scalar(select(func.count()).where(Customer.is_blacklisted.is_(True))) >= 1


def test_demo_given_loaded_twice_then_second_load_adds_nothing(demo_db, demo_session):
    assert counts(demo_session) == demo_db[1]


def test_demo_points_ledger_equals_balance_for_every_customer(demo_session):
    ledger = func.coalesce(select(func.sum(PointsEntry.delta)).where(PointsEntry.customer_id == Customer.id)
                           .scalar_subquery(), 0)
    drift = demo_session.execute(select(Customer.id).where(Customer.points_balance != ledger)).all()
    assert drift == []
    assert demo_session.scalar(select(func.count()).select_from(PointsEntry)) > 0


def test_demo_stock_is_never_negative_and_some_products_are_low_or_out(demo_session):
    bad = (Stock.on_hand < 0) | (Stock.reserved < 0) | (Stock.reserved > Stock.on_hand)
    assert demo_session.scalar(select(func.count()).select_from(Stock).where(bad)) == 0
    low = demo_session.scalar(select(func.count()).select_from(Stock)
                              .where(Stock.on_hand - Stock.reserved <= Stock.warning_level))
    assert low > 0


def test_demo_every_order_history_is_a_legal_path_ending_in_its_status(demo_session):
    media = set(demo_session.scalars(select(MediaPlan.dnis)))
    for order in demo_session.scalars(select(Order)):
        path = [h.to_status for h in sorted(order.history, key=lambda h: h.id)]
        assert path[0] == OrderStatus.ORDERED and path[-1] == order.status, order.number
        assert all((OrderStatus(a), OrderStatus(b)) in ORDER_TRANSITIONS for a, b in zip(path, path[1:]))
        times = [h.changed_at for h in sorted(order.history, key=lambda h: h.id)]
        assert times == sorted(times) and times[0] == order.created_at
        if OrderStatus.SHIPPED in path:
            assert order.courier and order.waybill
        assert order.media_source is None or order.media_source in media


def test_demo_rows_follow_the_formats_the_ivr_relies_on(demo_session):
    for product in demo_session.scalars(select(Product)):
        assert re.fullmatch(r"\d{3,4}", product.phone_code) and product.price > 0
        assert product.description and "\n" not in product.description  # Chinese only
        assert product.name_en and product.description_en and product.description_en.isascii()
        assert product.text_for("en") == product.description_en and product.text_for("zh") == product.description
    numbers = demo_session.scalars(select(CustomerPhone.e164)).all()
    assert all(re.fullmatch(r"\+86\d{9,11}", n) for n in numbers)
    extensions = sorted(demo_session.scalars(select(Agent.extension)))
    assert extensions[0] == "1001" and len(extensions) == 10


def test_demo_orders_carry_their_planned_numbers_and_points_reasons_name_them(demo_session):
    plan = plan_demo(DemoOptions(scale=SCALE))
    numbers = set(demo_session.scalars(select(Order.number)))
    assert {o.number for o in plan.orders} <= numbers
    for entry in demo_session.scalars(select(PointsEntry).where(PointsEntry.order_id.is_not(None))):
        order = demo_session.get(Order, entry.order_id)
        assert entry.kind != "earn" or entry.reason == f"order {order.number}"


def test_demo_complaints_and_callbacks_went_through_their_life_cycles(demo_session):
    for complaint in demo_session.scalars(select(Complaint)):
        if complaint.status in ("resolved", "closed"):
            assert complaint.resolution and complaint.resolved_at and complaint.resolved_by
        if complaint.status != "open":
            assert complaint.assigned_to
    callbacks = list(demo_session.scalars(select(CallbackRequest)))
    assert {c.status for c in callbacks} >= {"pending", "scheduled", "done", "failed"}
    for request in callbacks:
        assert request.attempts == {"done": 1, "failed": 3}.get(request.status, 0)
        if request.status in ("done", "failed"):
            assert request.agent_id is not None and "in_progress by" in request.note


def test_demo_loaded_before_the_english_columns_gets_them_split_on_the_next_load(demo_db):
    from crm_core.demo.catalogue import load_products
    from crm_core.demo.context import DemoContext
    from crm_core.demo.loader import story_now

    engine = make_engine(demo_db[0])
    factory = session_factory(engine)
    plan = plan_demo(DemoOptions(scale=SCALE))
    spec = plan.products[0]
    try:
        with factory.begin() as session:  # the row as the loader wrote it before 0003
            product = session.scalars(select(Product).where(Product.sku == spec.sku)).one()
            product.description, product.description_en, product.name_en = (
                f"{spec.description}\n{spec.description_en}", None, None)
        options = DemoOptions(scale=SCALE)
        load_products(DemoContext(factory=factory, options=options, now=story_now(options)), plan.products)
        with factory() as session:
            product = session.scalars(select(Product).where(Product.sku == spec.sku)).one()
            assert (product.description, product.description_en, product.name_en) == (
                spec.description, spec.description_en, spec.name_en)
    finally:
        engine.dispose()


def test_plan_is_deterministic_and_full_scale_is_a_few_hundred_products_and_200_customers():
    plan = plan_demo(DemoOptions())
    again = plan_demo(DemoOptions())
    assert [o.number for o in plan.orders] == [o.number for o in again.orders]
    assert len(plan.products) >= 300 and len(plan.customers) == 200
    assert len({p.phone_code for p in plan.products}) == len(plan.products)
    assert len({c.mobile for c in plan.customers}) == 200
    assert all(re.fullmatch(r"\+861[3-9]\d{9}", c.mobile) for c in plan.customers)
    assert {p.category for p in plan.products} >= {"kitchen", "beauty", "health", "textiles", "electronics",
                                                     "jewellery", "food"}
    assert all(p.name_en and p.description_en for p in plan.products)
    small = plan_demo(DemoOptions(scale=SCALE))
    assert [c.mobile for c in small.customers] == [c.mobile for c in plan.customers[: len(small.customers)]]


def test_demo_password_hashes_verify_with_werkzeug():
    werkzeug = pytest.importorskip("werkzeug.security")
    stored = hash_password("demo1001", rng(1, "agent", "zhangli"))
    assert werkzeug.check_password_hash(stored, "demo1001")
    assert not werkzeug.check_password_hash(stored, "wrong")


def test_cli_demo_data_migrates_an_empty_database_loads_and_prints_a_summary(tmp_path, monkeypatch, capsys):
    from hotline.cli import main

    monkeypatch.setenv("HOTLINE_DB_URL", f"sqlite:///{tmp_path / 'demo.db'}")
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    assert main(["demo-data", "--scale", str(SCALE), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "upgrading" in out and "Demo shop:" in out and "orders by status:" in out
    assert re.search(r"products \d+", out) and "demo data ready" in out


def test_cli_demo_data_given_unreachable_database_prints_one_line_and_exits_1(monkeypatch, capsys):
    from hotline.cli import main

    monkeypatch.setenv("HOTLINE_DB_URL", "postgresql+psycopg://nobody:x@127.0.0.1:1/nowhere")
    monkeypatch.delenv("HOTLINE_CONFIG", raising=False)
    assert main(["demo-data", "--no-progress"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("hotline demo-data: cannot use database")


def test_demo_holds_the_automated_delivery_care_campaign_in_draft_with_its_questions_and_contacts(demo_session):
    from crm_core.models import Campaign, CampaignContact, CampaignQuestion

    care = demo_session.scalars(select(Campaign).where(Campaign.name == "发货关怀 delivery care")).one()
    assert (care.mode, care.status, care.ivr_script) == ("ivr", "draft", "delivery_care")
    questions = demo_session.scalars(select(CampaignQuestion).where(CampaignQuestion.campaign_id == care.id)
                                     .order_by(CampaignQuestion.position)).all()
    assert [(q.key, q.valid_digits) for q in questions] == [("satisfied", "12"), ("courier_rating", "12345")]
    contacts = demo_session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == care.id)
                                    .order_by(CampaignContact.number)).all()
    assert len(contacts) == 4 and all(c.status == "pending" for c in contacts)
    assert contacts[0].data == {"name": "王芳", "order": "SO202611250001"}
    assert "order" not in contacts[3].data  # the script says the rest of its greeting without it
