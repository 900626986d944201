"""Validation of a menu definition: refuse what would strand or confuse a caller, naming the node.

Checked: the entry, DNIS entry points and after-hours node exist; every
target exists (no dangling edges); every node is reachable; no cycle is made
only of nodes that take no input (announcement/goto/language would spin
forever); option keys are single DTMF keys that do not clash with the repeat
and back keys; actions are known; numbers are sane; and every node that speaks
has words in every language of the menu (inline text, or a catalogue prompt
with that language when a catalogue is given).

A menu's ``purpose`` decides what it may hold: survey nodes, the
``do_not_call`` action and merge fields (``{name}``) belong to campaign
menus, DNIS entry points and business hours to inbound ones (a campaign's
calls start at the entry, in the campaign's calling hours). When the
campaign's questions are given (``questions``: key -> valid keys), every
survey node must ask one of them, with keys the question accepts.
"""

from __future__ import annotations

import re
import string
from collections import deque
from typing import Any, Iterable, Mapping, Protocol

from ivr.exceptions import MenuInvalid, Problem
from ivr.menu.model import (
    ACTIONS,
    CAMPAIGN_ACTIONS,
    CAMPAIGN_KINDS,
    DTMF_KEYS,
    NO_INPUT_KINDS,
    ActionNode,
    BlacklistPolicy,
    DigitInputNode,
    GotoNode,
    MenuDefinition,
    MenuNode,
    Node,
    PURPOSES,
    SurveyNode,
    targets,
)


class PromptLookup(Protocol):
    """What validation needs from the prompt catalogue (``ivr.prompts.catalogue.Catalogue`` fits)."""

    def __contains__(self, prompt_id: object) -> bool: ...

    def get(self, prompt_id: str) -> Any: ...


def validate(menu: MenuDefinition, catalogue: PromptLookup | None = None,
             runtime_prompts: Iterable[str] | None = None, *,
             questions: Mapping[str, str] | None = None) -> list[Problem]:
    """Every problem of ``menu`` (empty when it may be published).

    With a catalogue, the prompts the runtime says by id (``runtime_prompts``,
    default ``ivr.runtime.prompts.RUNTIME_PROMPTS``) must be there too, in every
    language of the menu: a call on this menu may need any of them. With
    ``questions`` (a campaign's question keys -> valid keys), survey nodes are
    checked against them.
    """
    problems: list[Problem] = []
    add = lambda where, message, code="invalid": problems.append(Problem(where, message, code))  # noqa: E731
    nodes = menu.nodes
    _check_purpose(menu, add)

    if not menu.languages:
        add("menu", "needs at least one language")
    if menu.default_language not in menu.languages:
        add("menu", f"default language {menu.default_language!r} is not one of {list(menu.languages)}")
    for node_id, node in nodes.items():
        if node.id != node_id:
            add(f"node {node_id!r}", f"is stored under {node_id!r} but its id is {node.id!r}")
    if menu.entry not in nodes:
        add("menu", f"entry node {menu.entry!r} does not exist", "dangling")
    for dnis, target in menu.entry_points.items():
        if not str(dnis).isdigit():
            add(f"entry point {dnis!r}", "DNIS must be digits")
        if target not in nodes:
            add(f"entry point {dnis!r}", f"goes to missing node {target!r}", "dangling")
    hours = menu.business_hours
    if hours is not None:
        if hours.after_hours not in nodes:
            add("business_hours", f"after-hours node {hours.after_hours!r} does not exist", "dangling")
        for day, spans in hours.weekly.items():
            for start, end in spans:
                if end <= start:
                    add("business_hours", f"{day}: {start:%H:%M}-{end:%H:%M} ends before it starts")
    _check_settings(menu, add)

    for node_id, node in nodes.items():
        where = f"node {node_id!r} ({node.kind})"
        for field_name, target in targets(node):
            if target not in nodes:
                add(where, f"{field_name} goes to missing node {target!r}", "dangling")
        _check_node(menu, node, where, add)
        if isinstance(node, SurveyNode):
            _check_survey(menu, node, where, add, questions)
        _check_merge_fields(menu, node, where, add)
        if node.kind == "announcement":
            _check_schedule(node, where, add)
        _check_words(menu, node, where, add, catalogue)

    for node_id in _unreachable(menu):
        add(f"node {node_id!r} ({nodes[node_id].kind})", "is unreachable from the entry, entry points or after-hours",
            "unreachable")
    for cycle in _silent_cycles(menu):
        add(f"node {cycle[0]!r}", "loops without waiting for input: " + " -> ".join(cycle + [cycle[0]]), "loop")
    if catalogue is not None:
        _check_runtime_prompts(menu, catalogue, runtime_prompts, add)
    return problems


