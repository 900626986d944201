"""YAML import/export of menus: round trips exactly, refuses typos with the node named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from ivr.exceptions import MenuFormatError
from ivr.menu import MenuNode, dump_yaml, from_dict, load_yaml, to_dict

DEMO = Path(__file__).resolve().parents[2] / "menus" / "demo.yaml"


def test_demo_menu_round_trips_through_yaml_and_json_data():
    menu = load_yaml(DEMO)
    assert load_yaml(dump_yaml(menu)) == menu
    assert from_dict(to_dict(menu)) == menu


def test_yaml_keeps_chinese_text_readable():
    text = dump_yaml(load_yaml(DEMO))
    assert "本公司成立于" in text


def test_loaded_menu_has_typed_values():
    menu = load_yaml(DEMO)
    main = menu.nodes["main"]
    assert isinstance(main, MenuNode)
    assert main.options["1"].target == "order_status"
    assert main.options["1"].keywords["en"] == ("order", "order status")
    assert menu.entry_points["4008005678"] == "tv_ad_kitchen"
    assert menu.business_hours.weekly["mon"] == ((dt.time(8), dt.time(22)),)
    assert dt.date(2027, 1, 1) in menu.business_hours.holidays
    assert menu.settings.repeat_key == "#"


def test_business_hours_route_to_after_hours_when_closed_or_on_holiday():
    menu = load_yaml(DEMO)
    shanghai = dt.timezone(dt.timedelta(hours=8))
    assert menu.start_for("4008001234", dt.datetime(2026, 11, 24, 10, 0, tzinfo=shanghai)) == "language"
    assert menu.start_for("4008005678", dt.datetime(2026, 11, 24, 10, 0, tzinfo=shanghai)) == "tv_ad_kitchen"
    assert menu.start_for("4008001234", dt.datetime(2026, 11, 24, 23, 0, tzinfo=shanghai)) == "after_hours"
    assert menu.start_for("4008001234", dt.datetime(2027, 1, 1, 10, 0, tzinfo=shanghai)) == "after_hours"
    # 02:00 UTC is 10:00 in Shanghai
    assert menu.start_for("4008001234", dt.datetime(2026, 11, 24, 2, 0, tzinfo=dt.timezone.utc)) == "language"


def test_short_option_form_and_unquoted_numbers_are_accepted():
    menu = load_yaml("""
name: t
entry: m
entry_points: {4008001234: m}
nodes:
  m: {type: menu, prompt: main_menu, options: {1: bye}}
  bye: {type: hangup}
""")
    assert menu.nodes["m"].options["1"].target == "bye"
    assert menu.entry_points == {"4008001234": "m"}


@pytest.mark.parametrize("doc, fragment", [
    ("name: t\nentry: m\nnodes:\n  m: {type: menu, promtp: x}\n", "node 'm': unknown field(s) promtp"),
    ("name: t\nentry: m\nnodes:\n  m: {type: dance}\n", "node 'm': unknown type 'dance'"),
    ("name: t\nentry: m\nnodes:\n  m: {type: menu, timeout: soon}\n", "node 'm'.timeout: expected a number"),
    ("name: t\nentry: m\nnodes:\n  m: {type: digits, retries: 1.5}\n", "node 'm'.retries: expected a whole number"),
    ("name: t\nnodes: {}\n", "missing 'entry'"),
    ("name: t\nentry: m\nbusiness_hours: {weekly: {mon: [9-5pm]}}\nnodes: {}\n", "is not a time"),
    ("name: t\nentry: m\nnodes:\n  m: {type: menu, options: {1: {target: x, keywrds: {}}}}\n", "unknown field(s) keywrds"),
])
def test_format_errors_name_the_culprit(doc, fragment):
    with pytest.raises(MenuFormatError) as caught:
        load_yaml(doc)
    assert fragment in str(caught.value)


def test_yaml_end_of_day_24_00_round_trips_exactly():
    import datetime as dt

    from ivr.menu.yaml_io import from_dict, to_dict
    from ivr.menu import load_yaml
    from pathlib import Path

    menu = load_yaml(Path(__file__).resolve().parents[2] / "menus" / "demo.yaml")
    doc = to_dict(menu)
    doc["business_hours"]["weekly"]["mon"] = ["00:00-24:00"]
    again = from_dict(doc)
    assert again.business_hours.weekly["mon"] == ((dt.time(0), dt.time.max),)
    assert to_dict(again)["business_hours"]["weekly"]["mon"] == ["00:00-24:00"]  # was written as 23:59: closed at 23:59


def test_an_older_menus_blacklist_threshold_is_read_and_dropped():
    """The marks that blacklist a caller are one setting (crm.blacklist_threshold), not a per-menu number."""
    data = to_dict(load_yaml(DEMO))
    data["settings"]["blacklist"] = {"action": "reject", "threshold": 5}
    menu = from_dict(data)
    assert menu.settings.blacklist.action == "reject"
    assert "threshold" not in to_dict(menu)["settings"]["blacklist"]
    data["settings"]["blacklist"] = {"action": "reject", "treshold": 5}
    with pytest.raises(MenuFormatError, match="treshold"):  # a typo is still refused
        from_dict(data)
