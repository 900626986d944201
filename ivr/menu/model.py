"""The typed menu definition: what an admin edits and what one call runs.

A menu is a graph of nodes keyed by id. Each node says what the caller hears
(a catalogue ``prompt`` id, or inline ``text`` per language for admin-written
announcements) and where the call goes next. Definitions are frozen
dataclasses: a published version is loaded once and shared by every call that
started on it, so nobody may change one in place (``dataclasses.replace`` makes
a new one).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import ClassVar, Mapping, Union
from zoneinfo import ZoneInfo

#: Keys a caller can press.
DTMF_KEYS = frozenset("0123456789*#")

#: Self-service actions a menu can start (each one is a flow in ``ivr.runtime.flows``).
ACTIONS = frozenset({
    "order_status", "points_balance", "product_lookup", "promotions", "place_order",
    "complaint_voicemail", "callback_request", "subscribe_news", "poll", "fax_request",
})

#: Actions only a campaign menu may start (the runner of automated campaigns handles them, not a flow).
CAMPAIGN_ACTIONS = frozenset({"do_not_call"})

#: What a menu is for: answering the hotline, or the script of an automated outbound campaign.
PURPOSES = ("inbound", "campaign")

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Spoken:
    """Mixin: what a node says -- a catalogue prompt id and/or inline text per language."""

    prompt: str | None = None
    text: Mapping[str, str] = field(default_factory=dict)

    @property
    def speaks(self) -> bool:
        return bool(self.prompt or self.text)


@dataclass(frozen=True)
class Option:
    """One menu choice: the node it leads to, and the words that choose it by voice per language."""

    target: str
    keywords: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    label: str | None = None  # for statistics and the admin UI ("order status")


@dataclass(frozen=True)
class MenuNode(Spoken):
    """Play a prompt, wait for a key (or a keyword), go where the option says."""

    kind: ClassVar[str] = "menu"
    id: str = ""
    options: Mapping[str, Option] = field(default_factory=dict)
    timeout: float = 5.0
    retries: int = 3
    invalid_prompt: str | None = "invalid_input"
    timeout_prompt: str | None = "timeout"
    on_failure: str | None = None  # node after too many errors; None hands the caller to an agent
    multilingual: bool = False  # say the prompt once in every language, each in its own voice (language choice)


@dataclass(frozen=True)
class AnnouncementNode(Spoken):
    """Say something (an admin-edited notice, policy, advertiser info) and move on."""

    kind: ClassVar[str] = "announcement"
    id: str = ""
    next: str | None = None
    #: Schedule: ISO date or date-time (menu's time zone) from which / until which it is said; None = always.
    valid_from: str | None = None
    valid_to: str | None = None

    def in_schedule(self, at: dt.datetime, timezone: str = "Asia/Shanghai") -> bool:
        """Whether the announcement is current at ``at`` (an aware datetime); a date ``valid_to`` includes that day."""
        local = at.astimezone(ZoneInfo(timezone)).replace(tzinfo=None)
        start, end = schedule_bound(self.valid_from), schedule_bound(self.valid_to, end=True)
        return (start is None or local >= start) and (end is None or local < end)


def schedule_bound(value: str | None, end: bool = False) -> dt.datetime | None:
    """An announcement schedule bound as a naive local datetime (a plain date ``end`` means the next midnight).

    Raises ValueError for text that is neither an ISO date nor an ISO date-time.
    """
    if not value:
        return None
    if "T" not in value and " " not in value.strip():
        day = dt.date.fromisoformat(value.strip())
        return dt.datetime.combine(day + dt.timedelta(days=1) if end else day, dt.time())
    return dt.datetime.fromisoformat(value.strip()).replace(tzinfo=None)


@dataclass(frozen=True)
class DigitInputNode(Spoken):
    """Collect a digit string into a session variable (a membership number, a campaign code)."""

    kind: ClassVar[str] = "digits"
    id: str = ""
    variable: str = "digits"
    min_length: int = 1
    max_length: int = 20
    terminator: str = "#"
    timeout: float = 8.0
    retries: int = 3
    next: str | None = None
    on_failure: str | None = None


@dataclass(frozen=True)
class SurveyNode(Spoken):
    """Ask one survey question of a campaign call and keep the key pressed as the answer.

    ``question`` is the key of a ``campaign_questions`` row; the node says its
    own prompt or text, or the question's prompt when it has none. A key not in
    ``valid_digits`` (empty: the question's) or silence is asked again up to
    ``retries`` times, then the call moves on with no answer recorded.
    ``answers`` sends an answer to a node of its own; any other goes ``next``.
    """

    kind: ClassVar[str] = "survey"
    id: str = ""
    question: str = ""
    valid_digits: str = ""
    timeout: float = 6.0
    retries: int = 2
    invalid_prompt: str | None = "invalid_input"
    timeout_prompt: str | None = "timeout"
    answers: Mapping[str, str] = field(default_factory=dict)  # key pressed -> node id
    next: str | None = None


@dataclass(frozen=True)
class ActionNode:
    """Run a self-service flow; ``next`` is where the caller goes after it (None: back to the previous menu)."""

    kind: ClassVar[str] = "action"
    id: str = ""
    action: str = ""
    next: str | None = None
    params: Mapping[str, object] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueNode(Spoken):
    """Hand the caller to the ACD: a queue and the skills the agent needs."""

    kind: ClassVar[str] = "queue"
    id: str = ""
    queue: str = "general"
    skills: tuple[str, ...] = ()


@dataclass(frozen=True)
class VoicemailNode(Spoken):
    """Leave a message in a mailbox (no complaint attached)."""

    kind: ClassVar[str] = "voicemail"
    id: str = ""
    mailbox: str = "general"
    max_seconds: int = 120
    next: str | None = None


@dataclass(frozen=True)
class CallbackNode(Spoken):
    """Book a callback (calling number or a keyed one, preferred window) into a queue."""

    kind: ClassVar[str] = "callback"
    id: str = ""
    queue: str | None = None
    next: str | None = None


@dataclass(frozen=True)
class GotoNode:
    """Jump to another node (a shared sub-menu)."""

    kind: ClassVar[str] = "goto"
    id: str = ""
    target: str = ""


@dataclass(frozen=True)
class LanguageNode(Spoken):
    """Switch the call's language, then go on."""

    kind: ClassVar[str] = "language"
    id: str = ""
    language: str = "zh"
    next: str | None = None


@dataclass(frozen=True)
class HangupNode(Spoken):
    """Say goodbye and hang up with a cause."""

    kind: ClassVar[str] = "hangup"
    id: str = ""
    cause: str = "NORMAL_CLEARING"


Node = Union[MenuNode, AnnouncementNode, DigitInputNode, SurveyNode, ActionNode, QueueNode, VoicemailNode,
             CallbackNode, GotoNode, LanguageNode, HangupNode]

NODE_TYPES: dict[str, type] = {cls.kind: cls for cls in (
    MenuNode, AnnouncementNode, DigitInputNode, SurveyNode, ActionNode, QueueNode, VoicemailNode, CallbackNode,
    GotoNode, LanguageNode, HangupNode)}

#: Node kinds only a campaign menu may hold.
CAMPAIGN_KINDS = frozenset({"survey"})

#: Node kinds that take no caller input: a cycle made only of them would spin forever.
NO_INPUT_KINDS = frozenset({"announcement", "goto", "language"})


def targets(node: Node) -> list[tuple[str, str]]:
    """Every ``(field, node id)`` a node can lead to."""
    out: list[tuple[str, str]] = []
    if isinstance(node, MenuNode):
        out += [(f"option {key}", opt.target) for key, opt in node.options.items()]
    if isinstance(node, SurveyNode):
        out += [(f"answer {key}", target) for key, target in node.answers.items()]
    for name in ("next", "on_failure", "target"):
        value = getattr(node, name, None)
        if value:
            out.append((name, value))
    return out


@dataclass(frozen=True)
class BusinessHours:
    """Opening hours per weekday in a time zone, plus holidays; outside them calls go to ``after_hours``."""

    timezone: str = "Asia/Shanghai"
    weekly: Mapping[str, tuple[tuple[dt.time, dt.time], ...]] = field(default_factory=dict)
    holidays: tuple[dt.date, ...] = ()
    after_hours: str = ""

    def is_open(self, at: dt.datetime) -> bool:
        """Whether the line is staffed at ``at`` (an aware datetime)."""
        local = at.astimezone(ZoneInfo(self.timezone))
        if local.date() in self.holidays:
            return False
        now = local.time().replace(tzinfo=None)
        return any(start <= now < end for start, end in self.weekly.get(WEEKDAYS[local.weekday()], ()))


@dataclass(frozen=True)
class BlacklistPolicy:
    """What to do with a blacklisted caller (flagged, or with ``crm.blacklist_threshold`` active marks).

    ``warn_agent`` marks the call for the agent desk and carries on; ``message``
    plays ``prompt`` first; ``reject`` plays it and hangs up with ``CALL_REJECTED``.
    """

    action: str = "warn_agent"
    prompt: str | None = "blacklist_notice"

    ACTIONS: ClassVar[frozenset[str]] = frozenset({"warn_agent", "message", "reject", "none"})


@dataclass(frozen=True)
class MenuSettings:
    """Keys and hand-off settings shared by every node of a menu."""

    repeat_key: str = "*"
    back_key: str = "#"
    max_errors: int = 3  # errors across the whole call before the caller is sent to an agent
    agent_queue: str = "general"
    agent_skills: tuple[str, ...] = ()
    handoff_extension: str = "agents"
    handoff_context: str = "default"
    barge_in: bool = True
    #: a key pressed during the greeting or an announcement answers the next menu (when the engine allows it too)
    type_ahead: bool = True
    blacklist: BlacklistPolicy = field(default_factory=BlacklistPolicy)


@dataclass(frozen=True)
class MenuDefinition:
    """One complete menu tree: nodes, where calls start (by DNIS), hours and languages.

    ``purpose`` says what the menu is for: ``inbound`` menus answer the
    hotline; ``campaign`` menus are the scripts of automated outbound
    campaigns (survey nodes, the do-not-call action, merge fields such as
    ``{name}`` in their text). One never stands in for the other.
    """

    name: str
    entry: str
    nodes: Mapping[str, Node]
    purpose: str = "inbound"
    languages: tuple[str, ...] = ("zh", "en")
    default_language: str = "zh"
    entry_points: Mapping[str, str] = field(default_factory=dict)  # DNIS -> node id
    business_hours: BusinessHours | None = None
    settings: MenuSettings = field(default_factory=MenuSettings)
    description: str = ""

    def node(self, node_id: str) -> Node:
        """The node with this id (KeyError names it when missing)."""
        try:
            return self.nodes[node_id]
        except KeyError:
            raise KeyError(f"menu {self.name!r} has no node {node_id!r}") from None

    def start_for(self, dnis: str, at: dt.datetime | None = None) -> str:
        """The first node for a call to ``dnis`` at ``at``: after-hours when closed, else the DNIS entry."""
        if at is not None and self.business_hours is not None and not self.business_hours.is_open(at):
            return self.business_hours.after_hours
        return self.entry_points.get(dnis, self.entry)
