"""Versioned menu storage: save a draft, publish it atomically, load what calls should run.

Plain functions taking a SQLAlchemy Session (they flush, the caller commits),
like the ``crm_core`` services, so the admin UI, the CLI and the IVR's
thread-pool gateway share one code path. A draft is validated before it may
be published; published and retired versions are never modified, and a call
keeps the :class:`~ivr.menu.model.MenuDefinition` object it started with, so
publishing changes only the calls that start afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from crm_core.models import Campaign
from crm_core.models.ivr_menus import IvrMenu, IvrMenuVersion
from crm_core.types import utcnow
from ivr.exceptions import MenuInvalid, MenuNotFound, MenuVersionConflict, Problem
from ivr.menu.model import MenuDefinition
from ivr.menu.validate import PromptLookup, check
from ivr.menu.yaml_io import from_dict, to_dict


@dataclass(frozen=True)
class PublishedMenu:
    """A published version: the number calls log and the definition they run."""

    name: str
    version: int
    version_id: int
    definition: MenuDefinition


def _menu(session: Session, name: str, *, lock: bool = False) -> IvrMenu:
    stmt = select(IvrMenu).where(IvrMenu.name == name)
    if lock:
        stmt = stmt.with_for_update()
    menu = session.scalars(stmt).first()
    if menu is None:
        raise MenuNotFound(f"no menu named {name!r}")
    return menu


def save_draft(session: Session, definition: MenuDefinition, *, by: str | None = None,
               comment: str | None = None) -> IvrMenuVersion:
    """Store ``definition`` as the draft of its menu (creating the menu, replacing an older draft's content).

    Drafts may be invalid (work in progress); ``publish`` is what refuses them.
    """
    menu = session.scalars(select(IvrMenu).where(IvrMenu.name == definition.name).with_for_update()).first()
    if menu is None:
        menu = IvrMenu(name=definition.name, description=definition.description or None,
                       purpose=definition.purpose)
        session.add(menu)
        session.flush()
    draft = session.scalars(
        select(IvrMenuVersion).where(IvrMenuVersion.menu_id == menu.id, IvrMenuVersion.status == "draft")
    ).first()
    document = to_dict(definition)
    if draft is None:
        last = session.scalar(select(func.max(IvrMenuVersion.version)).where(IvrMenuVersion.menu_id == menu.id))
        draft = IvrMenuVersion(menu_id=menu.id, version=(last or 0) + 1, status="draft", document=document,
                               created_by=by, comment=comment)
        session.add(draft)
    else:
        draft.document = document
        draft.created_by = by or draft.created_by
        draft.comment = comment if comment is not None else draft.comment
    session.flush()
    return draft


def draft_definition(session: Session, name: str) -> MenuDefinition:
    """The current draft of a menu as a definition (MenuNotFound when there is none)."""
    menu = _menu(session, name)
    draft = session.scalars(
        select(IvrMenuVersion).where(IvrMenuVersion.menu_id == menu.id, IvrMenuVersion.status == "draft")
    ).first()
    if draft is None:
        raise MenuNotFound(f"menu {name!r} has no draft")
    return from_dict(draft.document_dict())


def publish(session: Session, name: str, *, by: str | None = None,
            catalogue: PromptLookup | None = None) -> PublishedMenu:
    """Validate the draft and make it the published version, retiring the previous one, in one transaction.

    Raises :class:`~ivr.exceptions.MenuInvalid` (nothing changes) when the draft is broken.
    """
    menu = _menu(session, name, lock=True)
    draft = session.scalars(
        select(IvrMenuVersion).where(IvrMenuVersion.menu_id == menu.id, IvrMenuVersion.status == "draft")
        .with_for_update()
    ).first()
    if draft is None:
        raise MenuVersionConflict(f"menu {name!r} has no draft to publish")
    definition = check(from_dict(draft.document_dict()), catalogue)
    _check_scripts(session, menu, definition)
    with session.begin_nested():
        session.execute(
            update(IvrMenuVersion)
            .where(IvrMenuVersion.menu_id == menu.id, IvrMenuVersion.status == "published")
            .values(status="retired"),
            execution_options={"synchronize_session": "fetch"},
        )
        draft.status = "published"
        draft.published_by = by
        draft.published_at = utcnow()
        menu.purpose = definition.purpose
        session.flush()
    return PublishedMenu(name, draft.version, draft.id, definition)


def _check_scripts(session: Session, menu: IvrMenu, definition: MenuDefinition) -> None:
    """A menu that campaigns use as their script stays a campaign menu (MenuInvalid names the campaigns)."""
    if definition.purpose == "campaign":
        return
    using = list(session.scalars(select(Campaign.name).where(
        Campaign.ivr_script == menu.name, Campaign.status.not_in(("completed", "stopped"))).order_by(Campaign.name)))
    if using:
        raise MenuInvalid([Problem("menu", f"is the script of campaign(s) {', '.join(using)}: its purpose must stay "
                                           "campaign", "purpose")])


def import_and_publish(session: Session, definition: MenuDefinition, *, by: str | None = None,
                       catalogue: PromptLookup | None = None) -> PublishedMenu:
    """Save ``definition`` as the draft and publish it (YAML import, demo set-up)."""
    check(definition, catalogue)
    save_draft(session, definition, by=by)
    return publish(session, definition.name, by=by, catalogue=catalogue)


def published(session: Session, name: str) -> PublishedMenu:
    """The version new calls should run (MenuNotFound when nothing is published)."""
    row = session.execute(
        select(IvrMenuVersion).join(IvrMenu).where(IvrMenu.name == name, IvrMenuVersion.status == "published")
    ).scalars().first()
    if row is None:
        raise MenuNotFound(f"menu {name!r} has no published version")
    return PublishedMenu(name, row.version, row.id, from_dict(row.document_dict()))


def published_version_id(session: Session, name: str) -> int | None:
    """Just the id of the published version (cheap check whether a cached definition is still current)."""
    return session.scalar(
        select(IvrMenuVersion.id).join(IvrMenu).where(IvrMenu.name == name, IvrMenuVersion.status == "published")
    )


def history(session: Session, name: str) -> list[IvrMenuVersion]:
    """Every version of a menu, oldest first."""
    menu = _menu(session, name)
    return list(session.scalars(
        select(IvrMenuVersion).where(IvrMenuVersion.menu_id == menu.id).order_by(IvrMenuVersion.version)))
