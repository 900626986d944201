"""What the IVR editor's forms do to a menu draft, as pure functions on ``MenuDefinition``.

No Flask and no database here: each function takes a definition and the
submitted values and returns a new definition (definitions are frozen), or
raises :class:`EditError` with a message for the page. Going through
``yaml_io`` (``node_to_dict`` → change → ``node_from_dict``) means the editor
can only ever produce what a YAML file could hold, with the same type checks.
The tree the page draws is built here too.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import yaml

from ivr.exceptions import MenuFormatError, Problem
from ivr.menu.model import DTMF_KEYS, NODE_TYPES, PURPOSES, WEEKDAYS, MenuDefinition, MenuNode, Node, SurveyNode
from ivr.menu.yaml_io import from_dict, node_from_dict, node_to_dict, to_dict

NODE_ID_RE = re.compile(r"^[A-Za-z][A-Za-z0-9_-]{0,39}$")
#: Fields the node form edits one by one; the rest are edited as YAML ("other fields").
STRUCTURED = ("type", "prompt", "text", "next", "target", "on_failure", "valid_from", "valid_to", "options",
              "question", "valid_digits", "answers")
LINK_FIELDS = ("next", "target", "on_failure")
_WORD_SPLIT = re.compile(r"[,，、;；\n]+")
_NODE_WHERE = re.compile(r"^node '([^']+)'")


class EditError(ValueError):
    """A change the editor refuses; ``str(exc)`` is shown to the user."""


def split_words(raw: str | None) -> tuple[str, ...]:
    """Keywords typed as ``a, b、c`` (ASCII or Chinese commas, semicolons, new lines)."""
    return tuple(w.strip() for w in _WORD_SPLIT.split(raw or "") if w.strip())


def _rebuild(menu: MenuDefinition, node_id: str, data: dict[str, Any]) -> MenuDefinition:
    try:
        node = node_from_dict(node_id, data)
    except MenuFormatError as exc:
        raise EditError(str(exc)) from None
    return dataclasses.replace(menu, nodes={**menu.nodes, node_id: node})


def _node(menu: MenuDefinition, node_id: str) -> Node:
    if node_id not in menu.nodes:
        raise EditError(f"menu {menu.name!r} has no node {node_id!r}")
    return menu.nodes[node_id]


def node_fields(node: Node) -> set[str]:
    return {f.name for f in dataclasses.fields(node)}


def other_fields_yaml(node: Node) -> str:
    """The node's fields the form does not edit one by one, as YAML (empty when none are set)."""
    rest = {k: v for k, v in node_to_dict(node).items() if k not in STRUCTURED}
    return yaml.safe_dump(rest, allow_unicode=True, sort_keys=False).strip() if rest else ""


def update_node(menu: MenuDefinition, node_id: str, form: Mapping[str, str]) -> MenuDefinition:
    """Apply the node form: prompt id, text per language, links, schedule, and the other fields as YAML."""
    node = _node(menu, node_id)
    names = node_fields(node)
    data = node_to_dict(node)
    if "prompt" in names and "prompt" in form:
        data["prompt"] = form["prompt"].strip() or None
    if "text" in names:
        texts = dict(data.get("text") or {})
        for lang in menu.languages:
            key = f"text-{lang}"
            if key in form:
                value = form[key].strip()
                if value:
                    texts[lang] = value
                else:
                    texts.pop(lang, None)
        data["text"] = texts
    for name in (*LINK_FIELDS, "valid_from", "valid_to"):
        if name in names and name in form:
            data[name] = form[name].strip() or None
    for name in ("question", "valid_digits"):
        if name in names and name in form:
            data[name] = form[name].strip()
    if "answers" in names and "answers" in form:
        data["answers"] = parse_answers(form["answers"])
    if "other" in form:
        try:
            other = yaml.safe_load(form["other"]) if form["other"].strip() else {}
        except yaml.YAMLError as exc:
            raise EditError(f"other fields: not valid YAML ({exc})") from None
        if not isinstance(other, Mapping):
            raise EditError("other fields: expected 'field: value' lines")
        clash = sorted(set(map(str, other)) & set(STRUCTURED))
        if clash:
            raise EditError(f"other fields: edit {', '.join(clash)} in its own box")
        data = {k: v for k, v in data.items() if k in STRUCTURED}
        data.update({str(k): v for k, v in other.items()})
    return _rebuild(menu, node_id, data)


