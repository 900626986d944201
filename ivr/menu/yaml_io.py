"""Menu definitions to and from plain data (the JSON stored in the database) and YAML files.

``from_dict(to_dict(menu)) == menu`` for every menu, and YAML written by
``dump_yaml`` loads back equal. Fields left at their default are omitted on
export so files stay short. Reading refuses unknown fields and wrong types
with the node named, so a typo in a hand-edited file never becomes a silent
default.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from pathlib import Path
from typing import Any, Mapping

import yaml

from ivr.exceptions import MenuFormatError
from ivr.menu.model import (
    NODE_TYPES,
    BlacklistPolicy,
    BusinessHours,
    MenuDefinition,
    MenuNode,
    MenuSettings,
    Node,
    Option,
)

_TUPLE_FIELDS = {"skills", "agent_skills", "languages"}


# -- export -------------------------------------------------------------------------

def _plain(value: Any) -> Any:
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    return value


def _fields(obj: Any, skip: tuple[str, ...] = ()) -> dict[str, Any]:
    """Non-default fields of a dataclass as plain data."""
    out: dict[str, Any] = {}
    for f in dataclasses.fields(obj):
        if f.name in skip:
            continue
        value = getattr(obj, f.name)
        default = f.default if f.default is not dataclasses.MISSING else (
            f.default_factory() if f.default_factory is not dataclasses.MISSING else dataclasses.MISSING)
        if value == default:
            continue
        out[f.name] = _plain(value)
    return out


def node_to_dict(node: Node) -> dict[str, Any]:
    """One node as plain data (``type`` first, no ``id``: the id is the key)."""
    data: dict[str, Any] = {"type": node.kind}
    body = _fields(node, skip=("id", "options"))
    if isinstance(node, MenuNode):
        body["options"] = {key: _fields(opt) for key, opt in node.options.items()}
    data.update(body)
    return data


def to_dict(menu: MenuDefinition) -> dict[str, Any]:
    """The whole menu as JSON-compatible data (dates and times as ISO strings)."""
    data: dict[str, Any] = {"name": menu.name, "entry": menu.entry}
    data.update(_fields(menu, skip=("name", "entry", "nodes", "business_hours", "settings")))
    if menu.business_hours is not None:
        hours = menu.business_hours
        data["business_hours"] = {
            "timezone": hours.timezone,
            "weekly": {day: [f"{_hhmm(a)}-{_hhmm(b)}" for a, b in spans] for day, spans in hours.weekly.items()},
            "holidays": [d.isoformat() for d in hours.holidays],
            "after_hours": hours.after_hours,
        }
    settings = _fields(menu.settings, skip=("blacklist",))
    blacklist = _fields(menu.settings.blacklist)
    if blacklist:
        settings["blacklist"] = blacklist
    if settings:
        data["settings"] = settings
    data["nodes"] = {node_id: node_to_dict(node) for node_id, node in menu.nodes.items()}
    return data


def dump_yaml(menu: MenuDefinition) -> str:
    """The menu as a YAML document (UTF-8 text kept readable, key order kept)."""
    return yaml.safe_dump(to_dict(menu), allow_unicode=True, sort_keys=False, width=100)


# -- import -------------------------------------------------------------------------

def _build(cls: type, data: Any, where: str, convert: Mapping[str, Any] | None = None) -> Any:
    if not isinstance(data, Mapping):
        raise MenuFormatError(f"{where}: expected a mapping, got {type(data).__name__}")
    known = {f.name: f for f in dataclasses.fields(cls)}
    unknown = set(data) - set(known)
    if unknown:
        raise MenuFormatError(f"{where}: unknown field(s) {', '.join(sorted(map(str, unknown)))}")
    kwargs: dict[str, Any] = {}
    for name, value in data.items():
        if convert and name in convert:
            value = convert[name](value, f"{where}.{name}")
        elif name in _TUPLE_FIELDS:
            if not isinstance(value, (list, tuple)):
                raise MenuFormatError(f"{where}: {name} must be a list")
            value = tuple(str(v) for v in value)
        elif name == "text":
            value = _texts(value, f"{where}.text")
        else:
            value = _scalar(known[name], value, f"{where}.{name}")
        kwargs[name] = value
    return cls(**kwargs)


def _scalar(f: dataclasses.Field, value: Any, where: str) -> Any:
    default = f.default
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise MenuFormatError(f"{where}: expected true or false")
    elif isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise MenuFormatError(f"{where}: expected a whole number")
    elif isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise MenuFormatError(f"{where}: expected a number")
        value = float(value)
    elif f.name == "params":
        if not isinstance(value, Mapping):
            raise MenuFormatError(f"{where}: expected a mapping")
        value = dict(value)
    elif value is not None and not isinstance(value, str):
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            value = str(value)  # an unquoted number where a node id or key was meant
        else:
            raise MenuFormatError(f"{where}: expected text")
    return value


def _texts(value: Any, where: str) -> dict[str, str]:
    if not isinstance(value, Mapping) or not all(isinstance(v, str) for v in value.values()):
        raise MenuFormatError(f"{where}: expected language -> text")
    return {str(k): v for k, v in value.items()}


def _keywords(value: Any, where: str) -> dict[str, tuple[str, ...]]:
    if not isinstance(value, Mapping):
        raise MenuFormatError(f"{where}: expected language -> list of words")
    out = {}
    for lang, words in value.items():
        if isinstance(words, str):
            words = [words]
        if not isinstance(words, list):
            raise MenuFormatError(f"{where}.{lang}: expected a list of words")
        out[str(lang)] = tuple(str(w) for w in words)
    return out


def _options(value: Any, where: str) -> dict[str, Option]:
    if not isinstance(value, Mapping):
        raise MenuFormatError(f"{where}: expected key -> option")
    options = {}
    for key, body in value.items():
        if isinstance(body, str):
            body = {"target": body}  # short form: "1": orders
        options[str(key)] = _build(Option, body, f"{where}.{key}", {"keywords": _keywords})
    return options


def _answers(value: Any, where: str) -> dict[str, str]:
    """A survey node's ``answers``: key pressed -> node id (unquoted YAML keys and ids are read as text)."""
    if not isinstance(value, Mapping):
        raise MenuFormatError(f"{where}: expected key -> node id")
    out = {}
    for key, target in value.items():
        if not isinstance(target, (str, int)) or isinstance(target, bool):
            raise MenuFormatError(f"{where}.{key}: expected a node id")
        out[str(key)] = str(target)
    return out


