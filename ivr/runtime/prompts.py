"""What a call hears: prompt id + language + values -> media paths to play.

:class:`PromptPlayer` is the interface the session uses. The production one,
:class:`RendererPromptPlayer`, renders through ``ivr.prompts.renderer.PromptRenderer``
(catalogue text, uploaded recordings, TTS in a worker, cached by content).
Prompts the runtime needs that the catalogue does not hold yet are worded in
``RUNTIME_TEXTS`` and rendered as free text, so a call never goes silent for
lack of a catalogue entry (the catalogue wins once it has the id).
"""

from __future__ import annotations

import logging
from typing import Any, Mapping, Protocol

from twisted.internet import defer

log = logging.getLogger(__name__)

#: Runtime prompts missing from prompts/catalogue (to be moved there by its owner).
RUNTIME_TEXTS: dict[str, dict[str, str]] = {
    "system_error": {
        "zh": "对不起，系统暂时出现故障，给您带来不便，敬请谅解。",
        "en": "We are sorry, something went wrong on our side. Please accept our apologies.",
    },
    "blacklist_notice": {
        "zh": "您的来电已被记录。请文明通话，谢谢合作。",
        "en": "Please note that this call is recorded. Thank you for your cooperation.",
    },
    "blacklist_reject": {
        "zh": "对不起，本热线暂时无法为您服务。再见。",
        "en": "Sorry, this line cannot take your call. Goodbye.",
    },
    "order_recent_intro": {
        "zh": "以下是您最近的订单。",
        "en": "Here are your most recent orders.",
    },
    "order_sms_offer": {
        "zh": "如需将订单详情发送到您的手机，请按九。",
        "en": "To get these details by text message, press 9.",
    },
    "order_sms_sent": {
        "zh": "订单详情将通过短信发送给您。",
        "en": "We will text you the details.",
    },
    "order_number_choice": {
        "zh": "输入订单号请按一；查询本机号码的最近订单请按二。",
        "en": "To enter an order number, press 1. For the latest orders of the number you are calling from, press 2.",
    },
    "ordering_alternative": {
        "zh": "您可以选择{name}，价格{price}。订购请按一，其他商品请按二，人工服务请按零。",
        "en": "You could choose {name} instead, at {price}. To order it, press 1. For another product, press 2. For an agent, press 0.",
    },
    "ordering_more": {
        "zh": "继续添加商品请按一，结束选购请按二。",
        "en": "To add another product, press 1. To finish, press 2.",
    },
    "order_status_cancelled": {
        "zh": "您的订单{order_no}已取消。",
        "en": "Your order {order_no} has been cancelled.",
    },
    "product_description": {"zh": "{text}", "en": "{text}"},
    "promotion_item": {"zh": "{text}", "en": "{text}"},
    "announcement": {"zh": "{text}", "en": "{text}"},
    "beep": {"zh": "", "en": ""},
    "callback_choose_number": {
        "zh": "回电到本机号码请按一，输入其他号码请按二。",
        "en": "To be called back on this number, press 1. To enter another number, press 2.",
    },
    "voicemail_record": {
        "zh": "请在提示音后留言，按井号键结束。",
        "en": "Please leave your message after the tone, and press the pound key when you are done.",
    },
    "voicemail_saved": {
        "zh": "您的留言已保存，谢谢。",
        "en": "Your message has been saved. Thank you.",
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
            words = self.runtime_texts[prompt_id].get(lang, "").format(**{k: _plain(v) for k, v in variables.items()})
            if not words.strip():
                return defer.succeed([])
            d = self.renderer.render_text(words, lang)
        else:
            return defer.fail(KeyError(f"no prompt {prompt_id!r} and no inline text in {lang!r}"))
        return d.addCallback(lambda path: [str(path)])


def _plain(value: Any) -> str:
    return str(value)
