"""The campaign manager's console: one page per campaign to start, pause, resume and stop it and watch it run,
its results page, and its CSV exports (attempts, survey answers).

* Status buttons are CSRF-protected POSTs that go through
  ``crm_core.services.campaigns.change_campaign_status`` with the logged-in
  user as the Actor (audited there); a move the life cycle refuses shows the
  service's message and changes nothing.
* Figures: the database's (``crm_core.services.campaign_progress``) at once,
  then, inside the engine, the SSE topic ``campaign:<id>`` that
  ``hotline.campaign_events.CampaignEvents`` pushes every two seconds with
  the dialer's live figures merged in. Without the engine (the admin app
  alone under WSGI) or without EventSource, the page polls ``figures`` (JSON)
  and says the live figures are unavailable.
* Exports stream (``admin.campaign_csv``): never a whole file in memory.
* "Send to every contact" queues one outbox message per contact (SMS, fax
  or e-mail, from a message template) through
  ``crm_core.services.campaign_messages.queue_campaign_messages``; its
  idempotency keys make a second click queue nothing twice, and the contacts
  it could not queue are listed with the reason.
"""

from __future__ import annotations

from typing import Any
from zoneinfo import ZoneInfo

from flask import Response, abort, current_app, flash, jsonify, redirect, stream_with_context, url_for
from flask_admin import expose
from flask_wtf import FlaskForm
from sqlalchemy import select
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length, Optional

from admin import audit
from admin.auth import stream_token
from admin.bridge import EngineUnavailable, engine_bridge
from admin.campaign_csv import answer_rows, attempt_rows, csv_stream, survey_questions
from admin.extensions import db
from admin.i18n import gettext, lazy_gettext as _l
from admin.views.base import SecureBaseView
from admin.views.campaign_contacts import committed
from admin.views.campaigns import STATUS_BADGES, actor, next_statuses
from crm_core.enums import CampaignStatus, NotifyChannel
from crm_core.models import Campaign, MessageTemplate
from crm_core.services.campaign_messages import queue_campaign_messages
from crm_core.services.campaign_progress import campaign_progress, campaign_results
from crm_core.services.campaigns import change_campaign_status

#: The console's buttons -> the status each asks for.
ACTIONS = {"start": CampaignStatus.RUNNING.value, "pause": CampaignStatus.PAUSED.value,
           "resume": CampaignStatus.RUNNING.value, "stop": CampaignStatus.STOPPED.value}
TOPIC_PREFIX = "campaign:"
EVENT = "figures"  # hotline.campaign_events.EVENT (admin does not import hotline)
POLL_SECONDS = 5
#: the channels a campaign blast may use (voice messages are the dialer's work)
BLAST_CHANNELS = (NotifyChannel.SMS.value, NotifyChannel.FAX.value, NotifyChannel.EMAIL.value)
#: refusals listed after a blast; the rest are counted
SHOWN_REFUSALS = 5


def campaign_topic(campaign_id: int) -> str:
    return f"{TOPIC_PREFIX}{campaign_id}"


class ActionForm(FlaskForm):
    action = SelectField(_l("Action"), choices=[(a, a) for a in ACTIONS],
                         validators=[DataRequired(_l("Choose start, pause, resume or stop."))])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=200)])


class MessagesForm(FlaskForm):
    channel = SelectField(_l("Channel"), choices=[(c, c) for c in BLAST_CHANNELS],
                          validators=[DataRequired(_l("Choose SMS, fax or e-mail."))])
    template = SelectField(_l("Message template"), validators=[DataRequired(_l("Choose a template."))])
    language = SelectField(_l("Language (for contacts who are not customers)"),
                           choices=[("zh", "中文"), ("en", "English")], default="zh")


def flash_form_errors(form: FlaskForm) -> None:
    """One message naming every field the form refused and why."""
    problems = "; ".join(f"{name}: {', '.join(str(m) for m in messages)}" for name, messages in form.errors.items())
    flash(gettext("Check the form: %(errors)s", errors=problems), "error")


def template_choices() -> list[tuple[str, str]]:
    """Every template name, with the channels it exists on (a blast needs the name on the chosen channel)."""
    rows = db.session.execute(select(MessageTemplate.name, MessageTemplate.channel).distinct()
                              .where(MessageTemplate.channel.in_(BLAST_CHANNELS))
                              .order_by(MessageTemplate.name, MessageTemplate.channel)).all()
    channels: dict[str, list[str]] = {}
    for name, channel in rows:
        channels.setdefault(name, []).append(channel)
    return [(name, f"{name} ({', '.join(found)})") for name, found in channels.items()]


