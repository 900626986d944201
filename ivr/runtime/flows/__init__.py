"""Self-service flows, one small module each; ``FLOWS`` maps a menu action name to its coroutine.

A flow is ``async def flow(session, node) -> str | None``: it returns
``session.LEFT`` when the caller left the IVR (hand-off, hang-up), otherwise
None and the menu goes on to the node's ``next``. ``NODE_FLOWS`` are the
flows behind the ``voicemail`` and ``callback`` node kinds. The session does
not import them: :class:`ivr.runtime.app.IvrApplication` hands both maps to
each session (flows use the session; the session only runs them).
"""

from ivr.runtime.flows.callback import book_callback, callback_request
from ivr.runtime.flows.catalogue import product_lookup, promotions
from ivr.runtime.flows.complaint import complaint_voicemail
from ivr.runtime.flows.extras import fax_request, poll, subscribe_news
from ivr.runtime.flows.ordering import place_order
from ivr.runtime.flows.orders import order_status
from ivr.runtime.flows.points import points_balance
from ivr.runtime.flows.voicemail import leave_voicemail

FLOWS = {
    "order_status": order_status,
    "points_balance": points_balance,
    "product_lookup": product_lookup,
    "promotions": promotions,
    "place_order": place_order,
    "complaint_voicemail": complaint_voicemail,
    "callback_request": callback_request,
    "subscribe_news": subscribe_news,
    "poll": poll,
    "fax_request": fax_request,
}

NODE_FLOWS = {
    "voicemail": leave_voicemail,
    "callback": lambda session, node: book_callback(session, queue=node.queue),
}
