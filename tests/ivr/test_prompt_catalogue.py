"""Catalogue loading and validation: bad data fails at load time, naming the prompt."""

import datetime as dt
from decimal import Decimal

import pytest

from ivr.prompts.catalogue import Catalogue
from ivr.prompts.exceptions import CatalogueError, PromptNotFound, PromptVariableError


def test_shipped_catalogue_loads_and_covers_the_required_prompts():
    catalogue = Catalogue.load()
    required = [
        "greeting", "greeting_named", "greeting_vip", "main_menu", "language_menu", "invalid_input", "timeout",
        "too_many_errors", "please_hold", "transferring", "queue_position", "callback_offer",
        "order_status_ordered", "order_status_shipped", "order_status_delivered", "order_status_settled",
        "order_status_returned", "order_status_exchanged", "order_not_found", "order_enter_number",
        "points_balance", "points_change_earned", "product_info", "product_press_to_order", "promotions_intro",
        "ordering_enter_code", "ordering_enter_quantity", "ordering_address_confirm", "ordering_payment_method",
        "ordering_delivery_method", "ordering_readback", "ordering_confirm", "ordering_placed",
        "ordering_out_of_stock", "complaint_category_menu", "complaint_record", "complaint_review",
        "complaint_ticket", "callback_request_time", "subscription_offer", "poll_intro", "fax_request",
        "after_hours", "goodbye",
    ]
    assert [pid for pid in required if pid not in catalogue] == []
    for prompt in catalogue:
        assert set(prompt.texts) == {"zh", "en"}


def test_render_text_speaks_typed_values_per_language():
    catalogue = Catalogue.load()
    zh = catalogue.render_text("order_status_shipped", "zh", order_no="202611230017", courier="顺丰速运", waybill="75312")
    assert zh == "您的订单二零二六，幺幺二三，零零幺七已发货，承运快递为顺丰速运，运单号七五三，幺二。"
    en = catalogue.render_text("ordering_readback", "en", name="a wok", quantity=2, amount=Decimal("259.80"))
    assert en == "You are ordering a wok, quantity two, two hundred fifty-nine yuan eighty."
    assert catalogue.render_text("queue_position", "zh", position=2, wait=0) == "您前面还有两位客户在等待，预计等待时间约不到一分钟。"
    assert "二零二六年十一月二十三日" in catalogue.render_text(
        "order_status_delivered", "zh", order_no="1", date=dt.date(2026, 11, 23))


def test_render_text_given_wrong_variables_names_them():
    catalogue = Catalogue.load()
    with pytest.raises(PromptVariableError, match=r"'queue_position': missing wait; unexpected colour"):
        catalogue.render_text("queue_position", "en", position=3, colour="red")
    with pytest.raises(PromptVariableError, match="cannot read amount='lots' as money"):
        catalogue.render_text("order_status_settled", "en", order_no="1", amount="lots")
    with pytest.raises(PromptNotFound, match="no prompt 'nope'"):
        catalogue.render_text("nope", "en")


@pytest.mark.parametrize(
    "data, message",
    [
        ({"hello": {"zh": "您好"}}, r"prompt 'hello' \(t.yaml\): missing 'en' text"),
        ({"hello": {"zh": "{name}您好", "en": "Hi {name}"}}, r"prompt 'hello' .*\[zh\]: unknown variable\(s\) name"),
        ({"hello": {"vars": {"name": "text"}, "zh": "您好", "en": "Hi {name}"}},
         r"prompt 'hello' .*\[zh\]: declared variable\(s\) name not used"),
        ({"hello": {"vars": {"n": "colour"}, "zh": "{n}", "en": "{n}"}}, r"variable 'n' has unknown kind 'colour'"),
        ({"hello": {"vars": {"n": "number"}, "zh": "{n:>3}", "en": "{n}"}}, r"placeholder \{n\} must be a plain name"),
        ({"Hello-There": {"zh": "a", "en": "b"}}, r"id must be lower_snake_case"),
        ({"hello": {"zh": "a", "en": "b", "fr": "c"}}, r"prompt 'hello' .*unknown key\(s\) fr"),
    ],
)
def test_invalid_catalogue_is_refused_naming_the_prompt(tmp_path, data, message):
    import yaml

    path = tmp_path / "t.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(CatalogueError, match=message):
        Catalogue.load(path)


def test_duplicate_id_in_one_file_is_refused_with_line_numbers(tmp_path):
    path = tmp_path / "dup.yaml"
    path.write_text("greeting:\n  zh: 您好\n  en: Hello\ngreeting:\n  zh: 你好\n  en: Hi\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"dup.yaml: duplicate prompt id or key 'greeting' at line 4 \(first at line 1\)"):
        Catalogue.load(path)


def test_duplicate_id_across_files_names_both_files(tmp_path):
    (tmp_path / "a.yaml").write_text("goodbye:\n  zh: 再见\n  en: Bye\n", encoding="utf-8")
    (tmp_path / "b.yaml").write_text("goodbye:\n  zh: 再见！\n  en: Goodbye\n", encoding="utf-8")
    with pytest.raises(CatalogueError, match=r"duplicate prompt id 'goodbye' in b.yaml \(first in a.yaml\)"):
        Catalogue.load(tmp_path)
