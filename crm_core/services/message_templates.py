"""Message templates: ``{field}`` placeholders, checked when a template is saved and again when a message is queued.

The syntax is Python's format fields reduced to plain names (``{order_no}``;
``{{`` and ``}}`` are literal braces); attribute access, indexing, conversions
and format specs are refused, so a template cannot reach into the objects it
is given. A built-in template may use only the fields its callers supply
(``message_defaults.BUILTIN_TEMPLATES``); an admin's own template declares
its fields. Saving a template that uses anything else is refused, naming the
field and what is available. HTML bodies get their merge values escaped.
"""

from __future__ import annotations

import html
import re
import string
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.enums import NotifyChannel
from crm_core.exceptions import InvalidTemplate, MissingMergeField, UnknownTemplate
from crm_core.models import MessageTemplate
from crm_core.services.message_defaults import BUILTIN_TEMPLATES

_NAME = re.compile(r"^[a-z_][a-z0-9_]{0,39}$")
_FORMATTER = string.Formatter()
FALLBACK_LANGUAGES = ("zh", "en")


@dataclass(frozen=True)
class Rendered:
    """A message as the recipient gets it."""

    subject: str | None
    body: str
    body_html: str | None


def placeholders(text: str | None, where: str = "template") -> list[str]:
    """The merge fields ``text`` uses, in order; InvalidTemplate for anything but plain ``{name}``."""
    if not text:
        return []
    names: list[str] = []
    try:
        parsed = list(_FORMATTER.parse(text))
    except ValueError as exc:
        raise InvalidTemplate(f"{where}: {exc} (write {{{{ and }}}} for literal braces)", where=where) from None
    for _literal, field, spec, conversion in parsed:
        if field is None:
            continue
        if not _NAME.match(field) or spec or conversion:
            shown = "{" + field + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            raise InvalidTemplate(f"{where}: {shown} is not a merge field; use plain names like {{order_no}}",
                                  where=where, field=field)
        names.append(field)
    return names


def render_text(text: str | None, data: Mapping[str, Any], *, escape: bool = False) -> str | None:
    """``text`` with its fields filled from ``data``; MissingMergeField names the first one missing."""
    if text is None:
        return None
    out: list[str] = []
    for literal, field, _spec, _conversion in _FORMATTER.parse(text):
        out.append(literal)
        if field is None:
            continue
        if field not in data or data[field] is None:
            raise MissingMergeField(f"merge field {field!r} is missing", field=field,
                                    supplied=sorted(data))
        value = str(data[field])
        out.append(html.escape(value) if escape else value)
    return "".join(out)


def paragraphs_html(text: str) -> str:
    """Plain text as HTML paragraphs (the default HTML part of an e-mail)."""
    blocks = [b for b in re.split(r"\n\s*\n", text) if b.strip()]
    return "".join("<p>" + html.escape(b).replace("\n", "<br>") + "</p>" for b in blocks)


def declared_fields(template: MessageTemplate) -> frozenset[str]:
    """The merge fields a template may use: the built-in list for its name, else what it declares."""
    builtin = BUILTIN_TEMPLATES.get(template.name)
    if builtin is not None:
        return builtin.fields
    return frozenset(f.strip() for f in (template.fields or "").replace(",", " ").split() if f.strip())


def check_template(template: MessageTemplate) -> None:
    """Refuse a template that cannot be rendered or uses a field its callers never supply."""
    if not _NAME.match(template.name or ""):
        raise InvalidTemplate(f"template name {template.name!r}: lower-case letters, digits and _ only",
                              where="name")
    try:
        NotifyChannel(template.channel)
    except ValueError:
        raise InvalidTemplate(f"unknown channel {template.channel!r}", where="channel") from None
    if not (template.body or "").strip():
        raise InvalidTemplate("the template has no text", where="body")
    if template.channel == NotifyChannel.EMAIL and not (template.subject or "").strip():
        raise InvalidTemplate("an e-mail template needs a subject", where="subject")
    builtin = BUILTIN_TEMPLATES.get(template.name)
    if builtin is not None and template.channel not in builtin.channels:
        raise InvalidTemplate(f"{template.name} is sent on {', '.join(builtin.channels)} only", where="channel")
    allowed = declared_fields(template)
    for where, text in (("subject", template.subject), ("body", template.body), ("body_html", template.body_html)):
        for field in placeholders(text, where):
            if field not in allowed:
                available = ", ".join(sorted(allowed)) or "none"
                raise InvalidTemplate(f"{where}: unknown merge field {{{field}}}; available: {available}",
                                      where=where, field=field, available=sorted(allowed))


