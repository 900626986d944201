"""Customers: caller-ID look-up in any format, normalised numbers, blacklist marks and threshold."""

from __future__ import annotations

import pytest

from crm_core.exceptions import InvalidPhoneNumber, UnknownCustomer
from crm_core.phones import to_e164, try_e164
from crm_core.services import add_phone, create_customer, find_customer_by_phone, is_blacklisted, mark_blacklist


@pytest.mark.parametrize(
    "raw",
    ["13912340001", "013912340001", "8613912340001", "+86 139-1234-0001", "0086 139 1234 0001", "tel:+8613912340001"],
)
def test_caller_id_in_any_format_normalises_to_e164(raw):
    assert to_e164(raw) == "+8613912340001"


@pytest.mark.parametrize("raw", ["", "12345", "anonymous", "+86 139", None])
def test_garbled_caller_id_is_an_invalid_phone_number(raw):
    with pytest.raises(InvalidPhoneNumber) as caught:
        to_e164(raw)
    assert caught.value.error_id == "invalid-phone-number"
    assert try_e164(raw) is None


def test_landline_and_foreign_numbers_keep_their_own_country():
    assert to_e164("010 6552 9988") == "+861065529988"
    assert to_e164("+1 650 253 0000") == "+16502530000"
    assert to_e164("650 253 0000", region="US") == "+16502530000"


def test_find_customer_by_phone_matches_any_of_their_numbers_in_any_format(db_session):
    customer = create_customer(db_session, "Wang Fang", ["139 1234 0002", "+86 10 6552 9988"])
    assert [p.e164 for p in customer.phones] == ["+8613912340002", "+861065529988"]
    assert find_customer_by_phone(db_session, "8613912340002") is customer
    assert find_customer_by_phone(db_session, "01065529988") is customer
    assert find_customer_by_phone(db_session, "13912340003") is None


def test_adding_a_number_twice_keeps_one_row(db_session, make_customer):
    customer = make_customer()
    first = add_phone(db_session, customer, "13912340004", kind="home")
    again = add_phone(db_session, customer, "+8613912340004")
    assert first is again and len(customer.phones) == 2


def test_invalid_number_is_refused_when_creating_a_customer(db_session):
    with pytest.raises(InvalidPhoneNumber):
        create_customer(db_session, "Nobody", ["123"])


def test_customer_is_blacklisted_only_once_marks_reach_the_threshold(db_session, make_customer):
    customer = make_customer(phones=["13912340005"])
    assert mark_blacklist(db_session, customer.id, marked_by="agent1", reason="abuse", threshold=2) is False
    assert is_blacklisted(db_session, "13912340005") is False
    assert mark_blacklist(db_session, customer.id, marked_by="agent2", reason="abuse again", threshold=2) is True
    assert customer.is_blacklisted is True
    assert is_blacklisted(db_session, "+86 139 1234 0005") is True
    assert [(m.marked_by, m.reason) for m in customer.blacklist_marks] == [("agent1", "abuse"), ("agent2", "abuse again")]
    assert all(m.created_at.tzinfo is not None for m in customer.blacklist_marks)


def test_default_blacklist_threshold_is_three_marks(db_session, make_customer):
    customer = make_customer()
    states = [mark_blacklist(db_session, customer.id, marked_by=f"a{i}", reason="prank") for i in range(3)]
    assert states == [False, False, True]


def test_unknown_or_anonymous_callers_are_not_blacklisted(db_session):
    assert is_blacklisted(db_session, "anonymous") is False
    assert is_blacklisted(db_session, "13912349999") is False
    with pytest.raises(UnknownCustomer):
        mark_blacklist(db_session, 987654321, marked_by="x", reason="y")


def test_invalid_national_mobile_is_refused_not_read_as_a_foreign_number():
    # 154 is no Chinese mobile prefix; "+1 541 234 5678" would be a wrong guess.
    with pytest.raises(InvalidPhoneNumber):
        to_e164("15412345678")
    assert to_e164("+15412345678") == "+15412345678"
