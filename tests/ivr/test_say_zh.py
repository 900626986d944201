"""Mandarin readings: the table a call-centre supervisor would check by ear."""

import datetime as dt
from decimal import Decimal

import pytest

from ivr.prompts.say import (
    group_digits, say_count, say_date, say_digits, say_minutes, say_money, say_number, say_ordinal, say_time,
)


@pytest.mark.parametrize(
    "n, expected",
    [
        (0, "零"), (1, "一"), (2, "二"), (10, "十"), (11, "十一"), (19, "十九"), (20, "二十"), (21, "二十一"),
        (100, "一百"), (101, "一百零一"), (110, "一百一十"), (111, "一百一十一"), (999, "九百九十九"),
        (1000, "一千"), (1001, "一千零一"), (1010, "一千零一十"), (1100, "一千一百"),
        (10000, "一万"), (10001, "一万零一"), (10010, "一万零一十"), (10100, "一万零一百"), (11000, "一万一千"),
        (100000, "十万"), (110000, "十一万"), (1000001, "一百万零一"), (1010000, "一百零一万"),
        (100000000, "一亿"), (100000001, "一亿零一"), (100010000, "一亿零一万"), (100001000, "一亿零一千"),
        (123456789, "一亿二千三百四十五万六千七百八十九"), (1000000000000, "一万亿"),
        (-5, "负五"), (-110, "负一百一十"),
    ],
)
def test_say_number_zh(n, expected):
    assert say_number(n, "zh") == expected


@pytest.mark.parametrize(
    "value, expected",
    [(Decimal("3.14"), "三点一四"), (Decimal("0.5"), "零点五"), (Decimal("10.50"), "十点五"),
     (Decimal("-2.05"), "负二点零五"), (Decimal("7.00"), "七"), (2.5, "二点五")],
)
def test_say_number_zh_decimals(value, expected):
    assert say_number(value, "zh") == expected


@pytest.mark.parametrize(
    "n, expected",
    [(2, "两"), (12, "十二"), (20, "二十"), (22, "二十二"), (200, "两百"), (2000, "两千"), (20000, "两万"),
     (22000, "两万两千"), (120000, "十二万"), (200000000, "两亿"), (1002, "一千零二"), (3, "三")],
)
def test_say_count_uses_liang_where_speakers_do(n, expected):
    assert say_count(n, "zh") == expected


@pytest.mark.parametrize("n, expected", [(1, "第一"), (2, "第二"), (10, "第十"), (11, "第十一"), (22, "第二十二")])
def test_say_ordinal_zh_never_uses_liang(n, expected):
    assert say_ordinal(n, "zh") == expected


@pytest.mark.parametrize(
    "amount, expected",
    [
        ("129.9", "一百二十九元九角"), ("129.90", "一百二十九元九角"), ("129.95", "一百二十九元九角五分"),
        ("129.05", "一百二十九元零五分"), ("100", "一百元"), ("100.00", "一百元"), ("2", "两元"),
        ("12", "十二元"), ("0.5", "五角"), ("0.05", "五分"), ("0", "零元"), ("1010", "一千零一十元"),
        ("20000", "两万元"), ("-3.2", "负三元二角"), ("0.999", "一元"),
    ],
)
def test_say_money_zh(amount, expected):
    assert say_money(Decimal(amount), "zh") == expected


def test_say_money_refuses_float():
    with pytest.raises(TypeError):
        say_money(1.1, "zh")


@pytest.mark.parametrize(
    "digits, expected",
    [
        ("13800138000", "幺三八，零零幺三，八零零零"),
        ("110", "幺幺零"),
        ("0571-8888-1234", "零五七幺，八八八八，幺二三四"),
        ("202611230017", "二零二六，幺幺二三，零零幺七"),
        ("12345", "幺二三，四五"),
        ("", ""),
    ],
)
def test_say_digits_zh_reads_one_as_yao(digits, expected):
    assert say_digits(digits, "zh") == expected


@pytest.mark.parametrize(
    "text, groups",
    [("13800138000", ["138", "0013", "8000"]), ("1234", ["1234"]), ("123456789", ["1234", "567", "89"]),
     ("SF1234567", ["SF", "1234", "567"]), ("138 0013 8000", ["138", "0013", "8000"])],
)
def test_group_digits(text, groups):
    assert group_digits(text) == groups


@pytest.mark.parametrize(
    "day, expected",
    [(dt.date(2026, 11, 23), "二零二六年十一月二十三日"), (dt.date(2000, 1, 1), "二零零零年一月一日"),
     (dt.date(2026, 2, 10), "二零二六年二月十日")],
)
def test_say_date_zh(day, expected):
    assert say_date(day, "zh") == expected


def test_say_date_zh_weekday():
    assert say_date(dt.date(2026, 11, 23), "zh", weekday=True) == "二零二六年十一月二十三日，星期一"


@pytest.mark.parametrize(
    "t, expected",
    [((15, 5), "下午三点零五分"), ((9, 30), "上午九点三十分"), ((12, 0), "中午十二点"), ((0, 15), "凌晨零点十五分"),
     ((2, 0), "凌晨两点"), ((14, 0), "下午两点"), ((20, 45), "晚上八点四十五分"), ((10, 10), "上午十点十分")],
)
def test_say_time_zh(t, expected):
    assert say_time(dt.time(*t), "zh") == expected


@pytest.mark.parametrize("n, expected", [(0, "不到一分钟"), (1, "一分钟"), (2, "两分钟"), (15, "十五分钟")])
def test_say_minutes_zh(n, expected):
    assert say_minutes(n, "zh") == expected


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unsupported language"):
        say_number(1, "fr")
