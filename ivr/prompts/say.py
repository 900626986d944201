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
from decimal import Decimal
from typing import Any, Callable

from ivr.prompts import say_en, say_zh
from ivr.prompts.digits import group_digits  # noqa: F401  (re-exported: the shared grouping rule)

LANGS = ("zh", "en")
_MODULES = {"zh": say_zh, "en": say_en}

#: The kinds a catalogue variable may declare (``vars: {amount: money}``).
KINDS = ("text", "number", "count", "ordinal", "money", "date", "time", "digits", "minutes")


def _mod(lang: str):
    try:
        return _MODULES[lang]
    except KeyError:
        raise ValueError(f"unsupported language {lang!r}; expected one of {', '.join(LANGS)}") from None


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
