"""Speak typed values in a caller's language: the one entry point prompts use.

Prompts carry typed variables (a price, an order number, a date); this module
turns each into words for the chosen language so the TTS engine never has to
guess whether "1010" is a quantity, a year or an order number. The language
modules (`say_zh`, `say_en`) hold the rules; here are the dispatch, the
digit grouping both share, and ``say_value`` which the catalogue calls with a
variable's declared kind.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from typing import Any, Callable

from ivr.prompts import say_en, say_zh

LANGS = ("zh", "en")
_MODULES = {"zh": say_zh, "en": say_en}

#: The kinds a catalogue variable may declare (``vars: {amount: money}``).
KINDS = ("text", "number", "count", "ordinal", "money", "date", "time", "digits", "minutes")


def _mod(lang: str):
    try:
        return _MODULES[lang]
    except KeyError:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(LANGS)}") from None


def group_digits(text: str) -> list[str]:
    """Split a digit string into the groups a person reads with pauses.

    Separators (spaces, dashes) the caller's data already has are kept as group
    boundaries; otherwise an 11-digit mainland mobile is 3-4-4, anything else
    up to 4 stays whole, longer strings go in fours with no lone last digit.
    """
    spaced = "".join(c if c.isalnum() else " " for c in text)
    raw = re.findall(r"[0-9]+|[^\W\d_]+", spaced)  # "SF123" -> "SF", "123": letters apart
    if len(raw) > 1:
        return [g for part in raw for g in group_digits(part)] if any(len(p) > 4 for p in raw) else raw
    s = raw[0] if raw else ""
    if len(s) == 11 and s.isdigit() and s.startswith("1"):
        return [s[:3], s[3:7], s[7:]]
    if len(s) <= 4:
        return [s] if s else []
    groups = [s[i : i + 4] for i in range(0, len(s), 4)]
    if len(groups[-1]) == 1:
        tail = groups[-2] + groups[-1]
        groups[-2:] = [tail[:3], tail[3:]]
    return groups


def say_number(n: int | Decimal | float | str, lang: str) -> str:
    """A cardinal number (negative and decimal allowed)."""
    return _mod(lang).say_number(n)


def say_count(n: int, lang: str) -> str:
    """A quantity before a unit (zh: 两件 rather than 二件)."""
    return _mod(lang).say_count(int(n))


def say_ordinal(n: int, lang: str) -> str:
    """first / 第一."""
    return _mod(lang).say_ordinal(int(n))


def say_money(amount: Decimal | int | str, lang: str) -> str:
    """An amount of yuan (floats are refused: money is never binary floating point)."""
    if isinstance(amount, float):
        raise TypeError("say_money takes Decimal, int or str, not float")
    return _mod(lang).say_money(Decimal(str(amount)))


def say_date(day: dt.date, lang: str, *, weekday: bool = False) -> str:
    """A calendar date."""
    return _mod(lang).say_date(day, weekday=weekday)


def say_time(t: dt.time, lang: str) -> str:
    """A clock time with the part of day."""
    return _mod(lang).say_time(t)


def say_digits(s: str | int, lang: str) -> str:
    """Digit by digit: phone numbers, order and waybill numbers, codes."""
    return _mod(lang).say_digits(str(s))


def say_minutes(n: int, lang: str) -> str:
    """A wait in minutes ("less than a minute" for 0)."""
    return _mod(lang).say_minutes(int(n))


def _say_text(value: Any, lang: str) -> str:
    return str(value)


def _say_date_value(value: Any, lang: str) -> str:
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = value.date()
    return say_date(value, lang)


def _say_time_value(value: Any, lang: str) -> str:
    if isinstance(value, str):
        value = dt.time.fromisoformat(value)
    if isinstance(value, dt.datetime):
        value = value.time()
    return say_time(value, lang)


_BY_KIND: dict[str, Callable[[Any, str], str]] = {
    "text": _say_text,
    "number": say_number,
    "count": say_count,
    "ordinal": say_ordinal,
    "money": say_money,
    "date": _say_date_value,
    "time": _say_time_value,
    "digits": say_digits,
    "minutes": say_minutes,
}


def say_value(value: Any, kind: str, lang: str) -> str:
    """Speak ``value`` as the declared ``kind`` in ``lang``."""
    try:
        speak = _BY_KIND[kind]
    except KeyError:
        raise ValueError(f"unknown value kind {kind!r}; expected one of {', '.join(KINDS)}") from None
    return speak(value, lang)