def _check_runtime_prompts(menu: MenuDefinition, catalogue: PromptLookup, runtime_prompts: Iterable[str] | None,
                           add: Any) -> None:
    if runtime_prompts is None:
        from ivr.runtime.prompts import RUNTIME_PROMPTS as runtime_prompts
    blacklist_prompt = menu.settings.blacklist.prompt
    wanted = sorted(set(runtime_prompts) | ({blacklist_prompt} if blacklist_prompt else set()))
    for prompt_id in wanted:
        if prompt_id not in catalogue:
            add("runtime", f"prompt {prompt_id!r} (said by the IVR itself) is not in the prompt catalogue",
                "missing-prompt")
            continue
        texts = getattr(catalogue.get(prompt_id), "texts", {})
        for lang in menu.languages:
            if lang not in texts:
                add("runtime", f"prompt {prompt_id!r} (said by the IVR itself) has no {lang!r} text",
                    "missing-prompt")


def check(menu: MenuDefinition, catalogue: PromptLookup | None = None, *,
          questions: Mapping[str, str] | None = None) -> MenuDefinition:
    """Return ``menu`` unchanged, or raise :class:`MenuInvalid` listing every problem."""
    problems = validate(menu, catalogue, questions=questions)
    if problems:
        raise MenuInvalid(problems)
    return menu


def _check_schedule(node: Any, where: str, add: Any) -> None:
    """An announcement's valid-from / valid-to must be ISO dates or date-times, in order."""
    from ivr.menu.model import schedule_bound

    bounds = []
    for name, end in (("valid_from", False), ("valid_to", True)):
        try:
            bounds.append(schedule_bound(getattr(node, name, None), end=end))
        except ValueError:
            add(where, f"{name} {getattr(node, name)!r} is not a date like 2026-10-01 or 2026-10-01T08:00")
            return
    if bounds[0] is not None and bounds[1] is not None and bounds[1] <= bounds[0]:
        add(where, "valid_to is not after valid_from")


def _check_settings(menu: MenuDefinition, add: Any) -> None:
    s = menu.settings
    for name in ("repeat_key", "back_key"):
        key = getattr(s, name)
        if key and key not in DTMF_KEYS:
            add("settings", f"{name} {key!r} is not a phone key")
    if s.repeat_key and s.repeat_key == s.back_key:
        add("settings", "repeat and back keys must differ")
    if s.max_errors < 1:
        add("settings", "max_errors must be at least 1")
    if s.blacklist.action not in BlacklistPolicy.ACTIONS:
        add("settings", f"blacklist action {s.blacklist.action!r} is not one of {sorted(BlacklistPolicy.ACTIONS)}")


