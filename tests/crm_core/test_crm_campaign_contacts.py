"""Campaign contacts: files in GBK/GB18030, UTF-8 with and without BOM, UTF-16, xlsx; malformed lines;
duplicates merged; do-not-call and blacklisted numbers skipped with the reason; saved segments."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import pytest
from sqlalchemy import select

from crm_core.exceptions import InvalidInput
from crm_core.models import AuditEntry, CampaignContact, DoNotCall, MediaPlan, Order, OrderStatusChange
from crm_core.services.campaign_contacts import (
    ContactRow,
    add_contacts,
    decode_text,
    import_contacts,
    read_contact_file,
)
from crm_core.services.campaigns import Actor, create_campaign
from crm_core.services.customers import mark_blacklist
from crm_core.services.segments import evaluate_segment, save_segment, validate_segment

ME = Actor("manager")


@pytest.fixture
def campaign(db_session, factories):
    return create_campaign(db_session, f"Import {factories.next_serial()}", actor=ME, caller_id="4008001234")


def contacts_of(session, campaign_id):
    return list(session.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign_id)
                                .order_by(CampaignContact.id)))


# -- reading files -------------------------------------------------------------------------------------------

def test_gbk_csv_as_chinese_excel_saves_it_is_read_with_its_chinese_header_and_names():
    data = "手机,姓名,城市\r\n13800138000,王丽,北京\r\n13900139000,张伟,上海\r\n".encode("gbk")
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")  # what the old import refused
    parsed = read_contact_file(data, "客户.csv")
    assert parsed.encoding == "gb18030" and parsed.problem_count == 0
    assert [(r.number, r.data, r.line) for r in parsed.rows] == [
        ("+8613800138000", {"姓名": "王丽", "城市": "北京"}, 2),
        ("+8613900139000", {"姓名": "张伟", "城市": "上海"}, 3)]


def test_gb18030_only_characters_survive():
    name = "王\U00020000丽"  # a CJK Extension B character: in GB18030, not in GBK
    parsed = read_contact_file(f"number,name\n13800138000,{name}\n".encode("gb18030"))
    assert parsed.rows[0].data == {"name": name}


@pytest.mark.parametrize("encoding, expected", [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"),
                                                ("utf-16", "utf-16")])
def test_utf8_with_and_without_bom_and_utf16_are_read(encoding, expected):
    text = "number\tname\n13800138000\t王丽\n" if encoding == "utf-16" else "number,name\n13800138000,王丽\n"
    parsed = read_contact_file(text.encode(encoding))
    assert parsed.encoding == expected
    assert [(r.number, r.data) for r in parsed.rows] == [("+8613800138000", {"name": "王丽"})]


def test_bytes_that_are_no_text_are_refused_with_a_reason():
    assert decode_text(b"\x81\x20\xff\xfe\x00") is None or True  # decode_text itself never raises
    parsed = read_contact_file(b"number\n\xff\xff\xff\xff\n")
    assert parsed.rows == [] and parsed.problems[0].code == "not_text"
    assert read_contact_file(b"\xd0\xcf\x11\xe0rest").problems[0].code == "old_excel"


def test_malformed_rows_are_each_reported_and_duplicates_are_merged_not_errors():
    good = "13800138001"
    text = (f"number;name;city;tz\n{good};王丽;;\n12;short;;\n{good} ;;北京;\nnot-a-phone;;;\n"
            f"13800138002;a;b;c;d\n13800138003;Li;;Mars/Base\n+86 138-0013-8004;Zhang;;Asia/Urumqi\n")
    parsed = read_contact_file(text.encode("utf-8"))
    assert [(p.line, p.code, p.params) for p in parsed.problems] == [
        (3, "bad_number", {"raw": "12"}),
        (5, "bad_number", {"raw": "not-a-phone"}),
        (6, "field_count", {"found": 5, "expected": 4}),
        (7, "bad_timezone", {"raw": "Mars/Base"}),
    ]
    assert parsed.merged == [(4, 2, "+8613800138001")] and parsed.merged_count == 1
    assert [(r.number, r.data, r.timezone) for r in parsed.rows] == [
        ("+8613800138001", {"name": "王丽", "city": "北京"}, None),  # line 4 filled the gap
        ("+8613800138004", {"name": "Zhang"}, "Asia/Urumqi")]


@pytest.mark.parametrize("data, code", [(b"", "empty"), (b"name\nx\n", "no_number_column"),
                                        (b'number\n"13800138000\n', "csv_error")])
def test_empty_files_missing_number_column_and_broken_quoting(data, code):
    assert read_contact_file(data).problems[0].code == code


def test_too_many_rows_stops_with_the_limit():
    text = "number\n" + "".join(f"1380013{n:04d}\n" for n in range(12))
    parsed = read_contact_file(text.encode(), max_rows=10)
    assert parsed.problems[-1].code == "too_many_rows" and parsed.problems[-1].params == {"limit": 10}


def test_xlsx_upload_reads_numbers_excel_stored_as_floats():
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["手机号", "姓名", "订单"])
    sheet.append([13800138000.0, "王丽", 8801])
    sheet.append(["139 0013 9000", "张伟", None])
    sheet.append([None, None, None])
    buffer = io.BytesIO()
    book.save(buffer)
    parsed = read_contact_file(buffer.getvalue(), "list.xlsx")
    assert parsed.encoding == "xlsx" and parsed.problem_count == 0
    assert [(r.number, r.data, r.line) for r in parsed.rows] == [
        ("+8613800138000", {"姓名": "王丽", "订单": "8801"}, 2), ("+8613900139000", {"姓名": "张伟"}, 3)]
    broken = read_contact_file(b"PK\x03\x04 not really a workbook", "list.xlsx")
    assert broken.problems[0].code == "bad_xlsx"


# -- adding ------------------------------------------------------------------------------------------------

def test_do_not_call_and_blacklisted_numbers_are_added_as_skipped_with_the_reason(db_session, campaign, factories):
    blocked = f"+86{factories.new_mobile()}"
    expired = f"+86{factories.new_mobile()}"
    db_session.add_all([DoNotCall(number=blocked, reason="asked"),
                        DoNotCall(number=expired, reason="old", expires_at=dt.datetime(2020, 1, 1,
                                                                                       tzinfo=dt.timezone.utc))])
    rogue = factories.make_customer(db_session)
    for n in range(3):
        mark_blacklist(db_session, rogue.id, marked_by=f"agent{n}", reason="abuse")
    fine = factories.make_customer(db_session)
    rows = [ContactRow(blocked, {}), ContactRow(rogue.phones[0].e164, {}), ContactRow(fine.phones[0].e164, {}),
            ContactRow(expired, {})]
    report = add_contacts(db_session, campaign.id, rows)
    assert report.added == 4 and report.skipped == {"do_not_call": 1, "blacklisted": 1}
    assert [(c.number, c.status, c.skip_reason, c.customer_id) for c in contacts_of(db_session, campaign.id)] == [
        (blocked, "skipped", "do_not_call", None), (rogue.phones[0].e164, "skipped", "blacklisted", rogue.id),
        (fine.phones[0].e164, "pending", None, fine.id), (expired, "pending", None, None)]


def test_numbers_already_in_the_campaign_are_merged_and_the_import_is_audited(db_session, campaign, factories):
    number = f"+86{factories.new_mobile()}"
    add_contacts(db_session, campaign.id, [ContactRow(number, {"name": "王丽"})])
    report = import_contacts(db_session, campaign.id, [ContactRow(number, {"name": "Wang", "order": "1"}),
                                                       ContactRow(f"+86{factories.new_mobile()}", {})],
                             by="manager", merged_in_file=2)
    assert (report.added, report.merged) == (1, 1)
    first = contacts_of(db_session, campaign.id)[0]
    assert first.data == {"name": "王丽", "order": "1"}  # kept what it had, gained the new field
    entry = db_session.scalars(select(AuditEntry).where(AuditEntry.model == "campaign_contacts")
                               .order_by(AuditEntry.id.desc())).first()
    assert entry.changes == {"campaign_id": campaign.id, "source": "file", "contacts": 2, "merged_in_file": 2,
                             "added": 1, "merged": 1}


def test_finished_campaigns_take_no_contacts(db_session, campaign, factories):
    campaign.status = "stopped"
    with pytest.raises(InvalidInput):
        add_contacts(db_session, campaign.id, [ContactRow(f"+86{factories.new_mobile()}", {})])


# -- segments ------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("definition, message", [
    ([], "must be an object"),
    ({"rules": []}, "list of 1-10"),
    ({"rules": [{"rule": "vip"}], "extra": 1}, "unknown key"),
    ({"rules": [{"rule": "lottery"}]}, "unknown rule"),
    ({"rules": [{"rule": "delivered_days_ago"}]}, "missing days"),
    ({"rules": [{"rule": "delivered_days_ago", "days": -1}]}, "0-365"),
    ({"rules": [{"rule": "vip", "levels": ["emperor"]}]}, "levels"),
    ({"rules": [{"rule": "vip", "sql": "1=1"}]}, "unknown key"),
    ({"match": "some", "rules": [{"rule": "vip"}]}, "match"),
    ({"rules": [{"rule": "vip"}], "limit": 10**9}, "limit"),
])
def test_segment_definitions_are_validated(definition, message):
    with pytest.raises(InvalidInput, match=message):
        validate_segment(definition)


NOW = dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.timezone.utc)  # Wednesday 12:00 in Shanghai


def _order(session, customer, *, status="delivered", payment="card", media=None, delivered_days=None, serial=0):
    order = Order(number=f"{9000000000 + serial:010d}", customer_id=customer.id, status=status,
                  payment_method=payment, media_source=media, subtotal=Decimal("10"), total=Decimal("10"))
    session.add(order)
    session.flush()
    if delivered_days is not None:
        session.add(OrderStatusChange(order_id=order.id, from_status=None, to_status="ordered",
                                      changed_at=NOW - dt.timedelta(days=delivered_days + 2)))
        session.add(OrderStatusChange(order_id=order.id, from_status="shipped", to_status="delivered",
                                      changed_at=NOW - dt.timedelta(days=delivered_days)))
    session.flush()
    return order


def test_segment_rules_select_the_right_customers_with_merge_fields(db_session, factories):
    serial = factories.next_serial() * 10
    make = factories.make_customer
    birthday = make(db_session, name="生日")
    birthday.birthday = dt.date(1980, 11, 29)  # Sunday of this week
    not_this_week = make(db_session, name="下周")
    not_this_week.birthday = dt.date(1980, 12, 1)
    vip = make(db_session, name="金卡")
    vip.member_level = "gold"
    delivered = make(db_session, name="已送达")
    _order(db_session, delivered, delivered_days=3, serial=serial + 1)
    delivered_earlier = make(db_session, name="早送达")
    _order(db_session, delivered_earlier, delivered_days=5, serial=serial + 2)
    cod = make(db_session, name="货到付款")
    cod_order = _order(db_session, cod, status="shipped", payment="cod", serial=serial + 3)
    settled = make(db_session, name="已结算")
    _order(db_session, settled, status="settled", payment="cod", serial=serial + 4)
    plan = MediaPlan(name=f"CCTV {serial}", kind="tv", dnis=f"40080{serial % 100000:05d}")
    db_session.add(plan)
    from_ad = make(db_session, name="看广告")
    ad_order = _order(db_session, from_ad, status="ordered", media=plan.dnis, serial=serial + 5)
    db_session.flush()

    def pick(*rules, match="all"):
        rows = evaluate_segment(db_session, {"match": match, "rules": list(rules)}, now=NOW)
        return {r.data["name"]: r for r in rows if r.data["name"] in {
            "生日", "下周", "金卡", "已送达", "早送达", "货到付款", "已结算", "看广告"}}

    assert set(pick({"rule": "birthday_this_week"})) == {"生日"}
    assert set(pick({"rule": "vip"})) == {"金卡"}
    assert set(pick({"rule": "delivered_days_ago", "days": 3})) == {"已送达"}
    found = pick({"rule": "unpaid_cod"})
    assert set(found) == {"货到付款"} and found["货到付款"].data["order"] == cod_order.number
    assert found["货到付款"].number == cod.phones[0].e164 and found["货到付款"].customer_id == cod.id
    found = pick({"rule": "media_plan", "plan": plan.name})
    assert set(found) == {"看广告"} and found["看广告"].data["order"] == ad_order.number
    assert set(pick({"rule": "vip"}, {"rule": "birthday_this_week"}, match="any")) == {"金卡", "生日"}
    assert set(pick({"rule": "vip"}, {"rule": "birthday_this_week"})) == set()
    with pytest.raises(InvalidInput, match="no media plan"):
        evaluate_segment(db_session, {"rules": [{"rule": "media_plan", "plan": "nope"}]}, now=NOW)


def test_a_saved_segment_is_evaluated_into_contacts_when_the_campaign_starts(db_session, factories):
    from crm_core.services.campaigns import change_campaign_status

    vip = factories.make_customer(db_session, name="VIP one")
    vip.member_level = "diamond"
    blocked = factories.make_customer(db_session, name="VIP blocked")
    blocked.member_level = "diamond"
    db_session.add(DoNotCall(number=blocked.phones[0].e164, reason="asked"))
    segment = save_segment(db_session, f"Diamonds {factories.next_serial()}",
                           {"rules": [{"rule": "vip", "levels": ["diamond"]}]}, by="manager")
    campaign = create_campaign(db_session, f"Seg {factories.next_serial()}", actor=ME, caller_id="4008001234",
                               segment_id=segment.id)
    change = change_campaign_status(db_session, campaign.id, "running", actor=ME, at=NOW)
    assert change.contacts_added["added"] >= 2 and change.contacts_added["skipped_do_not_call"] >= 1
    mine = {c.number: c for c in contacts_of(db_session, campaign.id)}
    assert mine[vip.phones[0].e164].status == "pending"
    assert (mine[blocked.phones[0].e164].status, mine[blocked.phones[0].e164].skip_reason) == (
        "skipped", "do_not_call")
