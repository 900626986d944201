"""How a digit string is read aloud in groups, shared by every language's number speaker (``say_zh``, ``say_en``)."""

from __future__ import annotations

import re


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