def _check_node(menu: MenuDefinition, node: Node, where: str, add: Any) -> None:
    s = menu.settings
    if isinstance(node, MenuNode):
        if not node.options:
            add(where, "has no options")
        for key in node.options:
            if len(key) != 1 or key not in DTMF_KEYS:
                add(where, f"option key {key!r} is not a single phone key (0-9, * or #)", "bad-key")
            elif key in (s.repeat_key, s.back_key):
                add(where, f"option key {key!r} clashes with the {'repeat' if key == s.repeat_key else 'back'} key",
                    "bad-key")
        for key, option in node.options.items():
            for lang in option.keywords:
                if lang not in menu.languages:
                    add(where, f"option {key} has keywords for {lang!r}, not a language of this menu")
        if node.timeout <= 0:
            add(where, "timeout must be positive")
        if node.retries < 0:
            add(where, "retries cannot be negative")
        if not node.speaks:
            add(where, "has nothing to say (prompt or text)", "missing-prompt")
    elif isinstance(node, DigitInputNode):
        if not 1 <= node.min_length <= node.max_length:
            add(where, f"lengths must satisfy 1 <= min ({node.min_length}) <= max ({node.max_length})")
        if node.terminator and any(t not in DTMF_KEYS for t in node.terminator):
            add(where, f"terminator {node.terminator!r} is not a phone key", "bad-key")
        if not node.variable.isidentifier():
            add(where, f"variable {node.variable!r} is not a plain name")
        if node.timeout <= 0:
            add(where, "timeout must be positive")
        if not node.next:
            add(where, "needs a next node")
        if not node.speaks:
            add(where, "has nothing to say (prompt or text)", "missing-prompt")
    elif isinstance(node, ActionNode):
        allowed = ACTIONS | CAMPAIGN_ACTIONS if menu.purpose == "campaign" else ACTIONS
        if node.action in CAMPAIGN_ACTIONS and menu.purpose != "campaign":
            add(where, f"action {node.action!r} is for campaign menus only (set the menu's purpose to campaign)",
                "purpose")
        elif node.action not in allowed:
            add(where, f"unknown action {node.action!r}; use one of {', '.join(sorted(allowed))}")
    elif isinstance(node, GotoNode):
        if not node.target:
            add(where, "needs a target")
    elif node.kind == "language":
        if node.language not in menu.languages:  # type: ignore[union-attr]
            add(where, f"switches to {node.language!r}, not a language of this menu")  # type: ignore[union-attr]
    elif node.kind == "announcement":
        if not node.speaks:  # type: ignore[union-attr]
            add(where, "has nothing to say (prompt or text)", "missing-prompt")


def _check_purpose(menu: MenuDefinition, add: Any) -> None:
    if menu.purpose not in PURPOSES:
        add("menu", f"purpose {menu.purpose!r} is not one of {', '.join(PURPOSES)}")
        return
    if menu.purpose == "campaign":
        if menu.entry_points:
            add("menu", "a campaign menu has no DNIS entry points: campaign calls start at the entry node", "purpose")
        if menu.business_hours is not None:
            add("business_hours", "a campaign menu has no business hours: the campaign's calling hours apply",
                "purpose")
        return
    for node_id, node in menu.nodes.items():
        if node.kind in CAMPAIGN_KINDS:
            add(f"node {node_id!r} ({node.kind})",
                f"{node.kind} nodes are for campaign menus only (set the menu's purpose to campaign)", "purpose")


def _check_survey(menu: MenuDefinition, node: SurveyNode, where: str, add: Any,
                  questions: Mapping[str, str] | None) -> None:
    if not node.question or len(node.question) > 40:
        add(where, "needs a question key (the campaign question it answers, at most 40 characters)")
    bad = [d for d in node.valid_digits if d not in DTMF_KEYS]
    if bad or len(set(node.valid_digits)) != len(node.valid_digits):
        add(where, f"valid keys {node.valid_digits!r} must be distinct phone keys (0-9, * or #)", "bad-key")
    if node.timeout <= 0:
        add(where, "timeout must be positive")
    if node.retries < 0:
        add(where, "retries cannot be negative")
    if not node.next:
        add(where, "needs a next node (where the call goes after the answer, or with none)")
    digits = node.valid_digits
    if questions is not None and node.question:
        if node.question not in questions:
            known = ", ".join(sorted(questions)) or "none"
            add(where, f"asks question {node.question!r}, which the campaign does not have (its questions: {known})",
                "unknown-question")
        else:
            accepted = questions[node.question]
            extra = sorted(set(node.valid_digits) - set(accepted))
            if extra:
                add(where, f"accepts {''.join(extra)}, which question {node.question!r} does not (keys {accepted})",
                    "bad-key")
            digits = digits or accepted
    for key in node.answers:
        if len(key) != 1 or key not in DTMF_KEYS:
            add(where, f"answer key {key!r} is not a single phone key", "bad-key")
        elif digits and key not in digits:
            add(where, f"answer key {key!r} is not one of the valid keys {digits}", "bad-key")


