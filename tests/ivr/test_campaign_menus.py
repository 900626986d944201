"""Campaign menus: purpose, survey nodes, the do-not-call action and merge fields -- validation and YAML."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ivr.campaign.merge import fill
from ivr.exceptions import MenuFormatError
from ivr.menu import (
    ActionNode,
    AnnouncementNode,
    HangupNode,
    MenuDefinition,
    SurveyNode,
    dump_yaml,
    from_dict,
    load_yaml,
    to_dict,
    validate,
)
from ivr.menu.model import BusinessHours

SCRIPT = Path(__file__).resolve().parents[2] / "menus" / "delivery_care.yaml"
QUESTIONS = {"satisfied": "12", "courier_rating": "12345"}


def script(**nodes) -> MenuDefinition:
    base = {
        "hello": AnnouncementNode(id="hello", text={"zh": "您好{name}", "en": "Hello {name}"}, next="q1"),
        "q1": SurveyNode(id="q1", question="satisfied", valid_digits="12", text={"zh": "满意吗", "en": "Happy?"},
                         answers={"2": "sorry"}, next="bye"),
        "sorry": AnnouncementNode(id="sorry", text={"zh": "抱歉", "en": "Sorry"}, next="bye"),
        "bye": HangupNode(id="bye", text={"zh": "再见", "en": "Bye"}),
    }
    base.update(nodes)
    return MenuDefinition(name="care", entry="hello", nodes=base, purpose="campaign")


def codes(menu: MenuDefinition, **kw) -> list[tuple[str, str]]:
    return [(p.where, p.code) for p in validate(menu, **kw)]


def test_the_demo_script_is_a_valid_campaign_menu_against_its_questions_and_the_catalogue():
    from ivr.prompts.catalogue import Catalogue

    menu = load_yaml(SCRIPT)
    assert menu.purpose == "campaign"
    assert validate(menu, Catalogue.load(), questions=QUESTIONS) == []


def test_survey_nodes_merge_fields_and_the_do_not_call_action_are_refused_in_inbound_menus():
    menu = dataclasses.replace(script(stop=ActionNode(id="stop", action="do_not_call", next="bye"),
                                      bye=HangupNode(id="bye", text={"zh": "再见", "en": "Bye"})),
                               purpose="inbound")
    menu = dataclasses.replace(menu, nodes={**menu.nodes, "q1": dataclasses.replace(
        menu.nodes["q1"], answers={"1": "stop", "2": "sorry"})})
    found = codes(menu)
    assert ("node 'q1' (survey)", "purpose") in found
    assert ("node 'stop' (action)", "purpose") in found
    assert ("node 'hello' (announcement)", "merge-field") in found
    assert codes(dataclasses.replace(menu, purpose="campaign")) == []


def test_campaign_menus_have_no_dnis_entry_points_or_business_hours_and_purpose_is_checked():
    menu = dataclasses.replace(script(), entry_points={"4008001234": "hello"},
                               business_hours=BusinessHours(after_hours="bye"))
    assert {c for _w, c in codes(menu)} == {"purpose"}
    assert "purpose 'outbound' is not one of inbound, campaign" in [
        p.message for p in validate(dataclasses.replace(script(), purpose="outbound"))]


def test_survey_questions_are_checked_against_the_campaign_when_known():
    assert codes(script()) == []  # questions unknown: only the shape is checked
    assert codes(script(), questions=QUESTIONS) == []
    assert codes(script(), questions={"courier_rating": "12345"}) == [("node 'q1' (survey)", "unknown-question")]
    narrow = codes(script(), questions={"satisfied": "1"})
    assert narrow == [("node 'q1' (survey)", "bad-key")]  # the node accepts 2, the question only 1


@pytest.mark.parametrize("change, message", [
    ({"question": ""}, "needs a question key"),
    ({"valid_digits": "1x"}, "must be distinct phone keys"),
    ({"valid_digits": "11"}, "must be distinct phone keys"),
    ({"answers": {"7": "bye"}}, "answer key '7' is not one of the valid keys 12"),
    ({"next": None}, "needs a next node"),
    ({"timeout": 0.0}, "timeout must be positive"),
    ({"answers": {"2": "nowhere"}}, "answer 2 goes to missing node 'nowhere'"),
])
def test_bad_survey_nodes_are_refused_with_the_node_named(change, message):
    menu = script(q1=dataclasses.replace(script().nodes["q1"], **change))
    problems = [p for p in validate(menu) if p.where == "node 'q1' (survey)"]
    assert any(message in p.message for p in problems), problems


def test_merge_field_syntax_is_checked_in_campaign_menus():
    bad = script(hello=AnnouncementNode(id="hello", text={"zh": "您好{name:>5}", "en": "Hi {0}"}, next="q1"))
    messages = [p.message for p in validate(bad)]
    assert len(messages) == 2 and all("is not a merge field like {name}" in m for m in messages)
    unbalanced = script(hello=AnnouncementNode(id="hello", text={"zh": "您好{name", "en": "Hi"}, next="q1"))
    assert [p.code for p in validate(unbalanced)] == ["merge-field"]


def test_campaign_menu_round_trips_through_yaml_and_json():
    menu = load_yaml(SCRIPT)
    assert load_yaml(dump_yaml(menu)) == menu
    assert from_dict(to_dict(menu)) == menu
    data = to_dict(menu)
    assert data["purpose"] == "campaign"
    assert data["nodes"]["satisfied"] == {
        "type": "survey", "text": menu.nodes["satisfied"].text, "question": "satisfied", "valid_digits": "12",
        "answers": {"2": "sorry"}, "next": "courier_rating"}
    assert "purpose" not in to_dict(dataclasses.replace(menu, purpose="inbound"))  # the default is left out


def test_survey_yaml_reads_unquoted_keys_and_refuses_a_bad_answers_map():
    text = dump_yaml(script()).replace('"2": sorry', "2: sorry").replace("valid_digits: '12'", "valid_digits: 12")
    assert load_yaml(text) == script()
    broken = to_dict(script())
    broken["nodes"]["q1"]["answers"] = ["sorry"]
    with pytest.raises(MenuFormatError, match="node 'q1'.answers: expected key -> node id"):
        from_dict(broken)


def test_a_missing_merge_field_is_left_out_and_named():
    assert fill("您好{name}，您的订单{order}已发货", {"name": "王芳"}) == ("您好王芳，您的订单已发货", ["order"])
    assert fill("您好{name}", {"name": "  "}) == ("您好", ["name"])
    assert fill("Order {order} ships", {"order": 8801}) == ("Order 8801 ships", [])
    assert fill("no fields {", {}) == ("no fields {", [])


def test_the_store_keeps_the_purpose_on_the_menu_and_a_campaign_script_stays_a_campaign_menu(db_session):
    from crm_core.models.ivr_menus import IvrMenu
    from crm_core.services.campaigns import Actor, create_campaign
    from ivr.exceptions import MenuInvalid
    from ivr.menu import store

    menu = load_yaml(SCRIPT)
    store.save_draft(db_session, menu, by="alice")
    row = db_session.query(IvrMenu).filter_by(name="delivery_care").one()
    assert row.purpose == "campaign"  # known from the first draft
    store.publish(db_session, "delivery_care", by="alice")
    create_campaign(db_session, "Care", actor=Actor("manager"), mode="ivr", ivr_script="delivery_care")
    inbound = dataclasses.replace(menu, purpose="inbound", nodes={
        "greeting": AnnouncementNode(id="greeting", text={"zh": "您好", "en": "Hello"}, next="bye"),
        "bye": HangupNode(id="bye", text={"zh": "再见", "en": "Bye"})})
    store.save_draft(db_session, inbound, by="bob")
    with pytest.raises(MenuInvalid, match="is the script of campaign"):
        store.publish(db_session, "delivery_care", by="bob")
    db_session.refresh(row)
    assert row.purpose == "campaign" and store.published(db_session, "delivery_care").version == 1
