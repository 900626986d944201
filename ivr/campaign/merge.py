"""Merge fields: a contact's data said inside a campaign prompt ("您好{name}，您的订单{order}已发货").

The fields are the contact's columns from ``campaign_contacts.data`` (a file's
extra columns, or ``name`` / ``order`` from a segment). A field the contact
lacks must not cost the call: the rest of the sentence is said and the gap
is reported, so the caller hears "您好，您的订单已发货" rather than silence or
an apology.
"""

from __future__ import annotations

import string
from typing import Any, Mapping

_FORMATTER = string.Formatter()


def fill(template: str, fields: Mapping[str, Any]) -> tuple[str, list[str]]:
    """``template`` with its ``{field}`` marks replaced by ``fields``; also the names that had no value.

    Text whose braces are not merge fields (menu validation refuses it in
    campaign menus) is returned as written.
    """
    try:
        parts = list(_FORMATTER.parse(template))
    except ValueError:
        return template, []
    out: list[str] = []
    missing: list[str] = []
    for literal, name, _spec, _conversion in parts:
        out.append(literal)
        if name is None:
            continue
        value = fields.get(name)
        if value is None or not str(value).strip():
            missing.append(name)
            continue
        out.append(str(value).strip())
    return "".join(out), missing
