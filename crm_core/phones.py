"""Phone numbers to E.164, whatever shape the network or a person gave them in.

Caller IDs arrive as ``13812345678``, ``013812345678``, ``8613812345678``,
``+86 138-1234-5678`` or ``tel:+86...``; every lookup and every stored number
goes through ``to_e164`` so they all meet on one key.
"""

from __future__ import annotations

import phonenumbers

from crm_core.exceptions import InvalidPhoneNumber

DEFAULT_REGION = "CN"


def to_e164(raw: str | None, region: str = DEFAULT_REGION) -> str:
    """The number in E.164 (``+8613812345678``); InvalidPhoneNumber when it cannot be one."""
    if raw is None:
        raise InvalidPhoneNumber("no phone number given", raw=raw)
    text = raw.strip()
    for prefix in ("tel:", "sip:"):
        if text.lower().startswith(prefix):
            text = text[len(prefix) :].split("@", 1)[0]
    if text.startswith("00"):
        text = "+" + text[2:]
    try:
        parsed = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException:
        parsed = None
    if parsed is not None and phonenumbers.is_valid_number(parsed):
        return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    # Caller IDs sometimes carry a foreign country code without '+'. Only read them
    # that way when the digits cannot be a national number here: an invalid
    # 11-digit "154..." is a mistyped Chinese mobile, not an Oregon number.
    digits = "".join(ch for ch in text if ch.isdigit())
    if digits and not text.startswith("+") and (parsed is None or not phonenumbers.is_possible_number(parsed)):
        try:
            foreign = phonenumbers.parse("+" + digits, region)
        except phonenumbers.NumberParseException:
            foreign = None
        if foreign is not None and phonenumbers.is_valid_number(foreign):
            return phonenumbers.format_number(foreign, phonenumbers.PhoneNumberFormat.E164)
    raise InvalidPhoneNumber(f"{raw!r} is not a valid phone number", raw=raw, region=region)


def try_e164(raw: str | None, region: str = DEFAULT_REGION) -> str | None:
    """Like ``to_e164`` but None for anonymous or garbled caller IDs."""
    try:
        return to_e164(raw, region)
    except InvalidPhoneNumber:
        return None


def national_digits(e164: str, region: str = DEFAULT_REGION) -> str:
    """The number as dialled inside its country, digits only (``+8613812345678`` -> ``13812345678``,
    ``+861012345678`` -> ``01012345678``); a foreign number keeps ``00`` and its country code."""
    parsed = phonenumbers.parse(e164, region)
    if phonenumbers.region_code_for_number(parsed) == region or parsed.country_code == \
            phonenumbers.country_code_for_region(region):
        text = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
        return "".join(ch for ch in text if ch.isdigit())
    return "00" + e164.lstrip("+")