def node_from_dict(node_id: str, data: Any) -> Node:
    """One node from plain data; ``type`` picks the node class."""
    where = f"node {node_id!r}"
    if not isinstance(data, Mapping):
        raise MenuFormatError(f"{where}: expected a mapping")
    body = dict(data)
    kind = body.pop("type", None)
    cls = NODE_TYPES.get(kind)  # type: ignore[arg-type]
    if cls is None:
        raise MenuFormatError(f"{where}: unknown type {kind!r}; use one of {', '.join(NODE_TYPES)}")
    if "id" in body and str(body["id"]) != node_id:
        raise MenuFormatError(f"{where}: id {body['id']!r} differs from its key")
    body["id"] = node_id
    return _build(cls, body, where, {"options": _options, "answers": _answers})


def _hhmm(value: dt.time) -> str:
    """``HH:MM``; the end of the day (``time.max``, read from "24:00") is written back as "24:00"."""
    return "24:00" if value == dt.time.max else f"{value:%H:%M}"


def _time(text: str, where: str) -> dt.time:
    try:
        return dt.time.fromisoformat(text)
    except ValueError:
        if text == "24:00":
            return dt.time.max
        raise MenuFormatError(f"{where}: {text!r} is not a time like 09:00") from None


def _hours(value: Any, where: str) -> BusinessHours:
    if not isinstance(value, Mapping):
        raise MenuFormatError(f"{where}: expected a mapping")
    unknown = set(value) - {"timezone", "weekly", "holidays", "after_hours"}
    if unknown:
        raise MenuFormatError(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    weekly: dict[str, tuple[tuple[dt.time, dt.time], ...]] = {}
    for day, spans in (value.get("weekly") or {}).items():
        day = str(day).lower()[:3]
        if isinstance(spans, str):
            spans = [spans]
        parsed = []
        for span in spans or []:
            start, sep, end = str(span).partition("-")
            if not sep:
                raise MenuFormatError(f"{where}.weekly.{day}: {span!r} is not a span like 09:00-21:00")
            parsed.append((_time(start.strip(), f"{where}.weekly.{day}"), _time(end.strip(), f"{where}.weekly.{day}")))
        weekly[day] = tuple(parsed)
    holidays = []
    for item in value.get("holidays") or []:
        try:
            holidays.append(item if isinstance(item, dt.date) else dt.date.fromisoformat(str(item)))
        except ValueError:
            raise MenuFormatError(f"{where}.holidays: {item!r} is not a date like 2026-10-01") from None
    return BusinessHours(timezone=str(value.get("timezone", "Asia/Shanghai")), weekly=weekly,
                         holidays=tuple(holidays), after_hours=str(value.get("after_hours", "")))


#: Fields older menus carry that no longer mean anything; they are read and dropped (not refused).
#: ``blacklist.threshold``: the number of marks that blacklists a caller is one setting, crm.blacklist_threshold.
_RETIRED_BLACKLIST_FIELDS = frozenset({"threshold"})


def _blacklist(value: Any, where: str) -> BlacklistPolicy:
    if isinstance(value, Mapping):
        value = {k: v for k, v in value.items() if k not in _RETIRED_BLACKLIST_FIELDS}
    return _build(BlacklistPolicy, value, where)


def _settings(value: Any, where: str) -> MenuSettings:
    return _build(MenuSettings, value, where, {"blacklist": _blacklist})


def from_dict(data: Any) -> MenuDefinition:
    """A menu from plain data (parsed YAML or the stored JSON); MenuFormatError names what is wrong."""
    if not isinstance(data, Mapping):
        raise MenuFormatError("menu: expected a mapping")
    for required in ("name", "entry", "nodes"):
        if required not in data:
            raise MenuFormatError(f"menu: missing {required!r}")
    nodes_data = data["nodes"]
    if not isinstance(nodes_data, Mapping):
        raise MenuFormatError("menu.nodes: expected node id -> node")
    nodes = {str(nid): node_from_dict(str(nid), body) for nid, body in nodes_data.items()}
    body = dict(data)
    entry_points = body.get("entry_points")
    if entry_points is not None:
        if not isinstance(entry_points, Mapping):
            raise MenuFormatError("menu.entry_points: expected DNIS -> node id")
        body["entry_points"] = {str(k): str(v) for k, v in entry_points.items()}
    menu = _build(MenuDefinition, body, "menu", {
        "business_hours": _hours, "settings": _settings,
        "entry_points": lambda v, w: v, "nodes": lambda v, w: nodes,
    })
    return menu


def load_yaml(source: str | Path) -> MenuDefinition:
    """A menu from YAML text or a ``.yaml`` file path."""
    if isinstance(source, Path) or (isinstance(source, str) and "\n" not in source and source.endswith((".yaml", ".yml"))):
        source = Path(source).read_text(encoding="utf-8")
    try:
        data = yaml.safe_load(source)
    except yaml.YAMLError as exc:
        raise MenuFormatError(f"not valid YAML: {exc}") from None
    return from_dict(data)