_FORMATTER = string.Formatter()


def merge_fields(text: str) -> list[str]:
    """The merge fields of ``text`` (``{name}``, ``{order}``); ValueError for braces that are not one."""
    fields = []
    for _literal, name, spec, conversion in _FORMATTER.parse(text):
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise ValueError(f"{{{name}{'!' + conversion if conversion else ''}{':' + spec if spec else ''}}} "
                             "is not a merge field like {name}")
        fields.append(name)
    return fields


_LOOKS_MERGED = re.compile(r"\{([A-Za-z_]\w*)\}")


def _check_merge_fields(menu: MenuDefinition, node: Node, where: str, add: Any) -> None:
    """Campaign menus: their text is filled in (braces must be merge fields). Inbound menus: said as written,
    so text that looks like a merge field would be read out as such."""
    for lang, words in (getattr(node, "text", None) or {}).items():
        if menu.purpose != "campaign":
            fields = _LOOKS_MERGED.findall(str(words))
            if fields:
                add(where, f"text ({lang}) has merge fields ({', '.join(fields)}): only campaign menus fill them in",
                    "merge-field")
            continue
        try:
            merge_fields(str(words))
        except ValueError as exc:
            add(where, f"text ({lang}): {exc} (write a literal brace as {{{{ or }}}})", "merge-field")


def _check_words(menu: MenuDefinition, node: Node, where: str, add: Any, catalogue: PromptLookup | None) -> None:
    text = getattr(node, "text", None) or {}
    for lang in text:
        if lang not in menu.languages:
            add(where, f"has text in {lang!r}, not a language of this menu")
    prompt_ids = [getattr(node, "prompt", None)]
    if isinstance(node, (MenuNode, SurveyNode)):
        prompt_ids += [node.invalid_prompt, node.timeout_prompt]
    main_prompt = prompt_ids[0]
    for lang in menu.languages:
        if text and not str(text.get(lang, "")).strip() and not main_prompt:
            add(where, f"missing text in {lang!r}", "missing-prompt")
    if catalogue is None:
        return
    for prompt_id in filter(None, prompt_ids):
        if prompt_id not in catalogue:
            add(where, f"prompt {prompt_id!r} is not in the prompt catalogue", "missing-prompt")
            continue
        texts = getattr(catalogue.get(prompt_id), "texts", {})
        for lang in menu.languages:
            if lang not in texts and not (prompt_id == main_prompt and text.get(lang)):
                add(where, f"prompt {prompt_id!r} has no {lang!r} text", "missing-prompt")


def _unreachable(menu: MenuDefinition) -> list[str]:
    starts = [menu.entry, *menu.entry_points.values()]
    if menu.business_hours is not None:
        starts.append(menu.business_hours.after_hours)
    seen: set[str] = set()
    queue = deque(s for s in starts if s in menu.nodes)
    while queue:
        node_id = queue.popleft()
        if node_id in seen:
            continue
        seen.add(node_id)
        queue.extend(t for _, t in targets(menu.nodes[node_id]) if t in menu.nodes and t not in seen)
    return [node_id for node_id in menu.nodes if node_id not in seen]


def _silent_cycles(menu: MenuDefinition) -> list[list[str]]:
    """Cycles whose every node takes no input (found by DFS over the no-input subgraph)."""
    silent = {nid for nid, n in menu.nodes.items() if n.kind in NO_INPUT_KINDS}
    edges = {nid: [t for _, t in targets(menu.nodes[nid]) if t in silent] for nid in silent}
    cycles: list[list[str]] = []
    state: dict[str, int] = {}  # 1 = on the stack, 2 = done

    def visit(nid: str, path: list[str]) -> None:
        state[nid] = 1
        path.append(nid)
        for nxt in edges[nid]:
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):])
            elif nxt not in state:
                visit(nxt, path)
        path.pop()
        state[nid] = 2

    for nid in sorted(silent):
        if nid not in state:
            visit(nid, [])
    return cycles
