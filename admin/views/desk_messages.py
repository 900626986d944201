"""The agent desk's "send a message": an SMS or e-mail to the customer on the card, through the outbox.

The agent writes free text (or picks a template); the address comes from the
customer's record (their mobile for SMS, their e-mail), never typed in, so a
desk can only write to the customer it shows. The message is queued through
``crm_core.services.outbox`` (refusals come back as the usual desk errors),
logged on the customer's timeline, and goes out with the next dispatcher poll.
"""

from __future__ import annotations

import uuid

from flask_wtf import FlaskForm
from sqlalchemy.orm import Session
from wtforms import IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Length, Optional

from crm_core.enums import Channel, Direction
from crm_core.exceptions import InvalidRecipient, UnknownCustomer
from crm_core.models import Agent, Customer, OutboxMessage
from crm_core.services.notifications import recipient_for
from crm_core.services.outbox import enqueue
from crm_core.services.support import log_interaction

#: the longest text an agent may send (an SMS of ten parts is 670 Chinese characters)
MAX_TEXT = 670


class DeskMessageForm(FlaskForm):
    customer_id = IntegerField(validators=[DataRequired()])
    channel = SelectField(choices=[("sms", "SMS"), ("email", "e-mail")])
    subject = StringField(validators=[Optional(), Length(max=200)])
    text = TextAreaField(validators=[DataRequired(), Length(max=MAX_TEXT)])
    call_uuid = StringField(validators=[Optional(), Length(max=40)])


def send_desk_message(session: Session, agent: Agent, form: DeskMessageForm, by: str) -> OutboxMessage:
    """Queue the agent's message to the card's customer; InvalidRecipient when no address can receive it."""
    customer = session.get(Customer, form.customer_id.data)
    if customer is None:
        raise UnknownCustomer(f"no customer {form.customer_id.data}", id=form.customer_id.data)
    channel = form.channel.data
    address = recipient_for(customer, channel)
    if address is None:
        raise InvalidRecipient(f"{customer.name} has no {'mobile number' if channel == 'sms' else 'e-mail address'} "
                               "on file", channel=channel, reason="no-address")
    message = enqueue(session, channel, address, body=form.text.data.strip(), language=customer.language or "zh",
                      subject=(form.subject.data or "").strip() or ("Hotline" if channel == "email" else None),
                      key=f"desk-{uuid.uuid4().hex}", customer_id=customer.id,
                      call_uuid=form.call_uuid.data or None, created_by=by[:40])
    log_interaction(session, Channel(channel), customer_id=customer.id, direction=Direction.OUTBOUND,
                    address=address, agent_id=agent.id, call_uuid=form.call_uuid.data or None,
                    summary=f"desk: {channel} queued ({message.status})",
                    detail={"event": "message", "outbox_id": message.id, "text": form.text.data[:500]})
    return message
