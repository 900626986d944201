"""Marketing: media plans (which DNIS an ad shows, where and when it airs)."""

from __future__ import annotations

from flask_admin.model.form import InlineFormAdmin
from wtforms.validators import NumberRange, Optional

from admin.forms import enum_choices
from admin.i18n import lazy_gettext as _l
from admin.views.base import SecureModelView
from admin.views.formatting import fmt_money
from crm_core.enums import MediaKind
from crm_core.models import MediaAirTime


class AirTimeInline(InlineFormAdmin):
    form_columns = ("id", "starts_at", "ends_at")
    form_label = _l("Air time")


class MediaPlanView(SecureModelView):
    column_list = ("name", "kind", "dnis", "outlet", "budget", "active")
    column_formatters = {"budget": fmt_money}
    column_searchable_list = ("name", "dnis", "outlet")
    column_filters = ("kind", "active", "dnis")
    column_sortable_list = ("name", "dnis")
    column_default_sort = ("id", True)
    form_columns = ("name", "kind", "dnis", "outlet", "budget", "active", "air_times")
    form_choices = {"kind": enum_choices(MediaKind)}
    form_args = {"budget": {"validators": [Optional(), NumberRange(min=0)]}}
    inline_models = (AirTimeInline(MediaAirTime),)
