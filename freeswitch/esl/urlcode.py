"""FreeSWITCH's own URL encoding of ESL header values.

FreeSWITCH does not use RFC 3986: it escapes control bytes, bytes above 0x7E
and the set `` \\r\\n #%&+:;<=>?@[\\]^`{|}"``, in upper-case hex, and leaves a
``%`` alone when two hex digits already follow it (so encoding is lossy:
``100%41`` decodes to ``100A``). The captures in ``tests/data/fs-traces.tar.xz`` show it.
Both the client (decoding) and the simulator (encoding) use this module so the
two sides agree byte for byte with a real switch.
"""

from __future__ import annotations

import re
from urllib.parse import unquote

_ESCAPED = frozenset(b' \r\n#%&+:;<=>?@[\\]^`{|}"')
_HEX = frozenset(b"0123456789abcdefABCDEF")

# One table lookup per byte keeps encoding cheap in the simulator's hot path.
_TABLE: list[str] = []
for _byte in range(256):
    if _byte < 0x20 or _byte > 0x7E or _byte in _ESCAPED:
        _TABLE.append("%%%02X" % _byte)
    else:
        _TABLE.append(chr(_byte))

_NEEDS_ESCAPE = re.compile(r'[^\x21-\x7e]|[#%&+:;<=>?@\[\\\]^`{|}"]')


#: Memo of encoded values: the simulator encodes ~115 headers per event, most
#: of them the same channel variables on every event of a call.
_ENCODED: dict[str, str] = {}
_ENCODED_ENTRIES = 4096
_ENCODED_MAX_LEN = 256


def fs_url_encode(value: str) -> str:
    """Encode a header value exactly as FreeSWITCH's ``switch_url_encode`` does."""
    hit = _ENCODED.get(value)
    if hit is not None:
        return hit
    encoded = _encode(value)
    if len(value) <= _ENCODED_MAX_LEN:
        if len(_ENCODED) >= _ENCODED_ENTRIES:
            _ENCODED.clear()
        _ENCODED[value] = encoded
    return encoded


def _encode(value: str) -> str:
    if not _NEEDS_ESCAPE.search(value):
        return value
    data = value.encode("utf-8")
    out: list[str] = []
    length = len(data)
    i = 0
    while i < length:
        byte = data[i]
        if (
            byte == 0x25  # '%'
            and i + 2 < length
            and data[i + 1] in _HEX
            and data[i + 2] in _HEX
        ):
            out.append("%")
        else:
            out.append(_TABLE[byte])
        i += 1
    return "".join(out)


def fs_url_decode(value: str) -> str:
    """Decode a URL-encoded header value (invalid escapes are kept verbatim)."""
    if "%" not in value:
        return value
    return unquote(value, errors="replace")