def messages_form() -> MessagesForm:
    form = MessagesForm()
    form.template.choices = template_choices()
    return form


def offered_actions(status: str) -> list[str]:
    """The buttons a campaign in ``status`` shows (the moves the life cycle allows)."""
    allowed = set(next_statuses(status))
    out = []
    if CampaignStatus.RUNNING.value in allowed:
        out.append("resume" if status == CampaignStatus.PAUSED.value else "start")
    if CampaignStatus.PAUSED.value in allowed:
        out.append("pause")
    if CampaignStatus.STOPPED.value in allowed:
        out.append("stop")
    return out


def live_figures(campaign_id: int) -> dict[str, Any] | None:
    """The running dialer's live figures through the engine bridge; None without the engine or its dialer.

    Ends this request's transaction first (on SQLite it would hold the lock the engine's pool may need)."""
    try:
        bridge = engine_bridge()
        events = bridge.service("campaign_events")
    except EngineUnavailable:
        return None
    db.session.commit()
    return bridge.call(events.live, campaign_id)


def figures_document(campaign_id: int) -> dict[str, Any]:
    """What the page renders and the JSON fallback returns: database figures plus ``live`` (or None)."""
    figures = campaign_progress(db.session, campaign_id)
    return {**figures, "live": live_figures(campaign_id)}


