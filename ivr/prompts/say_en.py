"""English readings of numbers, money, dates, times and digit strings.

Values are spelled out in words rather than left to the TTS engine so that the
reading is the same on every voice and testable: "129.90" is a price
("one hundred twenty-nine yuan ninety"), "13800138000" is a phone number read
in groups, "2026-11-23" is "November twenty-third, twenty twenty-six".
American style (the `gmw/en-us` voice): no "and" inside numbers.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from ivr.prompts.digits import group_digits

ONES = (
    "zero one two three four five six seven eight nine ten eleven twelve thirteen "
    "fourteen fifteen sixteen seventeen eighteen nineteen"
).split()
TENS = "_ _ twenty thirty forty fifty sixty seventy eighty ninety".split()
_SCALES = ((10**12, "trillion"), (10**9, "billion"), (10**6, "million"), (1000, "thousand"))
_ORDINAL_IRREGULAR = {
    "one": "first", "two": "second", "three": "third", "five": "fifth",
    "eight": "eighth", "nine": "ninth", "twelve": "twelfth",
}
MONTHS = (
    "January February March April May June July August September October November December"
).split()


def _below_thousand(n: int) -> str:
    words = []
    hundreds, rest = divmod(n, 100)
    if hundreds:
        words.append(f"{ONES[hundreds]} hundred")
    if rest >= 20:
        tens, ones = divmod(rest, 10)
        words.append(TENS[tens] + (f"-{ONES[ones]}" if ones else ""))
    elif rest:
        words.append(ONES[rest])
    return " ".join(words)


def say_integer(n: int) -> str:
    """Whole number in words: 1010 -> "one thousand ten"."""
    if n < 0:
        return "minus " + say_integer(-n)
    if n == 0:
        return "zero"
    if n >= 10**15:
        raise ValueError(f"number too large to read: {n}")
    words = []
    for scale, name in _SCALES:
        if n >= scale:
            count, n = divmod(n, scale)
            words.append(f"{_below_thousand(count)} {name}")
    if n:
        words.append(_below_thousand(n))
    return " ".join(words)


def say_number(value: int | Decimal | float | str) -> str:
    """Number in words; decimals digit by digit after "point"."""
    if isinstance(value, int):
        return say_integer(value)
    d = Decimal(str(value)).normalize()
    if d == d.to_integral_value():
        return say_integer(int(d))
    sign = "minus " if d < 0 else ""
    whole, _, frac = format(abs(d), "f").partition(".")
    return f"{sign}{say_integer(int(whole))} point " + " ".join(ONES[int(c)] for c in frac)


def say_count(n: int) -> str:
    """A quantity: same as a number in English."""
    return say_integer(n)


def say_ordinal(n: int) -> str:
    """first, second, twenty-first, one hundredth."""
    words = say_integer(n)
    head, sep, last = words.rpartition(" ")
    prefix, dash, unit = last.rpartition("-")
    if unit in _ORDINAL_IRREGULAR:
        unit = _ORDINAL_IRREGULAR[unit]
    elif unit.endswith("y"):
        unit = unit[:-1] + "ieth"
    else:
        unit += "th"
    return head + sep + prefix + dash + unit


def say_money(amount: Decimal) -> str:
    """Yuan as a hotline reads a price: "one hundred twenty-nine yuan ninety", "fifty fen"."""
    q = Decimal(amount).quantize(Decimal("0.01"))
    sign = "minus " if q < 0 else ""
    yuan, fen = divmod(int(abs(q) * 100), 100)
    if not yuan and not fen:
        return "zero yuan"
    if not yuan:
        return f"{sign}{say_integer(fen)} fen"
    text = f"{sign}{say_integer(yuan)} yuan"
    if fen:
        text += " " + (f"oh {ONES[fen]}" if fen < 10 else say_integer(fen))
    return text


def say_digits(text: str) -> str:
    """Digit by digit in groups ("one three eight, zero zero one three, ...")."""

    return ", ".join(
        " ".join(ONES[int(c)] if c.isdigit() else c.upper() for c in group) for group in group_digits(text)
    )


def say_year(year: int) -> str:
    """Years as spoken: twenty twenty-six, two thousand five, nineteen oh five."""
    if 2000 <= year <= 2009 or year % 1000 == 0:
        return say_integer(year)
    high, low = divmod(year, 100)
    if low == 0:
        return f"{say_integer(high)} hundred"
    return f"{say_integer(high)} " + (f"oh {ONES[low]}" if low < 10 else say_integer(low))


def say_date(day: dt.date, *, weekday: bool = False) -> str:
    """November twenty-third, twenty twenty-six."""
    text = f"{MONTHS[day.month - 1]} {say_ordinal(day.day)}, {say_year(day.year)}"
    if weekday:
        text = day.strftime("%A") + ", " + text
    return text


def say_time(t: dt.time) -> str:
    """three oh five p.m.; twelve noon; nine a.m."""
    if t.hour == 12 and t.minute == 0:
        return "twelve noon"
    if t.hour == 0 and t.minute == 0:
        return "twelve midnight"
    hour12 = t.hour % 12 or 12
    text = say_integer(hour12)
    if t.minute:
        text += " " + (f"oh {ONES[t.minute]}" if t.minute < 10 else say_integer(t.minute))
    return text + (" p.m." if t.hour >= 12 else " a.m.")


def say_minutes(n: int) -> str:
    """An expected wait: less than a minute, one minute, two minutes."""
    if n <= 0:
        return "less than a minute"
    return f"{say_integer(n)} minute" + ("s" if n != 1 else "")
