"""English readings: numbers in words (American style), prices in yuan, grouped digit strings."""

import datetime as dt
from decimal import Decimal

import pytest

from ivr.prompts.say import say_count, say_date, say_digits, say_minutes, say_money, say_number, say_ordinal, say_time
from ivr.prompts.say_en import say_year


@pytest.mark.parametrize(
    "n, expected",
    [
        (0, "zero"), (7, "seven"), (10, "ten"), (11, "eleven"), (13, "thirteen"), (20, "twenty"), (21, "twenty-one"),
        (99, "ninety-nine"), (100, "one hundred"), (101, "one hundred one"), (110, "one hundred ten"),
        (1000, "one thousand"), (1010, "one thousand ten"), (1999, "one thousand nine hundred ninety-nine"),
        (10000, "ten thousand"), (100000, "one hundred thousand"), (1000001, "one million one"),
        (100000000, "one hundred million"), (1234567890, "one billion two hundred thirty-four million "
                                             "five hundred sixty-seven thousand eight hundred ninety"),
        (-5, "minus five"), (-1010, "minus one thousand ten"),
    ],
)
def test_say_number_en(n, expected):
    assert say_number(n, "en") == expected


@pytest.mark.parametrize(
    "value, expected",
    [(Decimal("3.14"), "three point one four"), (Decimal("0.5"), "zero point five"), (Decimal("7.00"), "seven"),
     (Decimal("-2.05"), "minus two point zero five")],
)
def test_say_number_en_decimals(value, expected):
    assert say_number(value, "en") == expected


@pytest.mark.parametrize(
    "n, expected",
    [(1, "first"), (2, "second"), (3, "third"), (4, "fourth"), (5, "fifth"), (8, "eighth"), (9, "ninth"),
     (11, "eleventh"), (12, "twelfth"), (20, "twentieth"), (21, "twenty-first"), (23, "twenty-third"),
     (100, "one hundredth"), (101, "one hundred first"), (1000, "one thousandth")],
)
def test_say_ordinal_en(n, expected):
    assert say_ordinal(n, "en") == expected


@pytest.mark.parametrize(
    "amount, expected",
    [("129.9", "one hundred twenty-nine yuan ninety"), ("129.95", "one hundred twenty-nine yuan ninety-five"),
     ("129.05", "one hundred twenty-nine yuan oh five"), ("100", "one hundred yuan"), ("1", "one yuan"),
     ("0.5", "fifty fen"), ("0", "zero yuan"), ("-3.2", "minus three yuan twenty")],
)
def test_say_money_en(amount, expected):
    assert say_money(Decimal(amount), "en") == expected


@pytest.mark.parametrize(
    "digits, expected",
    [("13800138000", "one three eight, zero zero one three, eight zero zero zero"),
     ("110", "one one zero"), ("SF1234567", "S F, one two three four, five six seven")],
)
def test_say_digits_en_groups(digits, expected):
    assert say_digits(digits, "en") == expected


@pytest.mark.parametrize(
    "year, expected",
    [(2026, "twenty twenty-six"), (2000, "two thousand"), (2005, "two thousand five"), (2010, "twenty ten"),
     (1999, "nineteen ninety-nine"), (1905, "nineteen oh five"), (1900, "nineteen hundred")],
)
def test_say_year(year, expected):
    assert say_year(year) == expected


def test_say_date_en():
    assert say_date(dt.date(2026, 11, 23), "en") == "November twenty-third, twenty twenty-six"
    assert say_date(dt.date(2026, 11, 23), "en", weekday=True) == "Monday, November twenty-third, twenty twenty-six"


@pytest.mark.parametrize(
    "t, expected",
    [((15, 5), "three oh five p.m."), ((9, 30), "nine thirty a.m."), ((12, 0), "twelve noon"),
     ((0, 0), "twelve midnight"), ((0, 15), "twelve fifteen a.m."), ((12, 30), "twelve thirty p.m."), ((8, 0), "eight a.m.")],
)
def test_say_time_en(t, expected):
    assert say_time(dt.time(*t), "en") == expected


@pytest.mark.parametrize("n, expected", [(0, "less than a minute"), (1, "one minute"), (2, "two minutes")])
def test_say_minutes_en(n, expected):
    assert say_minutes(n, "en") == expected


def test_say_count_en_is_plain_number():
    assert say_count(2, "en") == "two"
