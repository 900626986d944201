"""IVR menu documents: one row per menu, one immutable row per published version plus at most one draft.

The definition itself is a JSON document (``ivr.menu.yaml_io.to_dict``); the
IVR reads and validates it. Partial unique indexes let the database itself
refuse two published (or two draft) versions of one menu, so publishing --
retire the old, publish the new, in one transaction -- is atomic even when
two admins press "publish" at once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from crm_core.db import Base, check_in
from crm_core.types import created_at, intpk, str20, str40, str100, updated_at

MENU_VERSION_STATUSES = ("draft", "published", "retired")
#: ``inbound``: answers the hotline; ``campaign``: the script of an automated outbound campaign.
MENU_PURPOSES = ("inbound", "campaign")


class IvrMenu(Base):
    """A named menu tree (``main``, a campaign's script...)."""

    __tablename__ = "ivr_menus"

    id: Mapped[intpk]
    name: Mapped[str40] = mapped_column(unique=True)
    description: Mapped[str | None]
    purpose: Mapped[str20] = mapped_column(server_default="inbound",
                                           doc="inbound or campaign, as the published version (or first draft) says")
    created_at: Mapped[created_at]
    updated_at: Mapped[updated_at]

    versions: Mapped[list[IvrMenuVersion]] = relationship(
        back_populates="menu", cascade="all, delete-orphan", order_by="IvrMenuVersion.version"
    )


class IvrMenuVersion(Base):
    """One version of a menu's definition; published and retired versions are never edited."""

    __tablename__ = "ivr_menu_versions"
    __table_args__ = (
        UniqueConstraint("menu_id", "version"),
        check_in("status", MENU_VERSION_STATUSES),
        Index("uq_ivr_menu_versions_one_published", "menu_id", unique=True,
              sqlite_where=text("status = 'published'"), postgresql_where=text("status = 'published'")),
        Index("uq_ivr_menu_versions_one_draft", "menu_id", unique=True,
              sqlite_where=text("status = 'draft'"), postgresql_where=text("status = 'draft'")),
    )

    id: Mapped[intpk]
    menu_id: Mapped[int] = mapped_column(ForeignKey("ivr_menus.id", ondelete="CASCADE"))
    version: Mapped[int] = mapped_column(Integer)
    status: Mapped[str20] = mapped_column(server_default="draft")
    # Plain JSON, not JSONB: the order of nodes is part of the menu (see revision 0005).
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str100 | None]
    created_at: Mapped[created_at]
    published_by: Mapped[str100 | None]
    published_at: Mapped[dt.datetime | None]

    menu: Mapped[IvrMenu] = relationship(back_populates="versions")

    def document_dict(self) -> dict[str, Any]:
        """The stored definition as a plain dict."""
        return dict(self.document or {})
