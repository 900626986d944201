"""Small HTML helpers for list and detail columns (always escaping what the data holds)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from markupsafe import Markup, escape


def fmt_money(_view: Any, _ctx: Any, model: Any, name: str) -> str:
    """Money with two decimals and a currency sign."""
    value = getattr(model, name)
    return "" if value is None else f"¥{value:,.2f}"


def fmt_datetime(_view: Any, _ctx: Any, model: Any, name: str) -> str:
    """A UTC timestamp to the minute."""
    value = getattr(model, name)
    return "" if value is None else value.strftime("%Y-%m-%d %H:%M")


def fmt_relation(attr: str) -> Callable[..., str]:
    """Show one attribute of a related row (``customer.name``), '' when there is none."""

    def formatter(_view: Any, _ctx: Any, model: Any, name: str) -> str:
        related = getattr(model, name)
        return "" if related is None else str(getattr(related, attr))

    return formatter


def table(headers: Iterable[str], rows: Iterable[Iterable[Any]], empty: str = "—") -> Markup:
    """A small bootstrap table for detail pages."""
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{escape('' if c is None else c)}</td>" for c in row) + "</tr>"
                   for row in rows)
    if not body:
        return Markup(f"<span class='text-muted'>{escape(empty)}</span>")
    return Markup(f"<table class='table table-sm table-striped mb-0'><thead><tr>{head}</tr></thead>"
                  f"<tbody>{body}</tbody></table>")


def badge(text: str, kind: str = "secondary", css: str = "") -> Markup:
    """A bootstrap badge."""
    return Markup(f"<span class='badge badge-{escape(kind)} {escape(css)}'>{escape(text)}</span>")
