"""Menu validation refuses broken menus with a message naming the node."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from ivr.exceptions import MenuInvalid
from ivr.menu import (
    ActionNode,
    AnnouncementNode,
    GotoNode,
    HangupNode,
    LanguageNode,
    MenuDefinition,
    MenuNode,
    MenuSettings,
    Option,
    check,
    load_yaml,
    validate,
)
from ivr.menu.model import BusinessHours

DEMO = Path(__file__).resolve().parents[2] / "menus" / "demo.yaml"


def small_menu(**nodes) -> MenuDefinition:
    base = {
        "main": MenuNode(id="main", prompt="main_menu", options={"1": Option("orders"), "9": Option("bye")}),
        "orders": ActionNode(id="orders", action="order_status", next="main"),
        "bye": HangupNode(id="bye", prompt="goodbye"),
    }
    base.update(nodes)
    return MenuDefinition(name="t", entry="main", nodes=base)


def messages(menu: MenuDefinition, catalogue=None) -> list[str]:
    return [str(p) for p in validate(menu, catalogue)]


def test_valid_small_menu_has_no_problems():
    assert validate(small_menu()) == []


def test_demo_menu_is_valid_against_the_real_prompt_catalogue():
    from ivr.prompts.catalogue import Catalogue

    assert validate(load_yaml(DEMO), Catalogue.load()) == []


def test_dangling_option_target_names_node_and_key():
    menu = small_menu(main=MenuNode(id="main", prompt="main_menu", options={"1": Option("nowhere"),
                                                                           "2": Option("orders"),
                                                                           "9": Option("bye")}))
    assert "node 'main' (menu): option 1 goes to missing node 'nowhere'" in messages(menu)


def test_unreachable_node_is_reported():
    menu = small_menu(orphan=AnnouncementNode(id="orphan", prompt="goodbye", next="main"))
    assert any(m.startswith("node 'orphan'") and "unreachable" in m for m in messages(menu))


def test_loop_without_input_is_refused_with_the_cycle_spelled_out():
    menu = small_menu(
        main=MenuNode(id="main", prompt="main_menu", options={"1": Option("a"), "9": Option("bye")}),
        a=AnnouncementNode(id="a", prompt="goodbye", next="b"),
        b=GotoNode(id="b", target="a"),
    )
    problems = validate(menu)
    loops = [p for p in problems if p.code == "loop"]
    assert len(loops) == 1
    assert "a -> b -> a" in loops[0].message


def test_loop_through_a_menu_is_fine_because_the_menu_waits_for_input():
    menu = small_menu(a=AnnouncementNode(id="a", prompt="goodbye", next="main"),
                      main=MenuNode(id="main", prompt="main_menu",
                                    options={"1": Option("a"), "2": Option("orders"), "9": Option("bye")}))
    assert validate(menu) == []


def test_missing_inline_text_in_a_language_names_node_and_language():
    menu = small_menu(main=MenuNode(id="main", text={"zh": "按一"}, options={"1": Option("orders"), "9": Option("bye")}))
    assert "node 'main' (menu): missing text in 'en'" in messages(menu)


def test_catalogue_prompt_unknown_or_missing_language_is_refused():
    from ivr.prompts.catalogue import Catalogue

    catalogue = Catalogue.from_mapping({"main_menu": {"zh": "主菜单", "en": "Main"}, "goodbye": {"zh": "再见", "en": "Bye"},
                                        "invalid_input": {"zh": "错", "en": "Wrong"},
                                        "timeout": {"zh": "超时", "en": "Timeout"}})
    menu = small_menu(bye=HangupNode(id="bye", prompt="so_long"))
    assert "node 'bye' (hangup): prompt 'so_long' is not in the prompt catalogue" in messages(menu, catalogue)
    french = dataclasses.replace(small_menu(), languages=("zh", "en", "fr"))
    assert "node 'main' (menu): prompt 'main_menu' has no 'fr' text" in messages(french, catalogue)


@pytest.mark.parametrize("key", ["12", "a", "#", "*", ""])
def test_bad_option_keys_are_refused(key):
    menu = small_menu(main=MenuNode(id="main", prompt="main_menu", options={key: Option("orders"), "9": Option("bye")}))
    assert any(p.code == "bad-key" and p.where == "node 'main' (menu)" for p in validate(menu))


def test_entry_points_and_after_hours_must_exist():
    menu = dataclasses.replace(small_menu(), entry_points={"4008001234": "ghost"},
                               business_hours=BusinessHours(after_hours="closed"))
    got = messages(menu)
    assert "entry point '4008001234': goes to missing node 'ghost'" in got
    assert "business_hours: after-hours node 'closed' does not exist" in got


def test_unknown_action_and_foreign_language_switch_are_refused():
    menu = small_menu(orders=ActionNode(id="orders", action="teleport", next="main"),
                      main=MenuNode(id="main", prompt="main_menu",
                                    options={"1": Option("orders"), "2": Option("fr"), "9": Option("bye")}),
                      fr=LanguageNode(id="fr", language="fr", next="main"))
    got = messages(menu)
    assert any("unknown action 'teleport'" in m for m in got)
    assert "node 'fr' (language): switches to 'fr', not a language of this menu" in got


def test_repeat_and_back_keys_must_differ():
    menu = dataclasses.replace(small_menu(), settings=MenuSettings(repeat_key="*", back_key="*"))
    assert "settings: repeat and back keys must differ" in messages(menu)


def test_check_raises_with_every_problem_listed():
    menu = small_menu(main=MenuNode(id="main", prompt="main_menu", options={"1": Option("x"), "2": Option("y"),
                                                                           "9": Option("bye")}))
    with pytest.raises(MenuInvalid) as caught:
        check(menu)
    assert len(caught.value.problems) >= 3  # x, y dangling; orders unreachable
    assert "option 1 goes to missing node 'x'" in str(caught.value)