class CampaignConsoleView(SecureBaseView):
    """Admins and campaign managers: the list of campaigns, each campaign's console, results and exports."""

    method_permissions = {"index": "view", "console": "view", "figures": "view", "results": "view",
                          "action": "status", "attempts_csv": "export", "answers_csv": "export",
                          "messages": "message"}

    def campaign_or_404(self, campaign_id: int) -> Campaign:
        campaign = db.session.get(Campaign, campaign_id)
        if campaign is None:
            abort(404)
        return campaign

    @expose("/")
    def index(self) -> Any:
        campaigns = list(db.session.scalars(select(Campaign).order_by(Campaign.id.desc()).limit(500)))
        return self.render("campaigns/console_index.html", campaigns=campaigns, badges=STATUS_BADGES)

    @expose("/<int:campaign_id>/")
    def console(self, campaign_id: int) -> Any:
        return self._render_console(self.campaign_or_404(campaign_id), ActionForm())

    def _render_console(self, campaign: Campaign, form: ActionForm, status: int = 200,
                        blast: MessagesForm | None = None) -> Any:
        figures = figures_document(campaign.id)
        can_message = self.permitted("message")
        token = stream_token([campaign_topic(campaign.id)]) if figures["live"] is not None else None
        return self.render("campaigns/console.html", campaign=campaign, figures=figures, form=form,
                           actions=offered_actions(campaign.status), badges=STATUS_BADGES, token=token,
                           topic=campaign_topic(campaign.id), event=EVENT, poll_seconds=POLL_SECONDS,
                           can_export=self.permitted("export"), can_act=self.permitted("status"),
                           can_message=can_message, blast=blast or (messages_form() if can_message else None),
                           status_labels={s.value: gettext(s.value) for s in CampaignStatus}), status

    @expose("/<int:campaign_id>/figures")
    def figures(self, campaign_id: int) -> Any:
        """The figures as JSON: the page's fallback when the event stream is not available."""
        self.campaign_or_404(campaign_id)
        return jsonify(figures_document(campaign_id))

    @expose("/<int:campaign_id>/action", methods=("POST",))
    def action(self, campaign_id: int) -> Any:
        campaign = self.campaign_or_404(campaign_id)
        form = ActionForm()
        if not form.validate():
            flash_form_errors(form)
            return self._render_console(campaign, form, 400)
        target = ACTIONS[form.action.data]
        name = campaign.name
        change = committed(lambda: change_campaign_status(db.session, campaign_id, target, actor=actor(),
                                                          reason=form.reason.data or None))
        if change is None:  # refused: committed() rolled back and flashed the service's message
            return self._render_console(self.campaign_or_404(campaign_id), form, 409)
        flash(gettext("Campaign %(name)s is now %(status)s.", name=name, status=gettext(target)), "success")
        if change.contacts_added:
            flash(gettext("Segment evaluated: %(counts)s", counts=", ".join(
                f"{k} {v}" for k, v in change.contacts_added.items())), "info")
        return redirect(url_for(".console", campaign_id=campaign_id), 303)

    @expose("/<int:campaign_id>/messages", methods=("POST",))
    def messages(self, campaign_id: int) -> Any:
        """Queue the chosen template on the chosen channel for every contact not skipped."""
        campaign = self.campaign_or_404(campaign_id)
        form = messages_form()
        if not form.validate():
            flash_form_errors(form)
            return self._render_console(campaign, ActionForm(formdata=None), 400, blast=form)
        channel, template = form.channel.data, form.template.data
        exists = db.session.scalar(select(MessageTemplate.id).where(MessageTemplate.name == template,
                                                                   MessageTemplate.channel == channel).limit(1))
        if exists is None:
            flash(gettext("There is no %(channel)s template named %(name)s.", channel=channel, name=template),
                  "error")
            return self._render_console(campaign, ActionForm(formdata=None), 400, blast=form)
        by = actor().name

        def queue() -> Any:
            queued = queue_campaign_messages(db.session, campaign_id, channel, template=template,
                                             language=form.language.data, by=by)
            audit.record("campaign-messages", "campaigns", campaign_id, {
                "channel": channel, "template": template, "queued": queued.created,
                "already_queued": queued.duplicates, "refused": len(queued.refused)})
            return queued

        result = committed(queue)
        if result is None:
            return self._render_console(self.campaign_or_404(campaign_id), ActionForm(formdata=None), 409,
                                        blast=form)
        flash(gettext("%(channel)s: %(created)s messages queued, %(duplicates)s already queued before, "
                      "%(refused)s not queued.", channel=channel, created=result.created,
                      duplicates=result.duplicates, refused=len(result.refused)),
              "success" if not result.refused else "warning")
        for _index, reason in result.refused[:SHOWN_REFUSALS]:
            flash(gettext("Not queued: %(reason)s", reason=reason), "warning")
        return redirect(url_for(".console", campaign_id=campaign_id), 303)

    @expose("/<int:campaign_id>/results")
    def results(self, campaign_id: int) -> Any:
        campaign = self.campaign_or_404(campaign_id)
        return self.render("campaigns/results.html", campaign=campaign,
                           results=campaign_results(db.session, campaign_id), can_export=self.permitted("export"))

    def _zone(self) -> ZoneInfo:
        try:
            return ZoneInfo(current_app.config.get("CENTER_TIMEZONE") or "Asia/Shanghai")
        except (ValueError, KeyError):
            return ZoneInfo("Asia/Shanghai")

    def _download(self, chunks: Any, filename: str) -> Response:
        response = Response(stream_with_context(chunks), mimetype="text/csv")
        response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        response.headers["Cache-Control"] = "no-store"
        return response

    @expose("/<int:campaign_id>/attempts.csv")
    def attempts_csv(self, campaign_id: int) -> Any:
        self.campaign_or_404(campaign_id)
        zone = self._zone()
        questions = survey_questions(db.session, campaign_id)
        header = [gettext("Attempt"), gettext("Contact"), gettext("Number"),
                  gettext("Time (%(zone)s)", zone=zone.key), gettext("Mode"), gettext("Result"),
                  gettext("Hang-up cause"), gettext("Agent"), gettext("Wait to agent (s)"), gettext("Talk (s)"),
                  gettext("Call (CDR) uuid")] + [gettext("Survey: %(key)s", key=key) for _qid, key in questions]
        rows = attempt_rows(db.session, campaign_id, zone, questions)
        return self._download(csv_stream(header, rows), f"campaign-{campaign_id}-attempts.csv")

    @expose("/<int:campaign_id>/answers.csv")
    def answers_csv(self, campaign_id: int) -> Any:
        self.campaign_or_404(campaign_id)
        zone = self._zone()
        header = [gettext("Attempt"), gettext("Contact"), gettext("Number"), gettext("Question"),
                  gettext("Prompt"), gettext("Answer"), gettext("Time (%(zone)s)", zone=zone.key)]
        rows = answer_rows(db.session, campaign_id, zone)
        return self._download(csv_stream(header, rows), f"campaign-{campaign_id}-answers.csv")


__all__ = ["ACTIONS", "CampaignConsoleView", "campaign_topic", "figures_document", "offered_actions"]
