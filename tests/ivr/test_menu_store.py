"""Versioned menu storage: drafts, atomic publish, invalid menus refused, published versions immutable."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
from sqlalchemy import select

from crm_core.models.ivr_menus import IvrMenuVersion
from ivr.exceptions import MenuInvalid, MenuNotFound
from ivr.menu import HangupNode, load_yaml
from ivr.menu import store

DEMO = Path(__file__).resolve().parents[2] / "menus" / "demo.yaml"


def test_publish_makes_the_draft_current_and_retires_the_old_version(db_session):
    menu = load_yaml(DEMO)
    first = store.import_and_publish(db_session, menu, by="alice")
    assert (first.version, first.definition) == (1, menu)
    changed = dataclasses.replace(menu, description="new wording")
    store.save_draft(db_session, changed, by="bob")
    assert store.published(db_session, "main").version == 1  # a draft changes nothing for calls
    second = store.publish(db_session, "main", by="bob")
    assert second.version == 2 and store.published(db_session, "main").definition == changed
    statuses = [(v.version, v.status) for v in store.history(db_session, "main")]
    assert statuses == [(1, "retired"), (2, "published")]


def test_publishing_an_invalid_draft_is_refused_and_changes_nothing(db_session):
    menu = load_yaml(DEMO)
    store.import_and_publish(db_session, menu)
    nodes = dict(menu.nodes)
    nodes["goodbye"] = HangupNode(id="goodbye", prompt="goodbye")
    nodes["main"] = dataclasses.replace(nodes["main"], options={**nodes["main"].options,
                                                              "9": dataclasses.replace(nodes["main"].options["1"],
                                                                                       target="ghost")})
    store.save_draft(db_session, dataclasses.replace(menu, nodes=nodes))
    with pytest.raises(MenuInvalid) as caught:
        store.publish(db_session, "main")
    assert "option 9 goes to missing node 'ghost'" in str(caught.value)
    assert store.published(db_session, "main").version == 1
    draft = db_session.scalars(select(IvrMenuVersion).where(IvrMenuVersion.status == "draft")).one()
    assert draft.version == 2


def test_unknown_menu_is_reported(db_session):
    with pytest.raises(MenuNotFound):
        store.published(db_session, "nope")


def test_a_loaded_definition_is_immutable(db_session):
    menu = store.import_and_publish(db_session, load_yaml(DEMO)).definition
    with pytest.raises(dataclasses.FrozenInstanceError):
        menu.entry = "elsewhere"  # type: ignore[misc]
