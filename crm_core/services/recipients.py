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


def _parse_e164(raw: str | None) -> phonenumbers.PhoneNumber | None:
    """A valid number already written ``+<digits>`` parsed once (the common case of a blast), else None."""
    text = (raw or "").strip()
    if not (text.startswith("+") and text[1:].isdigit()):
        return None
    try:
        return phonenumbers.parse(text)
    except phonenumbers.NumberParseException:
        return None


def normalise_number(raw: str | None, channel: str, region: str = DEFAULT_REGION) -> str:
    """The number in E.164 for ``channel`` (sms: mobile only); InvalidRecipient otherwise."""
    parsed = _parse_e164(raw)
    kind = phonenumbers.number_type(parsed) if parsed is not None else phonenumbers.PhoneNumberType.UNKNOWN
    if kind == phonenumbers.PhoneNumberType.UNKNOWN:  # not plain, valid E.164: the full caller-ID rules
        try:
            parsed = phonenumbers.parse(to_e164(raw, region))
        except InvalidPhoneNumber:
            raise InvalidRecipient(f"{raw!r} is not a valid phone number", raw=raw, channel=channel,
                                   reason="bad-number") from None
        kind = phonenumbers.number_type(parsed)
    e164 = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    if channel == NotifyChannel.SMS:
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
