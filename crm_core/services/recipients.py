"""Who a message can go to: the recipient of each channel, checked and normalised before anything is queued.

SMS needs a mobile number (a landline cannot receive a text), fax and voice
any dialable number, e-mail a syntactically valid address (lower-cased
domain). Numbers are stored in E.164 so opt-outs, inbound replies and the
customer lookup all meet on one key. Refusals are ``InvalidRecipient`` with
the reason in ``details['reason']``.
"""

from __future__ import annotations

import re

import phonenumbers

from crm_core.enums import NotifyChannel
from crm_core.exceptions import InvalidPhoneNumber, InvalidRecipient
from crm_core.phones import DEFAULT_REGION, to_e164

#: local part and domain as mail servers accept them in practice (RFC 5321 lengths, no quoted forms)
_EMAIL = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]{1,64}@(?=.{1,253}$)"
                    r"(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$")
_MOBILE_TYPES = {phonenumbers.PhoneNumberType.MOBILE, phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE}


def normalise_email(raw: str | None) -> str:
    """The address with its domain lower-cased; InvalidRecipient when it is not one."""
    text = (raw or "").strip()
    if not _EMAIL.match(text) or ".." in text:
        raise InvalidRecipient(f"{raw!r} is not a valid e-mail address", raw=raw, channel="email",
                               reason="bad-address")
    local, _, domain = text.rpartition("@")
    return f"{local}@{domain.lower()}"


def normalise_number(raw: str | None, channel: str, region: str = DEFAULT_REGION) -> str:
    """The number in E.164 for ``channel`` (sms: mobile only); InvalidRecipient otherwise."""
    try:
        e164 = to_e164(raw, region)
    except InvalidPhoneNumber:
        raise InvalidRecipient(f"{raw!r} is not a valid phone number", raw=raw, channel=channel,
                               reason="bad-number") from None
    if channel == NotifyChannel.SMS:
        kind = phonenumbers.number_type(phonenumbers.parse(e164))
        if kind not in _MOBILE_TYPES:
            raise InvalidRecipient(f"{raw!r} is not a mobile number: it cannot receive SMS", raw=raw,
                                   channel=channel, reason="not-mobile")
    return e164


def normalise_recipient(channel: str, raw: str | None, region: str = DEFAULT_REGION) -> str:
    """The recipient of a message on ``channel``, normalised; InvalidRecipient when it cannot receive it."""
    try:
        kind = NotifyChannel(channel)
    except ValueError:
        raise InvalidRecipient(f"unknown channel {channel!r}", channel=channel, reason="bad-channel") from None
    if kind == NotifyChannel.EMAIL:
        return normalise_email(raw)
    return normalise_number(raw, kind.value, region)
