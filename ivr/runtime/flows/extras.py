"""Small self-service flows: new-product news subscription, a one-question poll, a fax request."""

from __future__ import annotations

from typing import Any

from crm_core.exceptions import InvalidRecipient
from ivr.runtime.session import IvrSession

#: fax numbers a caller may key before the flow gives up
MAX_FAX_TRIES = 3


async def subscribe_news(s: IvrSession, node: Any) -> str | None:
    if s.caller is None:
        await s.say("not_a_member")
        return None
    key = await s.choose("subscription_offer", "12")
    if key is None:
        return await s.give_up()
    await s.gateway.set_subscription(s.caller.customer_id, key == "1")
    s.log_step("subscription", "ivr: news " + ("subscribed" if key == "1" else "unsubscribed"))
    await s.say("subscription_done" if key == "1" else "unsubscribe_done")
    return None


async def poll(s: IvrSession, node: Any) -> str | None:
    await s.say("poll_intro")
    rating = await s.choose("poll_question_rating", "12345")
    if rating is None:
        return None
    s.stats.options[("poll", rating)] += 1
    s.log_step("poll", f"ivr: poll rating {rating}", question="rating", answer=int(rating))
    await s.say("poll_thanks")
    return None


async def fax_request(s: IvrSession, node: Any) -> str | None:
    """Self-service fax-back: the caller keys a fax number and the document goes out through the outbox."""
    document = str((node.params or {}).get("document", "catalogue"))
    for _ in range(MAX_FAX_TRIES):
        number = await s.enter_digits("fax_request", 7, 15)
        if number is None:
            return await s.give_up()
        key = await s.choose("fax_confirm", "12", fax=number)
        if key is None:
            return await s.give_up()
        if key != "1":
            continue
        try:
            await s.gateway.request_fax_document(number, document, customer_id=s.customer_id, call_uuid=s.uuid,
                                                 language=s.lang)
        except InvalidRecipient:
            s.log_step("fax_refused", "ivr: fax number refused", number=number)
            await s.say("fax_number_invalid")
            continue
        s.log_step("fax_requested", f"ivr: fax of {document} queued", number=number, document=document)
        await s.say("fax_queued")
        return None
    return await s.give_up()
