"""Reports: figures computed by hand on a small known day, date-range validation, CSV export, SVG charts, roles.

The data live on 2024-02-10 (a day no other test touches), reports run with
the UTC offset set to 0 unless a test says otherwise, so every expected value
below is worked out from the rows in ``report_day``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from crm_core.models import AgentStateChange, CallDetailRecord, Complaint, InboundFax, Interaction, Order, \
    OutboxMessage, Queue
import factories

UTC = dt.timezone.utc
DAY = dt.date(2024, 2, 10)
RANGE = "start=2024-02-10&end=2024-02-10"


def t(hh: int, mm: int = 0, ss: int = 0, day: dt.date = DAY) -> dt.datetime:
    return dt.datetime(day.year, day.month, day.day, hh, mm, ss, tzinfo=UTC)


def sec(moment: dt.datetime, seconds: float) -> dt.datetime:
    return moment + dt.timedelta(seconds=seconds)


@pytest.fixture(scope="module")
def report_day(probe_engine) -> dict:
    """Two queues, two agents, four inbound calls and one outbound, the IVR log, complaints, orders, SMS/fax."""
    serial = factories.next_serial()
    with Session(probe_engine, expire_on_commit=False) as s:
        sales = Queue(name=f"rsales{serial}", sl_target_seconds=20)
        care = Queue(name=f"rcare{serial}", sl_target_seconds=30)
        s.add_all([sales, care])
        a1 = factories.make_agent(s, login=f"ra{serial}a", name="Agent One")
        a2 = factories.make_agent(s, login=f"ra{serial}b", name="Agent Two")
        s.flush()

        def call(n, queue, entered, answer_after=None, talk=None, acw=None, abandon_after=None, agent=None,
                 direction="inbound"):
            answered = sec(entered, answer_after) if answer_after is not None else None
            ended = sec(answered, talk) if answered is not None else (
                sec(entered, abandon_after) if abandon_after is not None else None)
            s.add(CallDetailRecord(
                uuid=f"rep-{serial}-{n}", direction=direction, queue_id=queue.id if queue else None,
                agent_id=agent.id if agent else None, entered_at=entered, queued_at=entered if queue else None,
                answered_at=answered, ended_at=ended,
                wrapup_ended_at=sec(ended, acw) if acw is not None else None,
                disposition="abandoned" if abandon_after is not None else "answered"))

        # sales (target 20 s): answered in 5, 15, 40 s -> SL 2/3; talk 60/120/90, wrap-up 10/20/none
        call(1, sales, t(9, 0), answer_after=5, talk=60, acw=10, agent=a1)
        call(2, sales, t(9, 10), answer_after=15, talk=120, acw=20, agent=a1)
        call(3, sales, t(10, 0), answer_after=40, talk=90, agent=a2)
        # care (target 30 s): one caller gives up after 30 s
        call(4, care, t(10, 30), abandon_after=30)
        # an outbound call of agent two: 45 s of talk, not an inbound figure
        call(5, None, t(11, 0), answer_after=0, talk=45, agent=a2, direction="outbound")

        def state(agent, when, name):
            s.add(AgentStateChange(agent_id=agent.id, state=name, at=when))

        state(a1, t(8, 0), "available")
        state(a1, t(9, 0, 5), "on_call")
        state(a1, t(9, 1, 5), "wrap_up")
        state(a1, t(9, 1, 15), "available")
        state(a1, t(12, 0), "logged_out")
        state(a2, t(23, 0, day=DAY - dt.timedelta(days=1)), "available")  # in force at midnight
        state(a2, t(1, 0), "break")
        state(a2, t(2, 0), "logged_out")

        def ivr(event, at, **detail):
            s.add(Interaction(channel="ivr", summary=event, detail={"event": event, **detail}, occurred_at=at))

        for key in ("1", "1", "1", "2"):
            ivr("option", t(9, 0), node="main", key=key)
        ivr("product", t(9, 5), code="8801")
        ivr("product", t(9, 6), code="8801")
        ivr("option", t(9, 0, day=DAY + dt.timedelta(days=1)), node="main", key="9")  # outside the range

        for i in range(2):  # two SMS the gateway took, one that failed (not counted), one fax received
            s.add(OutboxMessage(channel="sms", recipient="+8613800138000", body="x", status="delivered",
                                idempotency_key=f"report-{serial}-{i}", sent_at=t(14, 0)))
        s.add(OutboxMessage(channel="sms", recipient="+8613800138000", body="x", status="failed",
                            idempotency_key=f"report-{serial}-failed"))
        s.add(InboundFax(call_uuid=f"report-{serial}", status="received", pages=1, received_at=t(14, 0)))

        for category, status in (("logistics", "resolved"), ("logistics", "open"), ("service", "open")):
            s.add(Complaint(category=category, channel="call", status=status, created_at=t(15, 0)))

        customer = factories.make_customer(s)
        for i, (source, total, status) in enumerate((("4008001234", "100.00", "ordered"),
                                                     ("4008001234", "50.50", "shipped"),
                                                     ("4008005678", "20.00", "ordered"),
                                                     ("4008005678", "999.00", "cancelled"))):
            s.add(Order(number=f"{7_000_000_000 + serial * 10 + i}", customer_id=customer.id, status=status,
                        media_source=source, subtotal=Decimal(total), total=Decimal(total), created_at=t(16, i)))
        s.commit()
    return {"sales": f"rsales{serial}", "care": f"rcare{serial}", "a1": f"ra{serial}a", "a2": f"ra{serial}b"}


@pytest.fixture
def utc_reports(app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORTS_UTC_OFFSET_MINUTES", 0)


def csv_rows(response) -> list[dict[str, str]]:
    assert response.status_code == 200, response.text
    assert response.mimetype == "text/csv"
    text = response.get_data().decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.DictReader(io.StringIO(text[1:])))


def by(rows: list[dict[str, str]], key: str) -> dict[str, dict[str, str]]:
    return {row[key]: row for row in rows}


def test_queue_summary_gives_service_level_asa_aht_acw_and_abandonment_worked_out_by_hand(
        as_role, report_day, utc_reports):
    client = as_role("supervisor").client
    rows = by(csv_rows(client.get(f"/admin/reports/csv/queue_summary?{RANGE}&lang=en")), "Queue")
    sales, care, total = rows[report_day["sales"]], rows[report_day["care"]], rows["*"]
    # 3 calls answered in 5/15/40 s with a 20 s target -> 2/3
    assert sales["Service level %"] == "66.7"
    assert sales["ASA (s)"] == "20.0"  # (5 + 15 + 40) / 3
    assert sales["AHT (s)"] == "100.0"  # (60+10 + 120+20 + 90) / 3
    assert sales["After-call work (s)"] == "15.0"  # (10 + 20) / 2 calls with wrap-up
    assert (sales["Offered"], sales["Answered"], sales["Abandoned"], sales["Abandon rate %"]) == ("3", "3", "0", "0.0")
    assert (care["Abandoned"], care["Abandon rate %"], care["Avg time to abandon (s)"]) == ("1", "100.0", "30.0")
    assert care["Service level %"] == "0.0"
    assert (total["Offered"], total["Answered"], total["Service level %"], total["Abandon rate %"]) == \
        ("4", "3", "50.0", "25.0")


def test_volume_by_hour_counts_inbound_calls_only_in_their_hour(as_role, report_day, utc_reports):
    rows = by(csv_rows(as_role("admin").client.get(f"/admin/reports/csv/volume_by_hour?{RANGE}&lang=en")), "Hour")
    assert len(rows) == 24
    assert (rows["09"]["Offered"], rows["09"]["Answered"], rows["09"]["Abandoned"]) == ("2", "2", "0")
    assert (rows["10"]["Offered"], rows["10"]["Answered"], rows["10"]["Abandoned"]) == ("2", "1", "1")
    assert rows["11"]["Offered"] == "0"  # the outbound call is not inbound volume


def test_volume_by_hour_buckets_in_the_configured_local_time(as_role, report_day, app, monkeypatch):
    monkeypatch.setitem(app.config, "REPORTS_UTC_OFFSET_MINUTES", 480)  # China: 09:00 UTC is 17:00
    rows = by(csv_rows(as_role("admin").client.get(f"/admin/reports/csv/volume_by_hour?{RANGE}&lang=en")), "Hour")
    assert rows["17"]["Offered"] == "2" and rows["18"]["Offered"] == "2" and rows["09"]["Offered"] == "0"


def test_agent_occupancy_from_the_state_log_and_calls_per_direction(as_role, report_day, utc_reports):
    rows = by(csv_rows(as_role("admin").client.get(f"/admin/reports/csv/agents?{RANGE}&lang=en")), "Agent")
    one, two = rows[report_day["a1"]], rows[report_day["a2"]]
    # agent one: available 08:00-09:00:05 and 09:01:15-12:00, on call 60 s, wrap-up 10 s, then logged out
    assert (one["Staffed (s)"], one["Talk (s)"], one["Wrap-up (s)"], one["Available (s)"]) == \
        ("14400.0", "60.0", "10.0", "14330.0")
    assert one["Occupancy %"] == "0.5"  # 70 / 14400
    assert (one["Inbound calls"], one["Inbound talk (s)"], one["Outbound calls"]) == ("2", "180.0", "0")
    # agent two: available since the evening before (counted from midnight), a break at 01:00, out at 02:00
    assert (two["Available (s)"], two["Not ready / break (s)"], two["Occupancy %"]) == ("3600.0", "3600.0", "0.0")
    assert (two["Inbound calls"], two["Outbound calls"], two["Outbound talk (s)"]) == ("1", "1", "45.0")


def test_ivr_complaints_sales_and_messages_reports(as_role, report_day, utc_reports):
    client = as_role("admin").client
    options = {(r["Menu node"], r["Key"]): r["Count"]
               for r in csv_rows(client.get(f"/admin/reports/csv/ivr_options?{RANGE}&lang=en"))}
    assert options == {("main", "1"): "3", ("main", "2"): "1"}
    products = csv_rows(client.get(f"/admin/reports/csv/ivr_products?{RANGE}&lang=en"))
    assert [(r["Phone code"], r["Count"]) for r in products] == [("8801", "2")]
    complaints = by(csv_rows(client.get(f"/admin/reports/csv/complaints?{RANGE}&lang=en")), "Category")
    assert (complaints["logistics"]["Count"], complaints["logistics"]["Resolved"]) == ("2", "1")
    assert complaints["service"]["Open"] == "1"
    sales = by(csv_rows(client.get(f"/admin/reports/csv/sales_by_media?{RANGE}&lang=en")), "Media source (DNIS)")
    assert (sales["4008001234"]["Orders"], sales["4008001234"]["Revenue"]) == ("2", "150.5")
    assert (sales["4008005678"]["Orders"], sales["4008005678"]["Revenue"]) == ("1", "20.0")  # cancelled left out
    messages = csv_rows(client.get(f"/admin/reports/csv/messages?{RANGE}&lang=en"))
    assert messages == [{"Day": "2024-02-10", "SMS in": "0", "SMS out": "2", "Fax in": "1", "Fax out": "0"}]


def test_reports_page_draws_accessible_svg_charts_with_labels_in_the_users_language(as_role, report_day,
                                                                                     utc_reports):
    client = as_role("supervisor").client
    page = client.get(f"/admin/reports/?{RANGE}&lang=en")
    assert page.status_code == 200
    html = page.text
    assert html.count("<svg") >= 6 and 'role="img"' in html
    assert "<title id=\"chart-title-" in html and "Inbound calls by hour" in html
    assert 'class="x-label">Hour</text>' in html and 'class="y-label">Calls</text>' in html
    assert "66.7" in html and report_day["sales"] in html
    assert "/admin/reports/csv/queue_summary?" in html
    zh = client.get(f"/admin/reports/?{RANGE}&lang=zh").text
    assert "按小时的呼入量" in zh and 'class="x-label">小时</text>' in zh


@pytest.mark.parametrize("query, message", [
    ("start=2024-02-10&end=2024-02-01", "before the start date"),
    ("start=2024-13-01&end=2024-12-31", "is not a date"),
    ("start=2020-01-01&end=2024-01-01", "at most 366"),
])
def test_bad_date_ranges_give_a_clear_error_on_the_page_and_in_csv(as_role, query, message):
    client = as_role("admin").client
    page = client.get(f"/admin/reports/?{query}&lang=en")
    assert page.status_code == 400 and 'id="range-error"' in page.text and message in page.text
    export = client.get(f"/admin/reports/csv/agents?{query}&lang=en")
    assert export.status_code == 400 and message in export.text


def test_unknown_report_csv_is_404(as_role):
    assert as_role("admin").client.get("/admin/reports/csv/nope").status_code == 404


@pytest.mark.parametrize("username, page, export", [
    ("admin", 200, 200), ("supervisor", 200, 200), ("campaign", 403, 403), ("agent", 403, 403)])
def test_reports_and_wallboard_are_for_admins_and_supervisors(as_role, username, page, export):
    client = as_role(username).client
    assert client.get("/admin/reports/").status_code == page
    assert client.get("/admin/reports/csv/complaints").status_code == export
    assert client.get("/admin/wallboard/").status_code == page
    assert client.get("/admin/wallboard/data").status_code == page


def test_anonymous_visitor_of_reports_csv_gets_the_login_page(client):
    response = client.get("/admin/reports/csv/complaints")
    assert response.status_code == 302 and "/login" in response.location
