"""Order numbers a caller can say or key in: ten digits, random, the last one a Luhn check digit.

Random (not sequential) so one customer's number says nothing about another's;
the check digit lets the IVR reject a mistyped number before any look-up.
"""

from __future__ import annotations

import secrets


def luhn_digit(digits: str) -> str:
    """The Luhn check digit for ``digits`` (catches any single wrong digit and most swaps)."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value *= 2
            if value > 9:
                value -= 9
        total += value
    return str((10 - total % 10) % 10)


def is_valid_order_number(number: str) -> bool:
    """Ten digits whose last one is the Luhn check of the first nine."""
    return len(number) == 10 and number.isdigit() and luhn_digit(number[:9]) == number[9]


def new_order_number() -> str:
    """A random speakable order number: nine digits (no leading zero) plus a check digit."""
    body = str(secrets.randbelow(900_000_000) + 100_000_000)
    return body + luhn_digit(body)
