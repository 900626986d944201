"""The campaign console: roles, start / pause / resume / stop through the life-cycle service (audited, CSRF,
illegal moves refused with the service's message), figures from the database without the engine and with the
dialer's live figures through the engine bridge, the results page, and the streamed CSV exports (formula cells
neutralised, BOM, Chinese intact)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

import pytest
from sqlalchemy import select

import factories
from admin.bridge import EngineUnavailable
from crm_core.models import (
    Agent,
    AuditEntry,
    Campaign,
    CampaignAnswer,
    CampaignAttempt,
    CampaignContact,
    CampaignQuestion,
)

UTC = dt.timezone.utc
CONSOLE = "/admin/campaign_console"


def make_campaign(dbs, *, status: str = "draft", contacts: int = 2, **extra: Any) -> Campaign:
    campaign = Campaign(name=f"Care call {factories.next_serial()}", status=status, caller_id="+864008001234",
                        **extra)
    dbs.add(campaign)
    dbs.flush()
    for _ in range(contacts):
        dbs.add(CampaignContact(campaign_id=campaign.id, number=f"+86{factories.new_mobile()}"))
    dbs.commit()
    return campaign


def status_of(dbs, campaign_id: int) -> str:
    dbs.reread()
    return dbs.get(Campaign, campaign_id).status


@pytest.fixture
def campaign(dbs):
    return make_campaign(dbs)


@pytest.fixture(scope="module")
def manager(as_role):
    return as_role("campaign")


# -- roles -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("username, expected", [("admin", 200), ("campaign", 200), ("supervisor", 403),
                                                ("agent", 403)])
def test_console_results_and_exports_only_for_admins_and_campaign_managers(as_role, campaign, username, expected):
    client = as_role(username).client
    for path in ("/", f"/{campaign.id}/", f"/{campaign.id}/figures", f"/{campaign.id}/results",
                 f"/{campaign.id}/attempts.csv", f"/{campaign.id}/answers.csv"):
        response = client.get(CONSOLE + path)
        response.close()
        assert response.status_code == expected, path


def test_others_cannot_move_a_campaign(as_role, dbs, campaign):
    for username in ("supervisor", "agent"):
        response = as_role(username).post(f"{CONSOLE}/{campaign.id}/action", {"action": "start"})
        assert response.status_code == 403
    assert status_of(dbs, campaign.id) == "draft"


def test_anonymous_visitor_goes_to_the_login_page(client, campaign):
    response = client.get(f"{CONSOLE}/{campaign.id}/")
    assert response.status_code == 302 and response.location.startswith("/login?next=")


@pytest.mark.parametrize("path", ["/{id}/", "/{id}/figures", "/{id}/results", "/{id}/attempts.csv",
                                  "/{id}/answers.csv"])
def test_unknown_campaign_is_a_404(manager, path):
    assert manager.client.get(CONSOLE + path.format(id=987654321)).status_code == 404


def test_unknown_campaign_action_is_a_404(manager):
    assert manager.post(f"{CONSOLE}/987654321/action", {"action": "start"}).status_code == 404


def test_the_campaign_list_links_each_console(manager, campaign):
    page = manager.client.get(f"{CONSOLE}/?lang=en")
    assert page.status_code == 200 and f"{CONSOLE}/{campaign.id}/" in page.text
    listing = manager.client.get("/admin/campaigns/?lang=en")
    assert f"{CONSOLE}/{campaign.id}/" in listing.text


# -- status moves ----------------------------------------------------------------------------------------

def test_start_pause_resume_stop_go_through_the_service_and_are_audited(manager, dbs, campaign):
    page = manager.client.get(f"{CONSOLE}/{campaign.id}/?lang=en")
    assert 'id="cc-start"' in page.text and 'id="cc-pause"' not in page.text
    for action, expected, button in [("start", "running", "cc-pause"), ("pause", "paused", "cc-resume"),
                                     ("resume", "running", "cc-stop"), ("stop", "stopped", "cc-final")]:
        response = manager.post(f"{CONSOLE}/{campaign.id}/action?lang=en", {"action": action, "reason": "测试"})
        assert response.status_code == 303, response.text
        assert status_of(dbs, campaign.id) == expected
        page = manager.client.get(response.location)
        assert f'id="{button}"' in page.text, action
    entries = dbs.scalars(select(AuditEntry).where(AuditEntry.model == "campaigns",
                                                   AuditEntry.pk == str(campaign.id),
                                                   AuditEntry.action == "campaign-status")
                          .order_by(AuditEntry.id)).all()
    assert [(e.changes["from"], e.changes["to"], e.changes["reason"], e.username) for e in entries] == [
        ("draft", "running", "测试", "campaign"), ("running", "paused", "测试", "campaign"),
        ("paused", "running", "测试", "campaign"), ("running", "stopped", "测试", "campaign")]


def test_an_illegal_move_shows_the_services_message_and_changes_nothing(manager, dbs, campaign):
    response = manager.post(f"{CONSOLE}/{campaign.id}/action?lang=en", {"action": "pause"})
    assert response.status_code == 409
    assert "cannot go from draft to paused" in response.text
    assert status_of(dbs, campaign.id) == "draft"


def test_starting_without_contacts_is_refused_with_the_reason(manager, dbs):
    empty = make_campaign(dbs, contacts=0)
    response = manager.post(f"{CONSOLE}/{empty.id}/action?lang=en", {"action": "start"})
    assert response.status_code == 409 and "no contacts to call" in response.text
    assert status_of(dbs, empty.id) == "draft"


def test_a_post_without_the_csrf_token_is_refused(manager, dbs, campaign):
    response = manager.client.post(f"{CONSOLE}/{campaign.id}/action", data={"action": "start"})
    assert response.status_code == 400
    assert status_of(dbs, campaign.id) == "draft"


@pytest.mark.parametrize("data, message", [
    ({"action": "explode"}, "Not a valid choice"),
    ({}, "action"),
    ({"action": "start", "reason": "x" * 201}, "reason"),
])
def test_bad_or_missing_fields_are_a_400_with_the_reason(manager, dbs, campaign, data, message):
    response = manager.post(f"{CONSOLE}/{campaign.id}/action?lang=en", data)
    assert response.status_code == 400
    assert "Check the form" in response.text and message in response.text
    assert status_of(dbs, campaign.id) == "draft"


# -- figures ----------------------------------------------------------------------------------------------

def seed_attempts(dbs, campaign: Campaign, *, agent: Agent | None = None) -> list[CampaignContact]:
    now = dt.datetime.now(UTC)
    contacts = list(dbs.scalars(select(CampaignContact).where(CampaignContact.campaign_id == campaign.id)
                                .order_by(CampaignContact.id)))
    plan = [("answered", True), ("abandoned", False), ("no_answer", False), ("blocked_dnc", False)]
    for contact, (result, connected) in zip(contacts, plan):
        dbs.add(CampaignAttempt(
            campaign_id=campaign.id, contact_id=contact.id, number=contact.number, mode="predictive",
            started_at=now - dt.timedelta(minutes=2), answered_at=now if result in ("answered", "abandoned") else None,
            connected_at=now if connected else None, ended_at=now, result=result, hangup_cause="NORMAL_CLEARING",
            agent_id=agent.id if (agent is not None and connected) else None,
            wait_to_agent_seconds=0.8 if connected else None, talk_seconds=42.5 if connected else None))
        contact.status = "done"
    dbs.commit()
    return contacts


def test_without_the_engine_the_console_shows_database_figures_and_polls_json(manager, dbs):
    campaign = make_campaign(dbs, status="running", contacts=5)
    seed_attempts(dbs, campaign)
    page = manager.client.get(f"{CONSOLE}/{campaign.id}/?lang=en")
    assert page.status_code == 200
    assert 'id="cc-not-live"' in page.text and "Live figures are unavailable" in page.text
    assert "new EventSource" not in page.text and f"{CONSOLE}/{campaign.id}/figures" in page.text
    assert 'data-field="dialled">3<' in page.text  # blocked attempts were never dialled
    doc = manager.client.get(f"{CONSOLE}/{campaign.id}/figures").get_json()
    assert doc["live"] is None
    assert (doc["dialled"], doc["answered"], doc["connected"], doc["abandoned"], doc["abandon_percent"]) == \
        (3, 2, 1, 1, 50.0)
    assert doc["remaining"] == 1 and doc["status"] == "running" and doc["pace_per_minute"] == 0.6


class FakeCampaignEvents:
    def __init__(self) -> None:
        self.asked: list[int] = []

    def live(self, campaign_id: int) -> dict[str, Any]:
        self.asked.append(campaign_id)
        return {"active": True, "in_flight": 4, "ringing": 3, "last_decision": 2, "target": 0.0225,
                "abandon_rate": 0.012, "agents": 6}


class InlineBridge:
    """``EngineBridge`` without a reactor: calls run here; an unknown service is EngineUnavailable, as in the
    engine."""

    def __init__(self, services: dict[str, Any]) -> None:
        self.services, self.hub = services, None

    def service(self, name: str) -> Any:
        if name not in self.services:
            raise EngineUnavailable(f"the engine has no {name} service")
        return self.services[name]

    def call(self, fn: Any, *args: Any, **kwargs: Any) -> Any:
        from twisted.internet import defer

        result = fn(*args, **kwargs)
        if isinstance(result, defer.Deferred):
            out: list = []
            result.addBoth(out.append)
            assert out, "the deferred did not fire synchronously"
            if hasattr(out[0], "raiseException"):
                out[0].raiseException()
            return out[0]
        return result


@pytest.fixture
def engine_with_events(app):
    events = FakeCampaignEvents()
    app.extensions["hotline_engine"] = InlineBridge({"campaign_events": events})
    yield events
    del app.extensions["hotline_engine"]


def test_inside_the_engine_the_console_subscribes_to_its_topic_and_shows_live_figures(manager, dbs,
                                                                                      engine_with_events):
    campaign = make_campaign(dbs, status="running", contacts=3)
    page = manager.client.get(f"{CONSOLE}/{campaign.id}/?lang=en")
    assert 'id="cc-live"' in page.text and 'id="cc-not-live"' not in page.text
    assert "new EventSource('/events?token=" in page.text and f"campaign%3A{campaign.id}" in page.text
    assert 'data-field="in_flight">4<' in page.text and 'data-field="agents">6 / 0<' in page.text
    assert 'data-field="ringing">3<' in page.text
    doc = manager.client.get(f"{CONSOLE}/{campaign.id}/figures").get_json()
    assert doc["live"]["in_flight"] == 4 and doc["remaining"] == 3
    assert engine_with_events.asked == [campaign.id, campaign.id]


def test_the_stream_token_grants_only_this_campaigns_topic(app, manager, dbs, engine_with_events):
    import re
    import urllib.parse

    from admin.sse import read_stream_grant

    campaign = make_campaign(dbs, status="running")
    page = manager.client.get(f"{CONSOLE}/{campaign.id}/")
    token = urllib.parse.unquote(re.search(r"/events\?token=([^&']+)", page.text).group(1))
    grant = read_stream_grant(app.config["SECRET_KEY"], token)
    assert grant.topics == frozenset({f"campaign:{campaign.id}"}) and grant.user == "campaign"


# -- results -----------------------------------------------------------------------------------------------

def add_survey(dbs, campaign: Campaign, prompt: str = "您对送货满意吗？按1到5") -> CampaignQuestion:
    question = CampaignQuestion(campaign_id=campaign.id, position=1, key="satisfaction", prompt=prompt,
                                valid_digits="12345")
    dbs.add(question)
    dbs.commit()
    return question


def test_results_page_counts_dispositions_survey_answers_contacts_and_skip_reasons(manager, dbs):
    campaign = make_campaign(dbs, status="running", contacts=4)
    contacts = seed_attempts(dbs, campaign)
    question = add_survey(dbs, campaign)
    attempts = dbs.scalars(select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign.id)
                           .order_by(CampaignAttempt.id)).all()
    dbs.add(CampaignAnswer(attempt_id=attempts[0].id, contact_id=attempts[0].contact_id, question_id=question.id,
                           answer="5"))
    dbs.add(CampaignAnswer(attempt_id=attempts[1].id, contact_id=attempts[1].contact_id, question_id=question.id,
                           answer="5"))
    dbs.add(CampaignAnswer(attempt_id=attempts[2].id, contact_id=attempts[2].contact_id, question_id=question.id,
                           answer="2"))
    contacts[3].status, contacts[3].skip_reason = "skipped", "do_not_call"
    dbs.add(CampaignContact(campaign_id=campaign.id, number=f"+86{factories.new_mobile()}", status="skipped",
                            skip_reason="wrong_number"))
    dbs.commit()
    page = manager.client.get(f"{CONSOLE}/{campaign.id}/results?lang=en")
    assert page.status_code == 200
    html = page.text
    for code, count in [("answered", 1), ("abandoned", 1), ("no_answer", 1), ("blocked_dnc", 1), ("busy", 0),
                        ("failed", 0), ("machine", 0), ("blocked_hours", 0), ("skipped", 0)]:
        assert f'<tr data-code="{code}">' in html
        row = html.split(f'<tr data-code="{code}">', 1)[1].split("</tr>", 1)[0]
        assert f"data-count>{count}<" in row, code
    skips = html.split('id="results-skips"', 1)[1].split("</table>", 1)[0]
    assert 'data-code="do_not_call"' in skips and 'data-code="wrong_number"' in skips
    survey = html.split('data-question="satisfaction"', 1)[1]
    assert "您对送货满意吗？按1到5" in survey and "(3 answers)" in survey
    five = survey.split('data-answer="5">', 1)[1].split("</tr>", 1)[0]
    assert "data-count>2<" in five and "66.7%" in five
    contacts_table = html.split('id="results-contacts"', 1)[1].split("</table>", 1)[0]
    assert "data-count>3<" in contacts_table.split('data-code="done"', 1)[1].split("</tr>", 1)[0]


# -- exports -----------------------------------------------------------------------------------------------

def read_csv(response) -> tuple[bytes, list[list[str]]]:
    raw = b"".join(response.response)  # the streamed chunks, as the server sends them
    return raw, list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))


def test_attempts_export_streams_every_attempt_with_survey_columns_safe_for_spreadsheets(manager, dbs):
    agent = Agent(login=f"a{factories.next_serial()}", name='=HYPERLINK("http://evil.example/?x","王丽")',
                  extension=f"8{factories.next_serial():04d}", password_hash="x")
    dbs.add(agent)
    dbs.commit()
    campaign = make_campaign(dbs, status="running", contacts=4)
    seed_attempts(dbs, campaign, agent=agent)
    question = add_survey(dbs, campaign)
    first = dbs.scalars(select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign.id)
                        .order_by(CampaignAttempt.id)).first()
    dbs.add(CampaignAnswer(attempt_id=first.id, contact_id=first.contact_id, question_id=question.id, answer="4"))
    dbs.commit()
    response = manager.client.get(f"{CONSOLE}/{campaign.id}/attempts.csv?lang=en")
    assert response.status_code == 200 and response.is_streamed
    assert response.mimetype == "text/csv"
    assert f"campaign-{campaign.id}-attempts.csv" in response.headers["Content-Disposition"]
    raw, rows = read_csv(response)
    assert raw.startswith("\ufeff".encode("utf-8"))
    header = rows[0]
    assert header[:4] == ["Attempt", "Contact", "Number", "Time (Asia/Shanghai)"]
    assert header[-1] == "Survey: satisfaction"
    assert len(rows) == 5
    connected = rows[1]
    assert connected[5] == "answered" and connected[6] == "NORMAL_CLEARING"
    assert connected[7].startswith("'=HYPERLINK(") and "王丽" in connected[7]
    assert connected[8] == "0.8" and connected[9] == "42.5" and connected[-1] == "4"
    assert [r[5] for r in rows[1:]] == ["answered", "abandoned", "no_answer", "blocked_dnc"]
    assert [r[-1] for r in rows[2:]] == ["", "", ""]


def test_answers_export_has_the_prompt_neutralised_and_chinese_intact(manager, dbs):
    campaign = make_campaign(dbs, status="running", contacts=2)
    seed_attempts(dbs, campaign)
    question = add_survey(dbs, campaign, prompt='=HYPERLINK("http://evil.example","满意请按1")')
    attempts = dbs.scalars(select(CampaignAttempt).where(CampaignAttempt.campaign_id == campaign.id)
                           .order_by(CampaignAttempt.id)).all()
    for attempt, answer in zip(attempts, ("1", "3")):
        dbs.add(CampaignAnswer(attempt_id=attempt.id, contact_id=attempt.contact_id, question_id=question.id,
                               answer=answer))
    dbs.commit()
    response = manager.client.get(f"{CONSOLE}/{campaign.id}/answers.csv")
    assert response.status_code == 200 and response.is_streamed
    raw, rows = read_csv(response)
    assert raw[:3] == b"\xef\xbb\xbf"
    assert "满意请按1".encode("utf-8") in raw
    assert len(rows) == 3
    assert [(r[0], r[3], r[5]) for r in rows[1:]] == [(str(attempts[0].id), "satisfaction", "1"),
                                                      (str(attempts[1].id), "satisfaction", "3")]
    assert all(r[4].startswith("'=HYPERLINK(") for r in rows[1:])


def test_attempt_rows_page_through_the_log_in_batches(dbs):
    from zoneinfo import ZoneInfo

    from admin.campaign_csv import attempt_rows, csv_stream

    campaign = make_campaign(dbs, status="running", contacts=4)
    seed_attempts(dbs, campaign)
    rows = list(attempt_rows(dbs, campaign.id, ZoneInfo("Asia/Shanghai"), [], batch=3))
    assert [r[5] for r in rows] == ["answered", "abandoned", "no_answer", "blocked_dnc"]
    assert rows == sorted(rows, key=lambda r: r[0])
    chunks = list(csv_stream(["a"], ([i] for i in range(5)), chunk_rows=2))
    assert len(chunks) == 3 and b"".join(chunks).decode("utf-8-sig").split("\r\n")[:-1] == \
        ["a", "0", "1", "2", "3", "4"]


def test_the_console_and_results_speak_chinese(manager, dbs):
    campaign = make_campaign(dbs, status="running", contacts=1)
    page = manager.client.get(f"{CONSOLE}/{campaign.id}/?lang=zh").text
    assert "实时数据不可用" in page and "剩余联系人" in page and "暂停" in page
    results = manager.client.get(f"{CONSOLE}/{campaign.id}/results?lang=zh").text
    assert "无人接听" in results and "未拨打：免打扰名单" in results and "no_answer<" not in results


# -- a message to every contact ---------------------------------------------------------------------------

def blast_campaign(dbs):
    from crm_core.models import CampaignContact as Contact
    from crm_core.services.message_templates import save_template

    save_template(dbs, name="care_sms", channel="sms", language="zh", body="{name}您好，您的订单{order}已发货。",
                  fields="name,order", by="test")
    campaign = make_campaign(dbs, contacts=0)
    for number, data in ((f"+86{factories.new_mobile()}", {"name": "王芳", "order": "A1"}),
                         (f"+86{factories.new_mobile()}", {"name": "李雷", "order": "A2"}),
                         (f"+86{factories.new_mobile()}", {"name": "=HYPERLINK(1)"})):  # no order: refused
        dbs.add(Contact(campaign_id=campaign.id, number=number, data=data))
    dbs.commit()
    return campaign


def test_a_campaign_manager_queues_one_message_per_contact_once_and_sees_what_was_refused(manager, dbs):
    from crm_core.models import OutboxMessage

    campaign = blast_campaign(dbs)
    page = manager.client.get(f"{CONSOLE}/{campaign.id}/?lang=en")
    assert 'id="cc-messages-form"' in page.text and "care_sms (sms)" in page.text
    form = {"channel": "sms", "template": "care_sms", "language": "zh"}
    response = manager.post(f"{CONSOLE}/{campaign.id}/messages?lang=en", form)
    assert response.status_code == 303, response.text
    page = manager.client.get(response.location + "?lang=en")
    assert "2 messages queued, 0 already queued before, 1 not queued" in page.text
    assert "Not queued:" in page.text and "order" in page.text
    dbs.reread()
    rows = dbs.scalars(select(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id)).all()
    assert sorted(r.body for r in rows) == ["李雷您好，您的订单A2已发货。", "王芳您好，您的订单A1已发货。"]
    assert {r.created_by for r in rows} == {"campaign"}
    again = manager.post(f"{CONSOLE}/{campaign.id}/messages?lang=en", form)
    page = manager.client.get(again.location + "?lang=en")
    assert "0 messages queued, 2 already queued before" in page.text
    dbs.reread()
    assert len(dbs.scalars(select(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id)).all()) == 2
    audited = dbs.scalars(select(AuditEntry).where(AuditEntry.action == "campaign-messages",
                                                   AuditEntry.pk == str(campaign.id))).all()
    assert [(a.changes["queued"], a.changes["already_queued"], a.changes["refused"]) for a in audited] == [
        (2, 0, 1), (0, 2, 1)]


@pytest.mark.parametrize("form, status, message", [
    ({"channel": "fax", "template": "care_sms"}, 400, "There is no fax template named care_sms"),
    ({"channel": "voice", "template": "care_sms"}, 400, "Not a valid choice"),
    ({"channel": "sms", "template": "nope"}, 400, "Not a valid choice"),
    ({"channel": "sms"}, 400, "template"),
])
def test_a_blast_with_a_bad_channel_or_template_is_refused_and_queues_nothing(manager, dbs, form, status, message):
    from crm_core.models import OutboxMessage

    campaign = blast_campaign(dbs)
    response = manager.post(f"{CONSOLE}/{campaign.id}/messages?lang=en", form)
    assert response.status_code == status and message in response.text
    dbs.reread()
    assert dbs.scalars(select(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id)).all() == []


def test_only_admins_and_campaign_managers_may_send_a_blast_and_only_with_the_csrf_token(as_role, manager, dbs):
    from crm_core.models import OutboxMessage

    campaign = blast_campaign(dbs)
    form = {"channel": "sms", "template": "care_sms", "language": "zh"}
    for username in ("supervisor", "agent"):
        assert as_role(username).post(f"{CONSOLE}/{campaign.id}/messages", form).status_code == 403
    assert manager.client.post(f"{CONSOLE}/{campaign.id}/messages", data=form).status_code == 400
    assert manager.post(f"{CONSOLE}/999999/messages", form).status_code == 404
    dbs.reread()
    assert dbs.scalars(select(OutboxMessage).where(OutboxMessage.campaign_id == campaign.id)).all() == []
