"""Numbers from the request (ids, page numbers, filter values) checked before they reach SQL.

A database column holds a 64-bit integer at most: Python's sqlite3 raises
``OverflowError`` on anything larger and PostgreSQL refuses text where a
number belongs, and both used to surface as a 500. Three guards, all
installed by :func:`install` so every view gets them, including views added
later:

* ``<int:...>`` in a route only matches numbers that fit (``BoundedIntegerConverter``):
  a larger one is a 404 like any unknown address;
* :func:`int_arg` / :func:`parse_int` read a query or form number and answer
  a malformed or out-of-range one with a 400 naming the parameter; the model
  views (``admin.views.base``) check ``id``, ``page`` and the other list
  arguments with them before Flask-Admin runs;
* a last-resort handler turns an ``OverflowError`` or a database "bad value"
  error that still slips through into a 400 and logs where it came from, so
  the hole can be fixed.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from flask import Flask, current_app, has_request_context, jsonify, render_template, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import BadRequest, HTTPException
from werkzeug.routing import IntegerConverter

log = logging.getLogger(__name__)

#: The range of a signed 64-bit column (BIGINT; SQLite INTEGER).
INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1
#: Numbers in a request are written in at most this many characters (sign and digits).
_INT_RE = re.compile(r"^\s*[+-]?\d{1,19}\s*$")


class BadParameter(BadRequest):
    """A request parameter that is not the number it should be (a 400 naming it)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(description=f"{name}: {reason}")
        self.parameter = name


def parse_int(raw: Any, name: str, *, minimum: int | None = INT64_MIN, maximum: int | None = INT64_MAX) -> int:
    """``raw`` as an int within [minimum, maximum]; BadParameter (400) otherwise."""
    if isinstance(raw, bool):
        raise BadParameter(name, "expected a whole number")
    if isinstance(raw, int):
        value = raw
    else:
        text = str(raw)
        if not _INT_RE.match(text):
            raise BadParameter(name, "expected a whole number")
        value = int(text)
    low = INT64_MIN if minimum is None else minimum
    high = INT64_MAX if maximum is None else maximum
    if not low <= value <= high:
        raise BadParameter(name, f"out of range ({low}..{high})")
    return value


def int_arg(name: str, default: int | None = None, *, minimum: int | None = INT64_MIN,
            maximum: int | None = INT64_MAX, source: Any = None) -> int | None:
    """The query (or ``source``) parameter ``name`` as a checked int; ``default`` when absent or empty."""
    values = request.args if source is None else source
    raw = values.get(name)
    if raw is None or str(raw).strip() == "":
        return default
    return parse_int(raw, name, minimum=minimum, maximum=maximum)


def id_arg(name: str = "id", source: Any = None) -> int | None:
    """A row id from the query (or ``source``): a positive 64-bit number, None when absent."""
    return int_arg(name, None, minimum=1, source=source)


def check_ints(values: Any, names: dict[str, tuple[int | None, int | None]]) -> None:
    """Check each present parameter of ``values`` (every value of a repeated one) against its (min, max)."""
    for name, (low, high) in names.items():
        for raw in values.getlist(name) if hasattr(values, "getlist") else [values.get(name)]:
            if raw is not None and str(raw).strip() != "":
                parse_int(raw, name, minimum=low, maximum=high)


def fits_int64(value: Any) -> bool:
    """Whether ``value`` (an int or a list of ints) fits a 64-bit column."""
    if isinstance(value, (list, tuple)):
        return all(fits_int64(v) for v in value)
    return not isinstance(value, int) or INT64_MIN <= value <= INT64_MAX


class BoundedIntegerConverter(IntegerConverter):
    """``<int:...>`` that matches only numbers a 64-bit column can hold (others are a 404)."""

    def __init__(self, map: Any, fixed_digits: int = 0, min: int | None = None,  # noqa: A002 - werkzeug's names
                 max: int | None = None, signed: bool = False) -> None:
        super().__init__(map, fixed_digits=fixed_digits, min=min,
                         max=INT64_MAX if max is None else max, signed=signed)


def _bad_value(exc: Exception) -> Any:
    where = f"{request.method} {request.path}" if has_request_context() else "?"
    log.warning("bad request value reached the database at %s: %s", where, str(exc).splitlines()[0][:200])
    return _answer(BadRequest(description="a number or value in the request is out of range or malformed"))


def _answer(exc: HTTPException) -> Any:
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        return jsonify({"error": exc.description}), exc.code
    return render_template("errors/bad_request.html", reason=exc.description), exc.code


def install(app: Flask) -> None:
    """Bounded ``<int:>`` routes and the 400 handlers (call before any blueprint or view is registered)."""
    app.url_map.converters["int"] = BoundedIntegerConverter

    @app.errorhandler(BadParameter)
    def bad_parameter(exc: BadParameter) -> Any:
        return _answer(exc)

    @app.errorhandler(OverflowError)
    def overflow(exc: OverflowError) -> Any:
        return _bad_value(exc)

    @app.errorhandler(DataError)
    def data_error(exc: DataError) -> Any:
        try:
            from admin.extensions import db

            db.session.rollback()
        except Exception:  # the session may already be gone
            current_app.logger.debug("rollback after a bad value failed", exc_info=True)
        return _bad_value(exc)


#: Flask-Admin's list arguments and the values they may take (a page past the end is simply empty).
LIST_ARGS: dict[str, tuple[int | None, int | None]] = {
    "page": (0, 10**9), "page_size": (0, 10**5), "sort": (0, 10**4), "desc": (0, 1),
    "offset": (0, 10**12), "limit": (0, 10**5),
}


def check_model_request(model: Any) -> None:
    """Check a model view's request: list arguments, and ``id`` / ``rowid`` against the model's key (400 if bad)."""
    from sqlalchemy import inspect

    check_ints(request.args, LIST_ARGS)
    keys = inspect(model).primary_key
    if len(keys) != 1:
        return
    try:
        numeric = issubclass(keys[0].type.python_type, int)
    except NotImplementedError:
        numeric = False
    if numeric:
        for values in (request.args, request.form):
            check_ints(values, {"id": (INT64_MIN, INT64_MAX), "rowid": (INT64_MIN, INT64_MAX)})


def bounded_filter(filter_cls: type) -> type:
    """A Flask-Admin number filter whose values must fit a 64-bit column (others are flashed as invalid)."""
    import math

    def clean(self: Any, value: str) -> Any:
        cleaned = filter_cls.clean(self, value)
        for item in cleaned if isinstance(cleaned, list) else [cleaned]:
            if isinstance(item, float) and not math.isfinite(item):
                raise ValueError("not a finite number")
            if not fits_int64(item) or (isinstance(item, float) and abs(item) > 1e300):
                raise ValueError("out of range")
        return cleaned

    return type(f"Bounded{filter_cls.__name__}", (filter_cls,), {"clean": clean})