def parse_answers(raw: str) -> dict[str, str]:
    """A survey node's answer branches typed as ``2=sorry`` (one per line, or separated by commas)."""
    answers: dict[str, str] = {}
    for item in split_words(raw):
        key, sep, target = item.partition("=")
        key, target = key.strip(), target.strip()
        if not sep or len(key) != 1 or key not in DTMF_KEYS or not target:
            raise EditError(f"answer branch {item!r}: write it as key=node, e.g. 2=sorry")
        if key in answers:
            raise EditError(f"answer key {key!r} is given twice")
        answers[key] = target
    return answers


def answers_text(node: Node) -> str:
    """A survey node's answer branches as the form shows them (``2=sorry`` per line)."""
    return "\n".join(f"{k}={v}" for k, v in getattr(node, "answers", {}).items())


def set_purpose(menu: MenuDefinition, purpose: str) -> MenuDefinition:
    """Make the menu an inbound menu or a campaign script (validation then says what no longer fits)."""
    purpose = (purpose or "").strip()
    if purpose not in PURPOSES:
        raise EditError(f"purpose {purpose!r}: choose {' or '.join(PURPOSES)}")
    return dataclasses.replace(menu, purpose=purpose)


def set_option(menu: MenuDefinition, node_id: str, old_key: str, form: Mapping[str, str]) -> MenuDefinition:
    """Add (``old_key`` empty) or change the option ``old_key`` of a menu node: key, target, label, keywords."""
    node = _node(menu, node_id)
    if not isinstance(node, MenuNode):
        raise EditError(f"node {node_id!r} is a {node.kind} node: only menu nodes have options")
    key = (form.get("key") or "").strip()
    if len(key) != 1 or key not in DTMF_KEYS:
        raise EditError(f"option key {key!r}: use one phone key (0-9, * or #)")
    if key != old_key and key in node.options:
        raise EditError(f"node {node_id!r} already has an option {key!r}")
    target = (form.get("target") or "").strip()
    if not target:
        raise EditError("an option needs a target node")
    option: dict[str, Any] = {"target": target}
    label = (form.get("label") or "").strip()
    if label:
        option["label"] = label
    keywords = {lang: list(split_words(form.get(f"keywords-{lang}"))) for lang in menu.languages}
    keywords = {lang: words for lang, words in keywords.items() if words}
    if keywords:
        option["keywords"] = keywords
    data = node_to_dict(node)
    options: dict[str, Any] = {}
    for existing, body in data.get("options", {}).items():
        options[key if existing == old_key else existing] = option if existing == old_key else body
    if old_key not in data.get("options", {}):
        options[key] = option
    data["options"] = options
    return _rebuild(menu, node_id, data)


def remove_option(menu: MenuDefinition, node_id: str, key: str) -> MenuDefinition:
    """Remove one option (edge) of a menu node."""
    node = _node(menu, node_id)
    if not isinstance(node, MenuNode) or key not in node.options:
        raise EditError(f"node {node_id!r} has no option {key!r}")
    data = node_to_dict(node)
    data["options"] = {k: v for k, v in data["options"].items() if k != key}
    return _rebuild(menu, node_id, data)


def add_node(menu: MenuDefinition, node_id: str, kind: str, parent: str = "", key: str = "") -> MenuDefinition:
    """A new node of ``kind`` (empty text in each language), optionally linked as option ``key`` of ``parent``."""
    node_id = node_id.strip()
    if not NODE_ID_RE.match(node_id):
        raise EditError(f"node id {node_id!r}: start with a letter; letters, digits, _ and - only (max 40)")
    if node_id in menu.nodes:
        raise EditError(f"there is already a node {node_id!r}")
    if kind not in NODE_TYPES:
        raise EditError(f"unknown node type {kind!r}")
    data: dict[str, Any] = {"type": kind}
    if "text" in {f.name for f in dataclasses.fields(NODE_TYPES[kind])}:
        data["text"] = {lang: "" for lang in menu.languages}
    menu = _rebuild(menu, node_id, data)
    if parent:
        menu = set_option(menu, parent, "", {"key": key, "target": node_id})
    return menu


def remove_node(menu: MenuDefinition, node_id: str) -> tuple[MenuDefinition, list[str]]:
    """Remove a node and the options that led to it; other links to it are left for validation to name."""
    _node(menu, node_id)
    if node_id == menu.entry:
        raise EditError(f"node {node_id!r} is the entry of the menu: choose another entry first")
    nodes = {k: v for k, v in menu.nodes.items() if k != node_id}
    removed: list[str] = []
    for other_id, other in list(nodes.items()):
        if isinstance(other, MenuNode) and any(o.target == node_id for o in other.options.values()):
            keys = [k for k, o in other.options.items() if o.target == node_id]
            removed += [f"{other_id}:{k}" for k in keys]
            nodes[other_id] = dataclasses.replace(
                other, options={k: o for k, o in other.options.items() if o.target != node_id})
    return dataclasses.replace(menu, nodes=nodes), removed


