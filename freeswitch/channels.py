"""Typed rows of ``show channels as json``.

After a restart the engine rebuilds its view of live calls from the switch
(ARCHITECTURE rule 5), so the reply must be parsed exactly: FreeSWITCH sends
``{"row_count":N,"rows":[...]}`` with every value a string (``""`` when
empty), and the empty table as ``{"row_count": 0}\\n`` with no ``rows``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field, fields

from freeswitch.esl.errors import EslProtocolError

_INT_FIELDS = frozenset({"created_epoch", "read_rate", "read_bit_rate", "write_rate", "write_bit_rate"})


@dataclass(frozen=True, slots=True)
class ChannelRow:
    """One live channel; integer columns are ``None`` when FreeSWITCH left them empty."""

    uuid: str
    direction: str = ""
    created: str = ""
    created_epoch: int | None = None
    name: str = ""
    state: str = ""
    cid_name: str = ""
    cid_num: str = ""
    ip_addr: str = ""
    dest: str = ""
    application: str = ""
    application_data: str = ""
    dialplan: str = ""
    context: str = ""
    read_codec: str = ""
    read_rate: int | None = None
    read_bit_rate: int | None = None
    write_codec: str = ""
    write_rate: int | None = None
    write_bit_rate: int | None = None
    secure: str = ""
    hostname: str = ""
    presence_id: str = ""
    presence_data: str = ""
    accountcode: str = ""
    callstate: str = ""
    callee_name: str = ""
    callee_num: str = ""
    callee_direction: str = ""
    call_uuid: str = ""
    sent_callee_name: str = ""
    sent_callee_num: str = ""
    initial_cid_name: str = ""
    initial_cid_num: str = ""
    initial_ip_addr: str = ""
    initial_dest: str = ""
    initial_dialplan: str = ""
    initial_context: str = ""
    #: Columns this class does not know (newer FreeSWITCH versions add some).
    extra: dict[str, str] = field(default_factory=dict, compare=False)


_KNOWN = frozenset(f.name for f in fields(ChannelRow)) - {"extra"}


def _to_int(value: object) -> int | None:
    text = str(value).strip()
    return int(text) if text.isdigit() else None


def parse_channel_row(row: dict[str, object]) -> ChannelRow:
    """One JSON row to a :class:`ChannelRow`."""
    if not isinstance(row, dict) or not isinstance(row.get("uuid"), str):
        raise EslProtocolError("show channels row without a uuid")
    known: dict[str, object] = {}
    extra: dict[str, str] = {}
    for key, value in row.items():
        if key in _INT_FIELDS:
            known[key] = _to_int(value)
        elif key in _KNOWN:
            known[key] = "" if value is None else str(value)
        else:
            extra[key] = "" if value is None else str(value)
    return ChannelRow(extra=extra, **known)  # type: ignore[arg-type]


def parse_show_channels(text: str) -> list[ChannelRow]:
    """Parse the body of ``api show channels as json``."""
    try:
        obj = json.loads(text)
    except ValueError as exc:
        raise EslProtocolError(f"show channels reply is not JSON: {text[:80]!r}") from exc
    if not isinstance(obj, dict) or "row_count" not in obj:
        raise EslProtocolError(f"show channels reply has no row_count: {text[:80]!r}")
    rows = obj.get("rows") or []
    if not isinstance(rows, list):
        raise EslProtocolError("show channels rows is not a list")
    parsed = [parse_channel_row(row) for row in rows]
    count = _to_int(obj["row_count"])
    if count is not None and count != len(parsed):
        raise EslProtocolError(f"show channels row_count {count} but {len(parsed)} rows")
    return parsed
