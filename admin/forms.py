"""Form plumbing shared by every admin view: one CSRF scheme, enum choices, phone and time fields.

Flask-Admin's ``SecureForm`` uses WTForms' ``SessionCSRF``, whose token the
app-wide Flask-WTF ``CSRFProtect`` would reject (both use the field name
``csrf_token``). So every admin form (model forms, delete and action forms,
our own) uses Flask-WTF's CSRF instead: one token per session, checked by
``CSRFProtect`` before any view runs and again by the form. Flask-Admin's
translations are kept for the built-in messages.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from enum import Enum
from typing import Any

from flask_admin.babel import Translations as AdminTranslations
from flask_admin.contrib.sqla.filters import FilterConverter, FilterEmpty
from flask_admin.contrib.sqla.form import AdminModelConverter
from flask_admin.form import BaseForm
from flask_admin.model import filters
from flask_admin.model.form import converts
from flask_wtf import FlaskForm
from sqlalchemy import inspect
from wtforms import IntegerField
from wtforms.validators import NumberRange, ValidationError

from admin.i18n import lazy_gettext as _l
from admin.params import INT64_MAX, INT64_MIN, bounded_filter
from crm_core.exceptions import InvalidPhoneNumber
from crm_core.phones import to_e164
from crm_core.types import UTC, UTCDateTime


class AdminBaseForm(BaseForm):
    """Flask-Admin's base form with Flask-WTF's CSRF token (``form_base_class`` of every view)."""

    class Meta(FlaskForm.Meta):
        _admin_translations = AdminTranslations()

        def get_translations(self, form: Any) -> Any:
            return self._admin_translations


def enum_choices(values: Iterable[Enum]) -> list[tuple[str, str]]:
    """(value, label) pairs for a StrEnum, for ``form_choices``."""
    return [(str(v.value), str(v.value).replace("_", " ")) for v in values]


def e164_filter(value: str | None) -> str | None:
    """A WTForms filter: normalise a phone number to E.164, refusing what cannot be one."""
    if value is None or not str(value).strip():
        return value
    try:
        return to_e164(str(value))
    except InvalidPhoneNumber as exc:
        raise ValueError(exc.message) from None


def make_datetimes_aware(model: Any) -> None:
    """Attach UTC to the naive datetimes a form put into UTCDateTime columns (the UI works in UTC)."""
    mapper = inspect(type(model))
    for column_attr in mapper.column_attrs:
        column = column_attr.columns[0]
        if isinstance(column.type, UTCDateTime):
            value = getattr(model, column_attr.key, None)
            if isinstance(value, dt.datetime) and value.tzinfo is None:
                setattr(model, column_attr.key, value.replace(tzinfo=UTC))


class HotlineModelConverter(AdminModelConverter):
    """Flask-Admin's converter plus crm_core's column types (UTCDateTime is a TypeDecorator).

    Integer columns only take numbers a 64-bit column can hold (a form error, not a database error).
    """

    @converts("UTCDateTime")
    def convert_utc_datetime(self, field_args: Any, **extra: Any) -> Any:
        return self.convert_datetime(field_args, **extra)

    @converts("Integer")  # includes BigInteger and SmallInteger
    def handle_integer_types(self, column: Any, field_args: Any, **extra: Any) -> Any:
        field_args["validators"].append(NumberRange(INT64_MIN, INT64_MAX))
        return super().handle_integer_types(column, field_args, **extra)


class IdField(IntegerField):
    """A row id in a form: a whole number a 64-bit column can hold, else a field error."""

    def pre_validate(self, form: Any) -> None:
        if self.data is not None and not 1 <= self.data <= INT64_MAX:
            raise ValidationError(str(_l("Not a valid id.")))


class HotlineFilterConverter(FilterConverter):
    """Flask-Admin's filters for crm_core's column types; number filters refuse values no column can hold."""

    int_filters = tuple(f if f is FilterEmpty else bounded_filter(f) for f in FilterConverter.int_filters)
    float_filters = tuple(f if f is FilterEmpty else bounded_filter(f) for f in FilterConverter.float_filters)

    @filters.convert("utcdatetime")
    def conv_utc_datetime(self, column: Any, name: str, **kwargs: Any) -> Any:
        return self.conv_datetime(column, name, **kwargs)


class Translated:
    """Wrap a WTForms validator so its error is a plain ``str`` in the request's language.

    Flask-Admin's templates show a field error only when it is a ``str``; a
    lazy translation string would be silently dropped.
    """

    def __init__(self, validator: Any, message: Any) -> None:
        self.validator = validator
        self.message = message
        self.field_flags = getattr(validator, "field_flags", {})

    def __call__(self, form: Any, field: Any) -> None:
        try:
            self.validator(form, field)
        except ValidationError:
            raise ValidationError(str(self.message)) from None