def render(template: MessageTemplate, data: Mapping[str, Any]) -> Rendered:
    """The template filled with ``data`` (HTML part escaped, or made from the text for e-mail)."""
    body = render_text(template.body, data)
    assert body is not None
    body_html = render_text(template.body_html, data, escape=True)
    if body_html is None and template.channel == NotifyChannel.EMAIL:
        body_html = paragraphs_html(body)
    return Rendered(render_text(template.subject, data), body, body_html)


def find_template(session: Session, name: str, channel: str, language: str) -> MessageTemplate:
    """The active template ``name`` on ``channel`` in ``language``, else in zh, then en; UnknownTemplate."""
    rows = session.scalars(select(MessageTemplate).where(
        MessageTemplate.name == name, MessageTemplate.channel == str(channel),
        MessageTemplate.active.is_(True))).all()
    by_language = {row.language: row for row in rows}
    for wanted in (language, *FALLBACK_LANGUAGES):
        if wanted in by_language:
            return by_language[wanted]
    if rows:
        return rows[0]
    builtin = BUILTIN_TEMPLATES.get(name)
    if builtin is not None and str(channel) in builtin.channels and not _any_row(session, name, str(channel)):
        # a built-in template nobody has added (or deactivated) yet: its default text, added on first use
        ensure_default_templates(session, only=name)
        return find_template(session, name, channel, language)
    raise UnknownTemplate(f"no active template {name!r} for {channel}", name=name, channel=str(channel))


def _any_row(session: Session, name: str, channel: str) -> bool:
    return session.scalars(select(MessageTemplate.id).where(MessageTemplate.name == name,
                                                            MessageTemplate.channel == channel)).first() is not None


def save_template(session: Session, *, name: str, channel: str, language: str, body: str,
                  subject: str | None = None, body_html: str | None = None, fields: str | None = None,
                  description: str | None = None, active: bool = True, by: str | None = None) -> MessageTemplate:
    """Create or update a template after checking it (InvalidTemplate names the problem)."""
    row = session.scalars(select(MessageTemplate).where(
        MessageTemplate.name == name, MessageTemplate.channel == str(channel),
        MessageTemplate.language == language)).first()
    if row is None:
        row = MessageTemplate(name=name, channel=str(channel), language=language)
        session.add(row)
    row.subject, row.body, row.body_html = subject or None, body, body_html or None
    row.fields, row.description, row.active, row.updated_by = fields or None, description, active, by
    check_template(row)
    session.flush()
    return row


def sample_data(template: MessageTemplate) -> dict[str, str]:
    """Example merge data for a preview: every allowed field filled with a recognisable value."""
    examples = {"customer_name": "李雷", "order_no": "2026112400", "total": "199.00", "items": "刀具套装 x1",
                "courier": "顺丰速运", "waybill": "SF1234567890", "status": "shipped", "date": "2026-12-01",
                "products": "1234 刀具套装 199.00\n5678 不粘锅 299.00", "code": "1234", "name": "刀具套装",
                "price": "199.00", "description": "德国钢，六件套。", "address": "上海市南京路1号"}
    return {field: examples.get(field, f"<{field}>") for field in sorted(declared_fields(template))}


def ensure_default_templates(session: Session, languages: Iterable[str] = ("zh", "en"),
                             only: str | None = None) -> int:
    """Add the built-in templates that are missing (never touching existing ones); how many were added."""
    existing = {(r.name, r.channel, r.language) for r in session.scalars(select(MessageTemplate))}
    added = 0
    for builtin in BUILTIN_TEMPLATES.values():
        if only is not None and builtin.name != only:
            continue
        for channel in builtin.channels:
            for language in languages:
                if (builtin.name, channel, language) in existing or language not in builtin.texts:
                    continue
                subject, text = builtin.texts[language]
                session.add(MessageTemplate(name=builtin.name, channel=channel, language=language,
                                            subject=subject if channel in ("email", "fax") else None, body=text,
                                            description=builtin.description, updated_by="system"))
                added += 1
    session.flush()
    return added
