"""Calling out through FreeSWITCH for fax and voice messages: dial strings, channel uuids, hang-up causes.

A number is stored in E.164; a carrier trunk may want it as dialled
nationally. The dial-string template says which: ``{national}`` (e.g.
``02112345678``), ``{digits}`` (``862112345678``) or ``{e164}``
(``+862112345678``). Each attempt of a message gets a channel uuid derived
from its idempotency key and attempt number, so after a restart the engine
can ask the switch whether the previous attempt's call is still up.
Hang-up causes sort into worth-retrying (busy, no answer, congestion) and
hopeless (the number does not exist).
"""

from __future__ import annotations

import uuid

import phonenumbers

from messaging.channels.base import PermanentSendError, TransientSendError

#: Channel uuids of outbox calls: uuid5 of "<idempotency key>:<attempt>" in this namespace.
OUTBOX_NAMESPACE = uuid.UUID("7b1f0c0e-5e2b-4c2a-9a57-6f0d2f1a9c11")

#: Causes that say the number itself is wrong: retrying cannot help.
HOPELESS_CAUSES = frozenset({"UNALLOCATED_NUMBER", "NO_ROUTE_DESTINATION", "INVALID_NUMBER_FORMAT",
                             "NUMBER_CHANGED", "INCOMPATIBLE_DESTINATION", "CHAN_NOT_IMPLEMENTED",
                             "BEARERCAPABILITY_NOTIMPL", "FACILITY_NOT_IMPLEMENTED"})


def dial_string(template: str, e164: str) -> str:
    """The dial string for ``e164`` from a template with ``{national}``, ``{digits}`` or ``{e164}``."""
    try:
        parsed = phonenumbers.parse(e164)
        national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    except phonenumbers.NumberParseException:
        national = e164
    national_digits = "".join(c for c in national if c.isdigit())
    try:
        return template.format(national=national_digits, digits=e164.lstrip("+"), e164=e164)
    except (KeyError, IndexError) as exc:
        raise PermanentSendError(f"dial string template {template!r} has an unknown field {exc}") from None


def attempt_uuid(key: str, attempt: int) -> str:
    """The channel uuid of attempt ``attempt`` of the message with idempotency key ``key``."""
    return str(uuid.uuid5(OUTBOX_NAMESPACE, f"{key}:{attempt}"))


def originate_error(cause_text: str) -> Exception:
    """A failed originate (``-ERR USER_BUSY``) as a transient or permanent send error."""
    cause = cause_text.strip().removeprefix("-ERR").strip().split()[0] if cause_text.strip() else "UNKNOWN"
    if cause in HOPELESS_CAUSES:
        return PermanentSendError(f"call failed: {cause}", result={"hangup_cause": cause})
    return TransientSendError(f"call failed: {cause}", result={"hangup_cause": cause})
