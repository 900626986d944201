"""How many SMS parts a text takes: GSM-7 when every character is in the GSM 03.38 alphabet, else UCS-2.

GSM-7: 160 septets in one part, 153 per part once concatenated (the UDH takes
the rest); characters of the extension table (``€ [ ] { } ^ ~ | \\``) cost two.
UCS-2 (any Chinese text): 70 UTF-16 units in one part, 67 per concatenated
part; characters outside the BMP (emoji) are two units. What the operator
bills and what the SMPP adapter splits must agree with this.
"""

from __future__ import annotations

from dataclasses import dataclass

GSM7_BASIC = ("@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
              "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")
GSM7_EXTENSION = "\f^{}\\[~]|€"
_BASIC = frozenset(GSM7_BASIC) - {"\x1b"}
_EXTENSION = frozenset(GSM7_EXTENSION)

GSM7_SINGLE, GSM7_MULTI = 160, 153
UCS2_SINGLE, UCS2_MULTI = 70, 67


@dataclass(frozen=True)
class SmsSize:
    """The encoding, length in its units (septets or UTF-16 units) and number of parts of a text."""

    encoding: str  # "gsm7" or "ucs2"
    units: int
    segments: int

    @property
    def per_segment(self) -> int:
        """Units one part holds at this length (single or concatenated)."""
        single, multi = (GSM7_SINGLE, GSM7_MULTI) if self.encoding == "gsm7" else (UCS2_SINGLE, UCS2_MULTI)
        return single if self.segments <= 1 else multi


def is_gsm7(text: str) -> bool:
    """True when every character has a GSM 03.38 code (basic or extension table)."""
    return all(c in _BASIC or c in _EXTENSION for c in text)


def sms_size(text: str) -> SmsSize:
    """Encoding, units and parts of ``text`` (an empty text is one part)."""
    if is_gsm7(text):
        units = sum(2 if c in _EXTENSION else 1 for c in text)
        single, multi, encoding = GSM7_SINGLE, GSM7_MULTI, "gsm7"
    else:
        units = len(text.encode("utf-16-be")) // 2
        single, multi, encoding = UCS2_SINGLE, UCS2_MULTI, "ucs2"
    segments = 1 if units <= single else -(-units // multi)
    return SmsSize(encoding, units, segments)


def sms_segments(text: str) -> int:
    """Number of SMS parts ``text`` takes."""
    return sms_size(text).segments
