"""Where a number goes: the simulator's stand-in for the XML dialplan.

Every number runs ``socket <target> async full`` by default (what
``dialplans/`` does on a real box); ``sim target <pattern> <host:port>``
changes the target per number pattern, ``park`` parks it, and a list of
``app(arg)`` steps runs those apps (``socket(default)`` is the current
default target). As in FreeSWITCH, the actions after a ``socket`` run when
the socket app returns. A rule may also count visits the way an XML
extension does with an inline ``set <var>=${<var>}x`` and a ``^x{1,N}$``
condition: past ``limit`` visits its ``otherwise`` actions (anti-actions) run.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from freeswitch.sim.core import SimCore


@dataclass
class Rule:
    pattern: str
    actions: list[tuple[str, str]]
    counter: str | None = None
    limit: int = 0
    otherwise: list[tuple[str, str]] = field(default_factory=list)

    def matches(self, number: str) -> bool:
        if self.pattern == number:
            return True
        try:
            return re.fullmatch(self.pattern, number) is not None
        except re.error:
            return False


def parse_actions(spec: str, default_socket: tuple[str, int]) -> list[tuple[str, str]]:
    """``host:port`` → socket; ``park``; ``app(arg);app2(arg)`` → those apps."""
    spec = spec.strip()
    if spec in ("", "default"):
        return [("socket", f"{default_socket[0]}:{default_socket[1]} async full")]
    if spec == "park":
        return [("answer", ""), ("park", "")]
    if re.fullmatch(r"[\w.\-]+:\d+", spec):
        return [("socket", f"{spec} async full")]
    actions = []
    for part in spec.split(";"):
        part = part.strip()
        m = re.fullmatch(r"([\w-]+)(?:\((.*)\))?", part, re.S)
        if m:
            app, arg = m.group(1), m.group(2) or ""
            if app == "socket" and arg.strip() in ("", "default"):
                arg = DEFAULT_SOCKET
            actions.append((app, arg))
    return actions


#: stands for "the core's socket target, async full" until the rule runs (the target may change)
DEFAULT_SOCKET = "<default>"


class Dialplan:
    """Ordered rules; the first match wins, otherwise the default socket target."""

    def __init__(self, core: SimCore) -> None:
        self.core = core
        self.rules: list[Rule] = []

    def set_target(self, pattern: str, spec: str, *, counter: str | None = None, limit: int = 0,
                   otherwise: str = "") -> Rule:
        rule = Rule(pattern, parse_actions(spec, self.core.socket_target), counter, limit,
                    parse_actions(otherwise, self.core.socket_target) if otherwise else [])
        self.rules = [r for r in self.rules if r.pattern != pattern]
        self.rules.insert(0, rule)
        return rule

    def actions_for(self, number: str) -> list[tuple[str, str]]:
        for rule in self.rules:
            if rule.matches(number):
                return rule.actions
        return parse_actions("default", self.core.socket_target)

    def route(self, channel: Any, number: str) -> None:
        """Queue the number's apps on the channel (CS_ROUTING → CS_EXECUTE already done)."""
        actions = self.actions_for(number)
        rule = next((r for r in self.rules if r.matches(number)), None)
        if rule is not None and rule.counter:
            visits = channel.variables.get(rule.counter, "") + "x"
            channel.variables[rule.counter] = visits
            if len(visits) > rule.limit:
                actions = rule.otherwise
        host, port = self.core.socket_target
        for app, arg in actions:
            if arg == DEFAULT_SOCKET:
                arg = f"{host}:{port} async full"
            channel.execute(app, arg, delay=0)

    def describe(self) -> list[dict[str, Any]]:
        return [{"pattern": r.pattern, "actions": [f"{a}({b})" for a, b in r.actions],
                 **({"counter": r.counter, "limit": r.limit, "otherwise": [f"{a}({b})" for a, b in r.otherwise]}
                    if r.counter else {})} for r in self.rules]
