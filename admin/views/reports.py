"""Reports page (admins, supervisors): date range, server-drawn SVG charts, tables, CSV export of each report.

The query functions live in :mod:`admin.reports` (all aggregation in SQL);
this view parses the range, runs them, labels the columns in the user's
language and hands the tables to :mod:`admin.charts`. ``/admin/reports/csv/<name>``
writes one report as UTF-8 CSV (with a BOM, so Excel opens Chinese text).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, current_app, request
from flask_admin import expose
from markupsafe import Markup
from sqlalchemy.orm import Session

from admin import charts
from admin.exports import safe_row
from admin.extensions import db
from admin.i18n import gettext, lazy_gettext as _l
from admin.labels import code_label
from admin.reports import Table, shared_results
from admin.reports.agents import agent_report
from admin.reports.business import complaints_by_category, ivr_options, ivr_products, messages_by_channel, \
    sales_by_media
from admin.reports.callbacks import callbacks_kept
from admin.reports.calls import abandons, daily_service, queue_summary, volume_by_hour
from admin.reports.ivr import ivr_containment, ivr_exit_nodes
from admin.reports.media import media_plans
from admin.reports.period import Period, PeriodError, local_today, parse_period
from admin.views.base import SecureBaseView

#: Minutes east of UTC the report days are counted in (China Standard Time unless configured).
DEFAULT_UTC_OFFSET_MINUTES = 480

COLUMN_LABELS: dict[str, Any] = {
    "hour": _l("Hour"), "day": _l("Day"), "queue": _l("Queue"), "sl_target_seconds": _l("SL target (s)"),
    "offered": _l("Offered"), "answered": _l("Answered"), "abandoned": _l("Abandoned"),
    "service_level": _l("Service level %"), "abandon_rate": _l("Abandon rate %"),
    "avg_abandon_wait": _l("Avg time to abandon (s)"), "asa": _l("ASA (s)"), "aht": _l("AHT (s)"),
    "acw": _l("After-call work (s)"), "agent": _l("Agent"), "name": _l("Name"),
    "staffed_seconds": _l("Staffed (s)"), "available_seconds": _l("Available (s)"), "talk_seconds": _l("Talk (s)"),
    "wrap_up_seconds": _l("Wrap-up (s)"), "not_ready_seconds": _l("Not ready / break (s)"),
    "occupancy": _l("Occupancy %"), "inbound_calls": _l("Inbound calls"),
    "inbound_talk_seconds": _l("Inbound talk (s)"), "outbound_calls": _l("Outbound calls"),
    "outbound_talk_seconds": _l("Outbound talk (s)"), "avg_talk_seconds": _l("Avg talk (s)"),
    "node": _l("Menu node"), "key": _l("Key"), "count": _l("Count"), "code": _l("Phone code"),
    "product": _l("Product"), "category": _l("Category"), "resolved": _l("Resolved"), "open": _l("Open"),
    "media_source": _l("Media source (DNIS)"), "orders": _l("Orders"), "revenue": _l("Revenue"),
    "average": _l("Average order"), "sms_inbound": _l("SMS in"), "sms_outbound": _l("SMS out"),
    "fax_inbound": _l("Fax in"), "fax_outbound": _l("Fax out"),
    "utilisation": _l("Utilisation %"), "calls": _l("Calls"), "contained": _l("Served in the IVR"),
    "to_agent": _l("To an agent"), "hung_up": _l("Ended by the IVR"), "containment": _l("Containment %"),
    "reached_ivr": _l("Reached the IVR"), "ivr_abandoned": _l("Hung up in the IVR"),
    "ivr_abandon_rate": _l("IVR abandon rate %"), "queued": _l("Queued"), "queue_abandoned": _l("Hung up in a queue"),
    "queue_abandon_rate": _l("Queue abandon rate %"), "media_plan": _l("Media plan"), "kind": _l("Kind"),
    "air_time": _l("Air time"), "requested": _l("Requested"), "kept": _l("Kept"), "met": _l("Met in time"),
    "failed": _l("Failed"), "kept_rate": _l("Kept %"), "met_rate": _l("Met %"),
}
#: Columns whose values are codes: shown as words in the user's language on the page (the CSV keeps the codes).
CODE_COLUMNS = frozenset({"category", "kind"})


@dataclass(frozen=True)
class Report:
    """One report: its query, its title and how it is drawn."""

    name: str
    title: Any
    query: Callable[..., Table]
    chart: Callable[[Table], Markup] | None = None


def _label(key: str) -> str:
    return str(COLUMN_LABELS.get(key, key))


def _no_data() -> str:
    return gettext("no data in this period")


def _stacked(table: Table, x: str, keys: list[str], title: Any, y: Any) -> Markup:
    return charts.stacked_bar_chart(str(title), [str(v) for v in table.column(x)],
                                    [(_label(k), table.column(k)) for k in keys], x_label=_label(x),
                                    y_label=str(y), no_data=_no_data())


def _volume_chart(table: Table) -> Markup:
    return _stacked(table, "hour", ["answered", "abandoned"], _l("Inbound calls by hour"), _l("Calls"))


def _service_chart(table: Table) -> Markup:
    return charts.line_chart(str(_l("Service level by day")), [d[5:] for d in table.column("day")],
                             [(_label("service_level"), table.column("service_level"))], x_label=_label("day"),
                             y_label="%", no_data=_no_data(), top=100)


def _agents_chart(table: Table) -> Markup:
    return _stacked(table, "agent", ["talk_seconds", "wrap_up_seconds", "available_seconds", "not_ready_seconds"],
                    _l("Agent time by state"), _l("Seconds"))


def _options_chart(table: Table) -> Markup:
    return charts.bar_chart(str(_l("IVR options chosen")),
                            [f"{n}:{k}" for n, k in zip(table.column("node"), table.column("key"))],
                            table.column("count"), x_label=str(_l("Menu node : key")), y_label=_label("count"),
                            no_data=_no_data())


def _products_chart(table: Table) -> Markup:
    return charts.bar_chart(str(_l("Product enquiries in the IVR")), [str(c) for c in table.column("code")],
                            table.column("count"), x_label=_label("code"), y_label=_label("count"),
                            no_data=_no_data())


def _complaints_chart(table: Table) -> Markup:
    return charts.stacked_bar_chart(str(_l("Complaints by category")),
                                    [code_label(c) for c in table.column("category")],
                                    [(_label("resolved"), table.column("resolved")),
                                     (_label("open"), table.column("open"))],
                                    x_label=_label("category"), y_label=_label("count"), no_data=_no_data())


def _sales_chart(table: Table) -> Markup:
    return charts.bar_chart(str(_l("Revenue by media source")), [str(s) for s in table.column("media_source")],
                            table.column("revenue"), x_label=_label("media_source"), y_label=_label("revenue"),
                            no_data=_no_data())


def _messages_chart(table: Table) -> Markup:
    return charts.stacked_bar_chart(str(_l("SMS and fax by day")), [d[5:] for d in table.column("day")],
                                    [(_label(k), table.column(k)) for k in table.columns[1:]],
                                    x_label=_label("day"), y_label=_label("count"), no_data=_no_data())


def _containment_chart(table: Table) -> Markup:
    days = table.rows[:-1]  # the last row is the whole period
    return charts.stacked_bar_chart(str(_l("Calls in the IVR by how they ended")), [str(r[0])[5:] for r in days],
                                    [(_label(k), [r[table.columns.index(k)] for r in days])
                                     for k in ("contained", "to_agent", "abandoned", "hung_up")],
                                    x_label=_label("day"), y_label=_label("calls"), no_data=_no_data())


def _media_chart(table: Table) -> Markup:
    totals: dict[str, float] = {}
    for row in table.rows:
        totals[str(row[0])] = totals.get(str(row[0]), 0.0) + float(row[5] or 0)
    return charts.bar_chart(str(_l("Revenue by media plan")), list(totals), list(totals.values()),
                            x_label=_label("media_plan"), y_label=_label("revenue"), no_data=_no_data())


REPORTS: tuple[Report, ...] = (
    Report("volume_by_hour", _l("Inbound volume by hour"), volume_by_hour, _volume_chart),
    Report("queue_summary", _l("Service level, ASA, abandonment and handle time by queue"), queue_summary),
    Report("daily_service", _l("Service level by day"), daily_service, _service_chart),
    Report("ivr_containment", _l("IVR containment"), ivr_containment, _containment_chart),
    Report("ivr_exit_nodes", _l("Where callers left the IVR"), ivr_exit_nodes),
    Report("abandons", _l("Abandoned calls: in the IVR and in queues"), abandons),
    Report("agents", _l("Agent occupancy, utilisation and calls"), agent_report, _agents_chart),
    Report("callbacks", _l("Callbacks kept and met"), callbacks_kept),
    Report("ivr_options", _l("IVR options"), ivr_options, _options_chart),
    Report("ivr_products", _l("IVR product enquiries"), ivr_products, _products_chart),
    Report("complaints", _l("Complaints by category"), complaints_by_category, _complaints_chart),
    Report("media_plans", _l("Calls, orders and revenue by media plan and air time"), media_plans, _media_chart),
    Report("sales_by_media", _l("Sales by media source (DNIS)"), sales_by_media, _sales_chart),
    Report("messages", _l("SMS and fax"), messages_by_channel, _messages_chart),
)
BY_NAME = {r.name: r for r in REPORTS}

PERIOD_ERRORS: dict[str, Any] = {
    "bad_date": _l("The %(which)s date %(value)s is not a date (use YYYY-MM-DD)."),
    "end_before_start": _l("The end date %(end)s is before the start date %(start)s."),
    "too_long": _l("The range covers %(days)s days; at most %(max)s are allowed."),
}


def utc_offset_minutes() -> int:
    """Minutes east of UTC of the report days: ``REPORTS_UTC_OFFSET_MINUTES`` if set, else the center's time zone
    (``CENTER_TIMEZONE``, the ``center.timezone`` setting) now, else China Standard Time."""
    config = current_app.config
    if config.get("REPORTS_UTC_OFFSET_MINUTES") is not None:
        return int(config["REPORTS_UTC_OFFSET_MINUTES"])
    zone = config.get("CENTER_TIMEZONE")
    if zone:
        offset = dt.datetime.now(dt.timezone.utc).astimezone(ZoneInfo(zone)).utcoffset() or dt.timedelta(0)
        return int(offset.total_seconds() // 60)
    return DEFAULT_UTC_OFFSET_MINUTES


def period_from_request() -> Period:
    """The period of ``?start=&end=`` (PeriodError with a message id when invalid)."""
    offset = utc_offset_minutes()
    return parse_period(request.args.get("start"), request.args.get("end"), today=local_today(offset),
                        utc_offset_minutes=offset)


def period_message(exc: PeriodError) -> str:
    """The translated message of a period error."""
    details = dict(exc.details)
    if "which" in details:
        details["which"] = gettext("start") if details["which"] == "start" else gettext("end")
    return str(PERIOD_ERRORS[exc.message_id]) % details


def display(value: Any, column: str | None = None) -> str:
    """A table cell: numbers with separators, None as a dash, codes as words."""
    if column in CODE_COLUMNS and isinstance(value, str):
        return code_label(value)
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.2f}".rstrip("0").rstrip(".") if not value.is_integer() else f"{value:,.0f}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def run(report: Report, period: Period) -> Table:
    """Run one report's query on the request's session."""
    return report.query(db.session, period)


#: Reports the page runs side by side on PostgreSQL, each group on its own pooled connection (the
#: three CDR reports share one aggregate, so they stay together); see :func:`run_all`.
PARALLEL_GROUPS: tuple[tuple[str, ...], ...] = (
    ("volume_by_hour", "queue_summary", "daily_service", "ivr_containment", "ivr_exit_nodes", "abandons"),
    ("agents", "callbacks"),
    ("ivr_options", "ivr_products", "complaints", "media_plans", "sales_by_media", "messages"),
)


def run_all(period: Period) -> dict[str, Table]:
    """Every report of the page, by name.

    On PostgreSQL (unless ``REPORTS_PARALLEL`` is false) the groups of :data:`PARALLEL_GROUPS`
    run at once, each in a short read-only session of its own: the page then takes about as
    long as its slowest group instead of the sum of all. Each statement already saw its own
    snapshot when they ran one after another (READ COMMITTED), so the figures mean the same.
    SQLite (one file, often one connection in tests) runs them one after another.
    """
    session = db.session
    if session.get_bind().dialect.name != "postgresql" or not current_app.config.get("REPORTS_PARALLEL", True):
        with shared_results(session):  # the CDR service figures are aggregated once for three reports
            return {report.name: run(report, period) for report in REPORTS}
    engine = db.engine

    def group(names: tuple[str, ...]) -> dict[str, Table]:
        with Session(bind=engine) as own, shared_results(own):
            try:
                return {name: BY_NAME[name].query(own, period) for name in names}
            finally:
                own.rollback()

    with ThreadPoolExecutor(max_workers=len(PARALLEL_GROUPS), thread_name_prefix="reports") as pool:
        tables: dict[str, Table] = {}
        for part in pool.map(group, PARALLEL_GROUPS):
            tables.update(part)
    return tables


class ReportsView(SecureBaseView):
    """Every report for one date range on one page, each with its chart, table and CSV link."""

    method_permissions = {"index": "view", "csv_view": "export"}

    @expose("/")
    def index(self) -> Any:
        try:
            period = period_from_request()
        except PeriodError as exc:
            fallback = parse_period(None, None, today=local_today(utc_offset_minutes()))
            return self.render("reports/index.html", error=period_message(exc), period=None, sections=[],
                               start=request.args.get("start", ""), end=request.args.get("end", ""),
                               default=fallback, labels=_label, display=display, can_export=False), 400
        tables = run_all(period)
        sections = []
        for report in REPORTS:
            table = tables[report.name]
            sections.append({"report": report, "table": table,
                             "chart": report.chart(table) if report.chart is not None else None})
        return self.render("reports/index.html", error=None, period=period, sections=sections,
                           start=period.first.isoformat(), end=period.last.isoformat(), default=period,
                           labels=_label, display=display, can_export=self.permitted("export"))

    @expose("/csv/<report_name>")
    def csv_view(self, report_name: str) -> Any:
        name = report_name
        report = BY_NAME.get(name)
        if report is None:
            return Response(gettext("No report named %(name)s.", name=name) + "\n", status=404,
                            mimetype="text/plain")
        try:
            period = period_from_request()
        except PeriodError as exc:
            return Response(period_message(exc) + "\n", status=400, mimetype="text/plain")
        table = run(report, period)
        return csv_response(table, f"{name}_{period.first.isoformat()}_{period.last.isoformat()}.csv")


def csv_text(table: Table) -> str:
    """The table as CSV text: a header of translated column names, then the rows (None as empty)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([_label(c) for c in table.columns])
    for row in table.rows:  # codes stay codes here: the export is data for other tools
        writer.writerow(safe_row("" if v is None else v for v in row))  # never a live formula
    return out.getvalue()


def csv_response(table: Table, filename: str) -> Response:
    """A download of the table as UTF-8 CSV with a BOM."""
    body = "\ufeff" + csv_text(table)
    response = Response(body.encode("utf-8"), mimetype="text/csv")
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


__all__ = ["REPORTS", "ReportsView", "csv_text"]
