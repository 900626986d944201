"""Mandarin readings of numbers, money, dates, times and digit strings.

TTS voices read Arabic digits inconsistently (espeak-ng's Mandarin voice reads
"2026" differently from "2026年"), so every value is turned into Chinese
characters here, following how a shopping-hotline agent would say it: 零 only
once between non-zero digits, 两 before measure words and 千/万/亿, 幺 for 1
when reading digit strings (phone and order numbers) so it is not heard as 七.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ivr.prompts.digits import group_digits

DIGITS = "零一二三四五六七八九"
#: Digit-by-digit reading: 幺 for 1 is the call-centre convention (一 and 七 sound alike on a phone line).
DIGIT_STRING = "零幺二三四五六七八九"
_SMALL_UNITS = ("", "十", "百", "千")
_BIG_UNITS = ("", "万", "亿", "万亿")
_MAX = 10**16


def _group(n: int, liang: bool) -> str:
    """Read 1..9999 (one 4-digit group) with 零 for inner zero runs."""
    digits = f"{n:04d}"
    out: list[str] = []
    pending_zero = False
    started = False
    for i, ch in enumerate(digits):
        d = int(ch)
        pos = 3 - i  # 3 = 千, 2 = 百, 1 = 十, 0 = 个
        if d == 0:
            pending_zero = started
            continue
        if pending_zero:
            out.append("零")
            pending_zero = False
        word = "两" if (liang and d == 2 and pos >= 2) else DIGITS[d]
        out.append(word + _SMALL_UNITS[pos])
        started = True
    return "".join(out)


def say_integer(n: int, *, liang: bool = False) -> str:
    """Read a whole number; ``liang`` uses 两 where speakers do (两千, 两万, 两件)."""
    if n < 0:
        return "负" + say_integer(-n, liang=liang)
    if n == 0:
        return "零"
    if n >= _MAX:
        raise ValueError(f"number too large to read: {n}")
    groups: list[int] = []
    while n:
        groups.append(n % 10000)
        n //= 10000
    out: list[str] = []
    need_zero = False
    for idx in range(len(groups) - 1, -1, -1):
        g = groups[idx]
        if g == 0:
            need_zero = bool(out)
            continue
        if out and (need_zero or g < 1000):
            out.append("零")
        if liang and g == 2 and (idx > 0 or len(groups) == 1):
            text = "两"  # 两万, 两亿; a lone 2 before a measure word
        else:
            text = _group(g, liang)
        if not out and 10 <= g <= 19:
            text = text[1:]  # leading 一十 is said 十: 十, 十二, 十万
        out.append(text + _BIG_UNITS[idx])
        need_zero = False
    return "".join(out)


def say_number(value: int | Decimal | float | str) -> str:
    """Read a number; decimals are read digit by digit after 点 (三点一四), trailing zeros dropped."""
    if isinstance(value, int):
        return say_integer(value)
    d = Decimal(str(value)).normalize()
    if d == d.to_integral_value():
        return say_integer(int(d))
    sign = "负" if d < 0 else ""
    whole, _, frac = format(abs(d), "f").partition(".")
    return f"{sign}{say_integer(int(whole))}点" + "".join(DIGITS[int(c)] for c in frac)


def say_count(n: int) -> str:
    """A quantity before a measure word: 两件, 十二件, 两千件."""
    return say_integer(n, liang=True)


def say_ordinal(n: int) -> str:
    """第一, 第二 (never 第两), 第十一."""
    return "第" + say_integer(n)


def say_money(amount: Decimal) -> str:
    """Yuan, jiao and fen as a hotline reads prices: 一百二十九元九角, 五元零五分, 五角."""
    q = Decimal(amount).quantize(Decimal("0.01"))
    sign = "负" if q < 0 else ""
    fen_total = int(abs(q) * 100)
    yuan, rest = divmod(fen_total, 100)
    jiao, fen = divmod(rest, 10)
    parts: list[str] = []
    if yuan:
        parts.append(say_integer(yuan, liang=True) + "元")
    if jiao:
        parts.append(DIGITS[jiao] + "角")
    if fen:
        if yuan and not jiao:
            parts.append("零")
        parts.append(DIGITS[fen] + "分")
    if not parts:
        return "零元"
    return sign + "".join(parts)


def say_digits(text: str) -> str:
    """Read digit by digit with 幺 for 1; groups (3-4-4 for mobiles) separated by a pause."""

    groups = group_digits(text)
    spoken = []
    for group in groups:
        spoken.append("".join(DIGIT_STRING[int(c)] if c.isdigit() else c.upper() for c in group))
    return "，".join(spoken)


def say_date(day: dt.date, *, weekday: bool = False) -> str:
    """二零二六年十一月二十三日: the year digit by digit (with 零, not 幺), month and day as numbers."""
    year = "".join(DIGITS[int(c)] for c in str(day.year))
    text = f"{year}年{say_integer(day.month)}月{say_integer(day.day)}日"
    if weekday:
        text += "，星期" + ("一二三四五六日"[day.weekday()])
    return text


def _period(hour: int) -> str:
    if hour < 6:
        return "凌晨"
    if hour < 12:
        return "上午"
    if hour < 13:
        return "中午"
    if hour < 19:
        return "下午"
    return "晚上"


def say_time(t: dt.time) -> str:
    """下午三点零五分; 上午九点三十分 rather than 九点半 for clarity; 两点, not 二点."""
    hour12 = (t.hour % 12 or 12) if t.hour else 0
    text = _period(t.hour) + say_integer(hour12, liang=True) + "点"
    if t.minute:
        minute = say_integer(t.minute)
        text += ("零" + minute if t.minute < 10 else minute) + "分"
    return text


def say_minutes(n: int) -> str:
    """An expected wait: 不到一分钟, 两分钟, 十五分钟."""
    if n <= 0:
        return "不到一分钟"
    return say_count(n) + "分钟"
