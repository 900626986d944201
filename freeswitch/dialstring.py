"""Building ``originate`` command lines with channel variables escaped correctly.

FreeSWITCH splits the ``{k=v,...}`` block on commas and the command line on
spaces; a caller name like ``Smith, John`` must neither start a new variable
nor a new argument. Following FreeSWITCH's documented syntax, commas are
escaped as ``\\,`` and values with spaces or quotes are single-quoted with
inner quotes escaped; so is an application with spaces in its argument
(``'&socket(127.0.0.1:8084 async full)'``: unquoted, FreeSWITCH would run
``socket(127.0.0.1:8084`` in static mode without full control). Line breaks
and braces are refused: they cannot be carried safely at all.
"""

from __future__ import annotations

import re
from typing import Mapping

_KEY = re.compile(r"^[A-Za-z0-9_.\-]+$")


def quote_value(value: object) -> str:
    """One variable value as it must appear inside ``{...}``."""
    if isinstance(value, bool):
        text = "true" if value else "false"
    else:
        text = str(value)
    if any(c in text for c in "\r\n{}"):
        raise ValueError(f"channel variable value {text!r} cannot contain line breaks or braces")
    text = text.replace("\\", "\\\\").replace(",", "\\,")
    if any(c in text for c in " '\t\""):
        return "'" + text.replace("'", "\\'") + "'"
    return text


def variables_block(variables: Mapping[str, object]) -> str:
    """``{k=v,...}`` (empty string for no variables)."""
    if not variables:
        return ""
    parts = []
    for key, value in variables.items():
        if not _KEY.match(key):
            raise ValueError(f"bad channel variable name {key!r}")
        parts.append(f"{key}={quote_value(value)}")
    return "{" + ",".join(parts) + "}"


def originate_command(
    dial_string: str,
    app: str | None,
    variables: Mapping[str, object] | None,
    timeout: int | None,
    origination_uuid: str | None,
) -> str:
    """The argument of ``originate``: ``{vars}dial_string &app()`` or ``... exten [dialplan] [context]``."""
    if not dial_string or any(c in dial_string for c in " \t\r\n"):
        raise ValueError(f"bad dial string {dial_string!r}")
    target = "&park()" if app is None else app.strip()
    if not target or any(c in target for c in "\r\n"):
        raise ValueError(f"bad originate application/extension {app!r}")
    merged: dict[str, object] = {}
    if origination_uuid is not None:
        merged["origination_uuid"] = origination_uuid
    if timeout is not None:
        merged["originate_timeout"] = int(timeout)
    merged.update(variables or {})
    block = variables_block(merged)
    if block and dial_string.startswith("{"):
        dial = block[:-1] + "," + dial_string[1:]  # one block: ours first, the caller's after
    else:
        dial = block + dial_string
    if target.startswith("&") and any(c in target for c in " \t'"):  # one argument: FreeSWITCH splits on spaces
        target = "'" + target.replace("\\", "\\\\").replace("'", "\\'") + "'"
    return f"originate {dial} {target}"
