"""Capped row counts for list views over big tables (orders): the pager never COUNTs a million rows.

Flask-Admin counts the filtered list with ``SELECT count(*)`` for its pager,
which on a million orders costs more than the page itself. :class:`CappedCount`
wraps the count query Flask-Admin builds (it still receives every filter and
join) and counts at most ``cap + 1`` rows: ``SELECT count(*) FROM (SELECT 1
... LIMIT cap + 1)``, an index-only walk that stops early. Past the cap the
pager shows ``cap + 1`` rows' worth of pages, the usual "many" answer.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, literal_column

#: The default most rows a list counts.
COUNT_CAP = 10_000


class CappedCount:
    """A stand-in for Flask-Admin's count query whose ``scalar()`` stops counting at ``cap + 1``."""

    def __init__(self, query: Any, cap: int = COUNT_CAP) -> None:
        self.query = query
        self.cap = cap

    def __getattr__(self, name: str) -> Any:
        attr = getattr(self.query, name)
        if not callable(attr):
            return attr

        def wrapped(*args: Any, **kwargs: Any) -> Any:
            result = attr(*args, **kwargs)
            return CappedCount(result, self.cap) if type(result) is type(self.query) else result

        return wrapped

    def scalar(self) -> int:
        """The number of rows, or ``cap + 1`` when there are more than ``cap``."""
        limited = self.query.with_entities(literal_column("1")).limit(self.cap + 1).subquery()
        return int(self.query.session.query(func.count()).select_from(limited).scalar() or 0)
