"""Reading the CSRF token out of an admin page (shared by the admin tests).

Its own module, not conftest: ``import conftest`` resolves to whichever
conftest pytest imported first when several test folders run together.
"""

from __future__ import annotations

import re

CSRF_RE = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"|name="csrf_token" value="([^"]+)"')


def csrf_from(html: str) -> str:
    """The CSRF token in a page."""
    match = CSRF_RE.search(html)
    assert match, "no csrf_token in the page"
    return match.group(1) or match.group(2)
