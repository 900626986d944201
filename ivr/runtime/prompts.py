"""What a call hears: prompt id + language + values -> media paths to play.

:class:`PromptPlayer` is the interface the session uses. The production one,
:class:`RendererPromptPlayer`, renders through ``ivr.prompts.renderer.PromptRenderer``
(catalogue text, uploaded recordings, TTS in a worker, cached by content).

Every prompt the runtime says by id (``RUNTIME_PROMPTS``) lives in
``prompts/catalogue/*.yaml``; menu validation against the catalogue checks
them in every language of the menu (``ivr.menu.validate``), and
``tests/ivr/test_runtime_prompts.py`` keeps this list in step with the code.
``RUNTIME_TEXTS`` is only a safety net for a catalogue that lacks one of the
call-saving prompts (an apology must never go silent): it logs an error
when used.
"""

from __future__ import annotations

import logging
from typing import Any, Mapping, Protocol

from twisted.internet import defer

log = logging.getLogger(__name__)

#: Prompt ids the session and the flows say by id (beside those a menu names); all in the catalogue.
RUNTIME_PROMPTS: frozenset[str] = frozenset({
    # session
    "greeting", "greeting_named", "greeting_vip", "blacklist_notice", "blacklist_reject", "system_error",
    "timeout", "invalid_input", "too_many_errors", "transferring", "goodbye",
    "speech_confirm", "speech_not_understood",
    # order status
    "order_number_choice", "order_enter_number", "order_not_found", "order_none_for_caller", "order_recent_intro",
    "order_status_ordered", "order_status_shipped", "order_status_delivered", "order_status_settled",
    "order_status_returned", "order_status_exchanged", "order_status_cancelled", "order_sms_offer",
    "order_sms_sent", "order_sms_unavailable", "order_status_menu",
    # points, products, promotions
    "points_balance", "points_recent_intro", "points_change_earned", "points_change_spent", "points_none",
    "not_a_member", "product_enter_code", "product_info", "product_description", "product_in_stock",
    "product_low_stock", "product_out_of_stock", "product_press_to_order", "product_not_found",
    "promotions_intro", "promotion_item", "promotions_none",
    # phone ordering
    "ordering_enter_code", "ordering_enter_quantity", "ordering_quantity_too_large", "ordering_out_of_stock",
    "ordering_alternative", "ordering_more", "ordering_address_confirm", "ordering_no_address",
    "ordering_payment_method", "ordering_delivery_method", "ordering_readback", "ordering_readback_promotion",
    "ordering_readback_total", "ordering_prices_changed", "ordering_confirm", "ordering_placed",
    "ordering_cancelled",
    # complaint, voicemail, callback, services
    "complaint_category_menu", "complaint_record", "complaint_review", "complaint_too_short", "complaint_ticket",
    "voicemail_record", "voicemail_saved", "callback_choose_number", "callback_enter_number",
    "callback_confirm_number", "callback_request_time", "callback_request_done", "subscription_offer",
    "subscription_done", "unsubscribe_done", "poll_intro", "poll_question_rating", "poll_thanks",
    "fax_request", "fax_confirm", "fax_queued", "fax_number_invalid",
})

#: Safety net only: words for prompts a call must never lose, used (with an error logged) when the
#: catalogue in use lacks them. The catalogue holds the real wording.
RUNTIME_TEXTS: dict[str, dict[str, str]] = {
    "system_error": {
        "zh": "对不起，系统暂时出现故障，给您带来不便，敬请谅解。",
        "en": "We are sorry, something went wrong on our side. Please accept our apologies.",
    },
    "transferring": {
        "zh": "正在为您转接人工客服，请稍候。",
        "en": "Transferring you to an agent now. Please hold.",
    },
    "too_many_errors": {
        "zh": "多次输入有误，正在为您转接人工客服，请稍候。",
        "en": "It seems we are having trouble. Let me transfer you to one of our agents. Please hold.",
    },
}


class PromptPlayer(Protocol):
    """Turns a prompt into media paths the switch can play."""

    def files(self, prompt_id: str | None, lang: str, text: Mapping[str, str] | None = None,
              **variables: Any) -> defer.Deferred:
        """Deferred list of paths: catalogue ``prompt_id`` with ``variables``, or inline ``text[lang]``."""


class RendererPromptPlayer:
    """PromptPlayer over the TTS renderer (``ivr.prompts.renderer.PromptRenderer``)."""

    def __init__(self, renderer: Any, runtime_texts: Mapping[str, Mapping[str, str]] = RUNTIME_TEXTS) -> None:
        self.renderer = renderer
        self.runtime_texts = runtime_texts

    def files(self, prompt_id: str | None, lang: str, text: Mapping[str, str] | None = None,
              **variables: Any) -> defer.Deferred:
        if text and text.get(lang):
            d = self.renderer.render_text(text[lang], lang)
        elif prompt_id and prompt_id in self.renderer.builder.catalogue:
            d = self.renderer.render(prompt_id, lang, **variables)
        elif prompt_id and prompt_id in self.runtime_texts:
            log.error("prompt %r is missing from the catalogue; saying the built-in %s text", prompt_id, lang)
            words = self.runtime_texts[prompt_id].get(lang, "").format(**{k: _plain(v) for k, v in variables.items()})
            if not words.strip():
                return defer.succeed([])
            d = self.renderer.render_text(words, lang)
        else:
            return defer.fail(KeyError(f"no prompt {prompt_id!r} and no inline text in {lang!r}"))
        return d.addCallback(lambda path: [str(path)])


def _plain(value: Any) -> str:
    return str(value)