def set_hours(menu: MenuDefinition, form: Mapping[str, str]) -> MenuDefinition:
    """Business hours and holidays from the form (``enabled`` unchecked: the line is always open)."""
    data = to_dict(menu)
    if not form.get("enabled"):
        data.pop("business_hours", None)
    else:
        weekly = {day: [s.strip() for s in (form.get(f"hours-{day}") or "").split(",") if s.strip()]
                  for day in WEEKDAYS}
        data["business_hours"] = {
            "timezone": (form.get("timezone") or "Asia/Shanghai").strip(),
            "weekly": {day: spans for day, spans in weekly.items() if spans},
            "holidays": list(split_words((form.get("holidays") or "").replace(" ", ","))),
            "after_hours": (form.get("after_hours") or "").strip(),
        }
        try:
            from zoneinfo import ZoneInfo

            ZoneInfo(data["business_hours"]["timezone"])
        except Exception:
            raise EditError(f"unknown time zone {data['business_hours']['timezone']!r}") from None
    try:
        return from_dict(data)
    except MenuFormatError as exc:
        raise EditError(str(exc)) from None


def new_menu(name: str, languages: tuple[str, ...] = ("zh", "en")) -> MenuDefinition:
    """A one-node menu to start from."""
    if not NODE_ID_RE.match(name):
        raise EditError(f"menu name {name!r}: start with a letter; letters, digits, _ and - only")
    return from_dict({"name": name, "entry": "main", "languages": list(languages),
                      "default_language": languages[0],
                      "nodes": {"main": {"type": "menu", "text": {lang: "" for lang in languages}}}})


# -- the tree the page draws -------------------------------------------------------------------

@dataclass
class TreeItem:
    """One node drawn in the tree, reached through ``via`` (an option key, ``next``...) from its parent."""

    node_id: str
    node: Node | None
    via: str | None = None
    option_key: str | None = None
    children: list["TreeItem"] = field(default_factory=list)
    repeat: bool = False  # drawn elsewhere already: a link, not a second copy

    @property
    def missing(self) -> bool:
        return self.node is None


def _links(node: Node) -> list[tuple[str, str | None, str]]:
    """(via label, option key, target) in the order the page shows them."""
    out: list[tuple[str, str | None, str]] = []
    if isinstance(node, MenuNode):
        for key, opt in node.options.items():
            out.append((key, key, opt.target))
    if isinstance(node, SurveyNode):
        for key, target in node.answers.items():
            out.append((f"answer {key}", key, target))
    for name in LINK_FIELDS:
        value = getattr(node, name, None)
        if value:
            out.append((name, None, value))
    return out


def build_tree(menu: MenuDefinition) -> list[TreeItem]:
    """Roots: the entry, DNIS entry points, after-hours, then any node nothing reaches."""
    seen: set[str] = set()

    def grow(node_id: str, via: str | None, key: str | None) -> TreeItem:
        node = menu.nodes.get(node_id)
        item = TreeItem(node_id, node, via, key)
        if node is None:
            return item
        if node_id in seen:
            item.repeat = True
            return item
        seen.add(node_id)
        item.children = [grow(target, label, k) for label, k, target in _links(node)]
        return item

    roots = [grow(menu.entry, None, None)]
    starts = [(f"DNIS {dnis}", target) for dnis, target in menu.entry_points.items()]
    if menu.business_hours is not None and menu.business_hours.after_hours:
        starts.append(("after hours", menu.business_hours.after_hours))
    for label, target in starts:
        if target not in seen:
            roots.append(grow(target, label, None))
    for node_id in menu.nodes:
        if node_id not in seen:
            roots.append(grow(node_id, "unreachable", None))
    return roots


def problems_by_node(problems: list[Problem]) -> tuple[dict[str, list[Problem]], list[Problem]]:
    """Problems keyed by the node they name, and the menu-wide rest."""
    by_node: dict[str, list[Problem]] = {}
    general: list[Problem] = []
    for problem in problems:
        match = _NODE_WHERE.match(problem.where)
        if match:
            by_node.setdefault(match.group(1), []).append(problem)
        else:
            general.append(problem)
    return by_node, general
