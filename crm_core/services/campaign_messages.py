"""Campaign SMS / fax / e-mail blasts: one outbox message per campaign contact, queued in bulk.

Each contact's merge data (the columns of the contact import) fills the
template, with ``customer_name`` added when the contact is a known customer.
The key ``campaign-<id>-<channel>-<template>-<contact id>`` makes a repeated
blast queue nothing twice; contacts whose number (or e-mail) cannot receive
the channel, or whose data lacks a merge field, are reported, not queued;
opted-out recipients get ``cancelled`` rows saying so.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from crm_core.enums import ContactStatus, NotifyChannel
from crm_core.exceptions import NotFound
from crm_core.models import Campaign, CampaignContact, Customer
from crm_core.phones import DEFAULT_REGION
from crm_core.services.outbox import EnqueueResult, MessageRequest, enqueue_many


def queue_campaign_messages(session: Session, campaign_id: int, channel: str, *, template: str,
                            language: str = "zh", by: str | None = None,
                            region: str = DEFAULT_REGION) -> EnqueueResult:
    """Queue ``template`` on ``channel`` for every contact of the campaign (skipped contacts excepted)."""
    if session.get(Campaign, campaign_id) is None:
        raise NotFound(f"no campaign {campaign_id}", id=campaign_id)
    channel = NotifyChannel(channel).value
    rows = session.execute(select(CampaignContact, Customer)
                           .outerjoin(Customer, Customer.id == CampaignContact.customer_id)
                           .where(CampaignContact.campaign_id == campaign_id,
                                  CampaignContact.status != ContactStatus.SKIPPED.value)
                           .order_by(CampaignContact.id)).all()
    requests = []
    for contact, customer in rows:
        data = {str(k): v for k, v in (contact.data or {}).items()}
        if customer is not None:
            data.setdefault("customer_name", customer.name)
        address = customer.email if channel == NotifyChannel.EMAIL and customer is not None else contact.number
        requests.append(MessageRequest(channel, address or "", template=template, data=data,
                                       language=(customer.language if customer is not None else None) or language,
                                       key=f"campaign-{campaign_id}-{channel}-{template}-{contact.id}"[:120],
                                       customer_id=customer.id if customer is not None else None,
                                       campaign_id=campaign_id, created_by=by))
    return enqueue_many(session, requests, region=region)
