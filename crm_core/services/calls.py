"""Call detail records: open a call's row at entry, update it at each step, close it; find and close rows a crash left.

The engine's call recorder turns what the IVR and the ACD report into
:class:`CallUpdate`\\ s and writes them with :func:`write_call_updates`, many
calls per transaction (group commit). An update *sets* columns (``values``)
and may *append* to the three growing ones (``appends``): ``ivr_path`` (menu
nodes, joined with ``>``), ``routing`` (decisions, a JSON list) and ``links``
(a JSON object of lists: orders, complaints, callbacks, voicemails,
recordings, agent legs, transfers). Appends read the stored value and add to
it, so a recorder that restarted mid-call never loses what was written
before; a recorder that saw the whole call sends full values instead, which
costs no read.

An ``opened`` update creates the row when it does not exist yet (a call
reconnecting after an engine restart, or reported first by the ACD, keeps
its row). Opening resolves the dialled number (``media_source``, the DNIS)
to its media plan.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import JSON, and_, bindparam, func, literal, or_, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from crm_core.enums import Direction
from crm_core.models import CallDetailRecord, MediaAirTime, MediaPlan, Queue

CDR = CallDetailRecord.__table__
#: Columns an update may set (the id is the database's; ``uuid`` is the key).
COLUMNS = frozenset(c.name for c in CDR.columns) - {"id", "uuid"}
#: Columns that grow as the call goes on.
APPENDABLE = frozenset({"ivr_path", "routing", "links"})
PATH_SEPARATOR = ">"
#: What a call's ``links`` may hold (what the call created or touched).
LINK_KINDS = frozenset({"orders", "complaints", "callbacks", "voicemails", "recordings", "transfers",
                        "agent_legs", "campaign_attempts"})
_TEXT_LIMITS = {c.name: c.type.length for c in CDR.columns if getattr(c.type, "length", None)}


@dataclass(frozen=True)
class CallUpdate:
    """One change to one call's row: columns to set, values to append, columns to fill only while still empty,
    and whether it may create the row."""

    uuid: str
    values: Mapping[str, Any] = field(default_factory=dict)
    appends: Mapping[str, Any] = field(default_factory=dict)
    opened: bool = False
    fill: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        unknown = (set(self.values) - COLUMNS) | (set(self.appends) - APPENDABLE) | (set(self.fill) - COLUMNS)
        if unknown:
            raise ValueError(f"call {self.uuid}: no CDR column(s) {sorted(unknown)}")
        if self.opened and "entered_at" not in self.values:
            raise ValueError(f"call {self.uuid}: opening a CDR needs entered_at")


@dataclass
class _Merged:
    opened: bool = False
    values: dict[str, Any] = field(default_factory=dict)
    appends: dict[str, Any] = field(default_factory=dict)
    fill: dict[str, Any] = field(default_factory=dict)


def _merge_append(column: str, old: Any, new: Any) -> Any:
    if column == "links":
        out = {k: list(v) for k, v in (old or {}).items()}
        for kind, items in (new or {}).items():
            have = out.setdefault(kind, [])
            have += [item for item in items if item not in have]
        return out
    return list(old or []) + list(new or [])


def _merged(updates: Sequence[CallUpdate]) -> dict[str, _Merged]:
    """Updates of the same call folded into one, in order (later values win, appends add up)."""
    calls: dict[str, _Merged] = {}
    for u in updates:
        m = calls.setdefault(u.uuid, _Merged())
        m.opened = m.opened or u.opened
        for column, value in u.values.items():
            m.values[column] = value
            m.appends.pop(column, None)  # a full value replaces what was to be appended before it
            m.fill.pop(column, None)
        for column, value in u.fill.items():
            if column not in m.values and value is not None:
                m.fill.setdefault(column, value)
        for column, items in u.appends.items():
            if column in m.values:
                m.values[column] = _stored_form(column, _merge_append(column, _list_form(column, m.values[column]),
                                                                      items))
            else:
                m.appends[column] = _merge_append(column, m.appends.get(column), items)
    return calls


def _list_form(column: str, stored: Any) -> Any:
    if column == "ivr_path":
        return [p for p in (stored or "").split(PATH_SEPARATOR) if p]
    return stored


def _stored_form(column: str, value: Any) -> Any:
    if column == "ivr_path":
        return PATH_SEPARATOR.join(value) or None
    return value


def _clean(values: Mapping[str, Any]) -> dict[str, Any]:
    out = {}
    for column, value in values.items():
        limit = _TEXT_LIMITS.get(column)
        if limit and isinstance(value, str) and len(value) > limit:
            value = value[:limit]
        out[column] = value
    return out


def write_call_updates(session: Session, updates: Sequence[CallUpdate]) -> list[None]:
    """Apply a batch of updates (a ``BatchWriter``); one result per update.

    A few statements whatever the batch holds, each run for many rows: the
    opened rows in one INSERT ... ON CONFLICT DO UPDATE per set of columns given
    (a row that exists keeps its entry time and direction), every other change
    in one UPDATE per set of columns it names (steps of a kind share one; a
    column an update does not name keeps its value, a fill only fills an empty
    one; an opened row's media plan is looked up inside its INSERT), and a read
    of the stored values only for appends.
    """
    calls = _merged(updates)
    if not calls:
        return []
    needs_read = [uuid for uuid, m in calls.items() if m.appends]
    if needs_read:
        stored = {row.uuid: row for row in session.execute(
            select(CDR.c.uuid, CDR.c.ivr_path, CDR.c.routing, CDR.c.links).where(CDR.c.uuid.in_(needs_read)))}
        for uuid in needs_read:
            m, row = calls[uuid], stored.get(uuid)
            for column, items in m.appends.items():
                old = _list_form(column, getattr(row, column) if row is not None else None)
                m.values[column] = _stored_form(column, _merge_append(column, old, items))
    connection = session.connection()
    opened = {uuid: m for uuid, m in calls.items() if m.opened}
    if opened:
        inserts: dict[tuple[str, ...], list[dict[str, Any]]] = {}
        for uuid, m in opened.items():
            values = _given(m.values)
            values.setdefault("direction", Direction.INBOUND.value)
            inserts.setdefault(tuple(sorted(values)), []).append({"uuid": uuid, **values})
        for columns, rows in inserts.items():
            connection.execute(_upsert(connection.dialect.name, columns), rows)
    changes: dict[tuple[tuple[str, ...], tuple[str, ...]], list[dict[str, Any]]] = {}
    for uuid, m in calls.items():
        values = {} if m.opened else _given(m.values)
        fill = {c: v for c, v in _given(m.fill).items() if c in FILLABLE and c not in values}
        if values or fill:
            changes.setdefault((tuple(sorted(values)), tuple(sorted(fill))), []).append(
                {"b_uuid": uuid, **{f"s_{c}": v for c, v in values.items()}, **{f"f_{c}": v for c, v in fill.items()}})
    for (set_columns, fill_columns), rows in changes.items():
        connection.execute(_update(set_columns, fill_columns), rows)
    return [None] * len(updates)


def _given(values: Mapping[str, Any]) -> dict[str, Any]:
    """The values an update gives (None means "keep what is stored"), text cut to its column's length."""
    return {column: value for column, value in _clean(values).items() if value is not None}


#: Set once, when the row is created (a reconnecting call keeps its first entry time and direction).
_OPEN_ONLY = frozenset({"entered_at", "direction"})
#: Columns an update may change (all named by the one UPDATE statement; None keeps the stored value).
UPDATABLE = tuple(sorted(COLUMNS - _OPEN_ONLY))
#: Columns a fill may set when still empty (the hang-up, the IVR's disposition).
FILLABLE = ("disposition", "ended_at", "hangup_cause", "hangup_side")


def _param_type(column: str) -> Any:
    """A column's type for a bound value, JSON with None as SQL NULL (so an absent value keeps the stored one)."""
    kind = CDR.c[column].type
    if column in ("routing", "links"):
        return JSON(none_as_null=True).with_variant(postgresql.JSONB(none_as_null=True), "postgresql")
    return kind


#: Statements by the columns they name, built once each: a step names a few columns, so each statement of a
#: batch binds only those (a CDR has ~30 columns; binding them all for every step was most of the write's cost).
_UPDATES: dict[tuple[tuple[str, ...], tuple[str, ...]], Any] = {}
_UPSERTS: dict[tuple[str, tuple[str, ...]], Any] = {}


def _update(set_columns: tuple[str, ...], fill_columns: tuple[str, ...]) -> Any:
    """UPDATE setting ``set_columns`` and filling ``fill_columns`` where still empty, for one row per ``b_uuid``."""
    stmt = _UPDATES.get((set_columns, fill_columns))
    if stmt is None:
        values: dict[str, Any] = {c: bindparam(f"s_{c}", type_=_param_type(c)) for c in set_columns}
        values.update({c: func.coalesce(CDR.c[c], bindparam(f"f_{c}", type_=_param_type(c))) for c in fill_columns})
        stmt = _UPDATES[(set_columns, fill_columns)] = (
            update(CDR).where(CDR.c.uuid == bindparam("b_uuid")).values(values))
    return stmt


def _upsert(dialect: str, columns: tuple[str, ...]) -> Any:
    """INSERT of opened rows giving ``columns``; on an existing row those replace the stored values (but the
    entry time and direction it was opened with), the others stay."""
    key = (dialect, columns)
    stmt = _UPSERTS.get(key)
    if stmt is None:
        insert = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(CDR)
        values = {c: bindparam(c, type_=_param_type(c)) for c in ("uuid", *columns)}
        if "media_source" in columns and "media_plan_id" not in columns:  # the plan advertising the number dialled
            values["media_plan_id"] = plan_on_air(values["media_source"], values["entered_at"])
            columns = (*columns, "media_plan_id")
        insert = insert.values(values)
        replaced = {c: func.coalesce(insert.excluded[c], CDR.c[c]) for c in columns if c in UPDATABLE}
        stmt = _UPSERTS[key] = (insert.on_conflict_do_update(index_elements=["uuid"], set_=replaced)
                                               if replaced else insert.on_conflict_do_nothing(index_elements=["uuid"]))
    return stmt


def plan_on_air(number: Any, at: Any) -> Any:
    """The active media plan advertising ``number`` at ``at`` (SQL expressions; a scalar sub-select).

    When several active plans advertise one number, the one whose air time
    started last before ``at`` wins; without such an air time, the newest plan.
    """
    return (select(MediaPlan.id)
            .outerjoin(MediaAirTime, and_(MediaAirTime.plan_id == MediaPlan.id, MediaAirTime.starts_at <= at))
            .where(MediaPlan.dnis == number, MediaPlan.active.is_(True))
            .order_by(MediaAirTime.starts_at.is_(None), MediaAirTime.starts_at.desc(), MediaPlan.id.desc())
            .limit(1).scalar_subquery())


def media_plans_for(session: Session, calls: Iterable[tuple[str | None, dt.datetime]]) -> dict[str, int]:
    """DNIS -> media plan id for the numbers of ``calls`` (dnis, entry time), as :func:`plan_on_air` finds it."""
    out: dict[str, int] = {}
    for dnis, at in calls:
        if dnis:
            plan = session.execute(select(plan_on_air(literal(dnis), literal(at, CDR.c.entered_at.type)))).scalar()
            if plan is not None:
                out[dnis] = plan
    return out


# -- restart recovery ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class OpenCallRow:
    """A CDR row never closed: a call the engine had when it stopped (or one still going)."""

    uuid: str
    queue: str | None
    entered_at: dt.datetime
    queued: bool
    answered: bool
    agent_id: int | None
    direction: str


def unfinished_calls(session: Session, since: dt.datetime) -> list[OpenCallRow]:
    """Rows entered since ``since`` that have no end yet, oldest first."""
    rows = session.execute(
        select(CDR.c.uuid, Queue.name, CDR.c.entered_at, CDR.c.queued_at, CDR.c.answered_at, CDR.c.agent_id,
               CDR.c.direction)
        .outerjoin(Queue, Queue.id == CDR.c.queue_id)
        .where(CDR.c.ended_at.is_(None), CDR.c.entered_at >= since)
        .order_by(CDR.c.entered_at, CDR.c.id)).all()
    return [OpenCallRow(uuid, queue, entered, queued is not None, answered is not None, agent_id, direction)
            for uuid, queue, entered, queued, answered, agent_id, direction in rows]


def close_calls(session: Session, uuids: Sequence[str], *, at: dt.datetime, cause: str) -> int:
    """Close rows still open (``ended_at`` unset); how many.

    An answered call keeps its disposition (``answered`` if none); a caller
    still waiting in a queue counts as ``abandoned``; a call cut anywhere else
    (in the IVR) is ``interrupted`` -- not a caller's choice.
    """
    if not uuids:
        return 0
    closed = 0
    still_open = [CDR.c.uuid.in_(list(uuids)), CDR.c.ended_at.is_(None)]
    ends = {"ended_at": at, "hangup_cause": cause[:40], "hangup_side": "system"}
    answered = update(CDR).where(*still_open, CDR.c.answered_at.is_not(None)).values(
        disposition=func.coalesce(CDR.c.disposition, "answered"), **ends)
    waiting = update(CDR).where(*still_open, CDR.c.answered_at.is_(None), CDR.c.queued_at.is_not(None)).values(
        disposition="abandoned", **ends)
    elsewhere = update(CDR).where(*still_open, CDR.c.answered_at.is_(None), CDR.c.queued_at.is_(None)).values(
        disposition=func.coalesce(CDR.c.disposition, "interrupted"), **ends)
    for stmt in (answered, waiting, elsewhere):
        closed += session.execute(stmt).rowcount or 0
    return closed


def close_stale_calls(session: Session, *, before: dt.datetime, at: dt.datetime, cause: str = "STALE") -> int:
    """Close every row entered before ``before`` and never ended (no engine remembers them); how many."""
    stale = [u for (u,) in session.execute(select(CDR.c.uuid).where(CDR.c.ended_at.is_(None),
                                                                     CDR.c.entered_at < before))]
    return close_calls(session, stale, at=at, cause=cause)


# -- reads the ACD needs ----------------------------------------------------------------------------------

def previous_agent(session: Session, customer_id: int | None, ani: str, since: dt.datetime) -> int | None:
    """Agent id of the latest answered call of the customer (else of the number) after ``since``."""
    who = []
    if customer_id is not None:
        who.append(CDR.c.customer_id == customer_id)
    if ani:
        who.append(CDR.c.ani == ani)
    if not who:
        return None
    query = (select(CDR.c.agent_id)
             .where(or_(*who), CDR.c.agent_id.is_not(None), CDR.c.answered_at.is_not(None),
                    CDR.c.answered_at >= since)
             .order_by(CDR.c.answered_at.desc()).limit(1))
    return session.scalar(query)


def link_call(session: Session, uuid: str, kind: str, value: Any) -> None:
    """Note on the call's row something created during the call outside the engine (an agent's desk order or
    complaint); a call with no row (no engine recorded it) is left alone."""
    if kind not in LINK_KINDS:
        raise ValueError(f"call {uuid}: cannot link a {kind!r}")
    write_call_updates(session, [CallUpdate(uuid, appends={"links": {kind: [value]}})])


def set_disposition(session: Session, uuid: str, disposition: str) -> CallDetailRecord | None:
    """The agent's wrap-up code on the call's row (replacing the ACD's ``answered``); None if there is no row."""
    row = session.scalars(select(CallDetailRecord).where(CallDetailRecord.uuid == uuid)).first()
    if row is not None:
        row.disposition = disposition[:40]
        session.flush()
    return row
