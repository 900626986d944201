"""The preview desk: agents on a preview campaign get a "next contact" panel; next / dial / skip go to the engine's
``preview`` service (a fake implementing its interface, on an inline bridge), the customer's card comes from
the desk's own card; CSRF, roles, bad reasons and the engine not running."""

from __future__ import annotations

from typing import Any

import pytest
from twisted.internet import defer

import factories
from admin.bridge import EngineUnavailable
from crm_core.models import AgentQueue, Campaign
from crm_core.services.dialing import UnknownAttempt
from test_desk import agent, desk_agent_id  # noqa: F401 -- the desk tests' fixtures (the demo agent)

DESK = "/admin/desk"




class FakePreview:
    """The engine's ``preview`` service interface: next / dial / skip, each a Deferred."""

    def __init__(self) -> None:
        self.contact: dict[str, Any] | None = None
        self.calls: list[tuple] = []
        self.known_attempts: set[int] = set()

    def next(self, agent_id: int) -> defer.Deferred:
        self.calls.append(("next", agent_id))
        return defer.succeed(self.contact)

    def dial(self, agent_id: int, attempt_id: int) -> defer.Deferred:
        self.calls.append(("dial", agent_id, attempt_id))
        if attempt_id not in self.known_attempts:
            return defer.fail(UnknownAttempt(f"no open preview attempt {attempt_id} for agent {agent_id}"))
        return defer.succeed({"call_uuid": f"preview-{attempt_id}"})

    def skip(self, agent_id: int, attempt_id: int, reason: str) -> defer.Deferred:
        from acd.dialer.preview import PreviewError

        self.calls.append(("skip", agent_id, attempt_id, reason))
        if attempt_id == 404:  # what the engine's PreviewDesk says of a contact another agent holds
            return defer.fail(PreviewError(f"attempt {attempt_id} is not a contact agent {agent_id} holds"))
        return defer.succeed(None)


class InlineBridge:
    """``EngineBridge`` without a reactor (calls run here); unknown services are EngineUnavailable, as in the
    engine."""

    hub = None

    def __init__(self, services: dict[str, Any]) -> None:
        self.services = services

    def service(self, name: str) -> Any:
        if name not in self.services:
            raise EngineUnavailable(f"the engine has no {name} service")
        return self.services[name]

    def call(self, fn: Any, *args: Any) -> Any:
        result = fn(*args)
        if isinstance(result, defer.Deferred):
            out: list = []
            result.addBoth(out.append)
            assert out
            if hasattr(out[0], "raiseException"):
                out[0].raiseException()
            return out[0]
        return result


@pytest.fixture
def preview(app):
    service = FakePreview()
    app.extensions["hotline_engine"] = InlineBridge({"preview": service})
    yield service
    del app.extensions["hotline_engine"]


@pytest.fixture
def preview_campaign(dbs):
    campaign = Campaign(name=f"Preview {factories.next_serial()}", mode="preview", status="running",
                        caller_id="+864008001234")
    dbs.add(campaign)
    dbs.commit()
    return campaign


def a_contact(campaign: Campaign, attempt_id: int, number: str, customer_id: int | None) -> dict[str, Any]:
    return {"attempt_id": attempt_id, "campaign_id": campaign.id, "campaign_name": campaign.name,
            "contact_id": 5, "number": number, "fields": {"name": "王丽", "order": "=1+1"},
            "customer_id": customer_id, "unexpected": "dropped"}


def test_agent_on_a_preview_campaign_sees_the_next_contact_panel(agent, preview_campaign):
    page = agent.client.get(f"{DESK}/?lang=en")
    assert page.status_code == 200
    assert 'id="preview"' in page.text and preview_campaign.name in page.text
    assert 'id="preview-dial"' in page.text and 'value="wrong_number"' in page.text


def test_preview_campaigns_of_an_agent_follow_the_campaigns_queue(dbs):
    from admin.views.desk_preview import preview_campaigns

    member, outsider = factories.make_agent(dbs), factories.make_agent(dbs)
    queue = factories.make_queue(dbs)
    dbs.add(AgentQueue(agent_id=member.id, queue_id=queue.id))
    queued = Campaign(name=f"Queued preview {factories.next_serial()}", mode="preview", status="paused",
                      queue_id=queue.id)
    other_mode = Campaign(name=f"Predictive {factories.next_serial()}", mode="predictive", status="running")
    draft = Campaign(name=f"Draft preview {factories.next_serial()}", mode="preview", status="draft")
    dbs.add_all([queued, other_mode, draft])
    dbs.commit()
    assert queued in preview_campaigns(dbs, member)
    mine = preview_campaigns(dbs, outsider)
    assert queued not in mine and other_mode not in mine and draft not in mine


def test_next_shows_the_contact_with_merge_fields_and_the_customers_card(agent, dbs, preview, preview_campaign,
                                                                         desk_agent_id):
    customer = factories.make_customer(dbs, name="王丽")
    dbs.commit()
    number = customer.phones[0].e164
    preview.contact = a_contact(preview_campaign, 11, number, customer.id)
    body = agent.post(f"{DESK}/preview/next").get_json()
    assert body["ok"] is True and preview.calls == [("next", desk_agent_id)]
    contact = body["contact"]
    assert "unexpected" not in contact
    assert (contact["attempt_id"], contact["number"], contact["campaign_name"]) == (11, number, preview_campaign.name)
    assert contact["fields"] == {"name": "王丽", "order": "=1+1"}
    assert contact["customer"]["id"] == customer.id and contact["customer"]["name"] == "王丽"
    assert {"orders", "complaints", "interactions"} <= set(contact["customer"])


def test_a_contact_without_customer_id_finds_the_customer_by_number(agent, dbs, preview, preview_campaign):
    customer = factories.make_customer(dbs, name="张伟")
    dbs.commit()
    preview.contact = a_contact(preview_campaign, 12, customer.phones[0].e164, None)
    assert agent.post(f"{DESK}/preview/next").get_json()["contact"]["customer"]["id"] == customer.id
    preview.contact = a_contact(preview_campaign, 13, f"+86{factories.new_mobile()}", None)
    assert agent.post(f"{DESK}/preview/next").get_json()["contact"]["customer"] is None


def test_nothing_due_says_so(agent, preview):
    body = agent.post(f"{DESK}/preview/next?lang=en").get_json()
    assert body == {"ok": True, "contact": None, "message": "No contact is due now."}


def test_dial_returns_the_call_uuid_and_an_unknown_attempt_is_a_404(agent, preview, desk_agent_id):
    preview.known_attempts.add(21)
    body = agent.post(f"{DESK}/preview/dial", {"attempt_id": "21"}).get_json()
    assert body["ok"] is True and body["call_uuid"] == "preview-21"
    refused = agent.post(f"{DESK}/preview/dial", {"attempt_id": "22"})
    assert refused.status_code == 404 and refused.get_json()["error_id"] == "unknown-attempt"
    assert preview.calls == [("dial", desk_agent_id, 21), ("dial", desk_agent_id, 22)]


@pytest.mark.parametrize("reason", ["wrong_number", "do_not_call", "later"])
def test_skip_with_each_reason_reaches_the_service(agent, preview, desk_agent_id, reason):
    response = agent.post(f"{DESK}/preview/skip", {"attempt_id": "31", "reason": reason})
    assert response.status_code == 200 and response.get_json()["ok"] is True
    assert preview.calls == [("skip", desk_agent_id, 31, reason)]


def test_the_engines_refusal_is_a_409_with_its_reason_not_a_500(agent, preview):
    response = agent.post(f"{DESK}/preview/skip?lang=en", {"attempt_id": "404", "reason": "later"})
    assert response.status_code == 409
    body = response.get_json()
    assert body["ok"] is False and body["error_id"] == "acd-preview-refused"
    assert "is not a contact agent" in body["message"]


@pytest.mark.parametrize("path, data, field", [
    ("/preview/skip", {"attempt_id": "31", "reason": "annoying"}, "reason"),
    ("/preview/skip", {"attempt_id": "31", "reason": ""}, "reason"),
    ("/preview/skip", {"attempt_id": "31", "reason": "x" * 41}, "reason"),
    ("/preview/skip", {"reason": "later"}, "attempt_id"),
    ("/preview/skip", {"attempt_id": "abc", "reason": "later"}, "attempt_id"),
    ("/preview/dial", {}, "attempt_id"),
    ("/preview/dial", {"attempt_id": "99999999999999999999999"}, "attempt_id"),
])
def test_bad_or_missing_fields_are_a_400_naming_the_field(agent, preview, path, data, field):
    response = agent.post(f"{DESK}{path}?lang=en", data)
    assert response.status_code == 400
    body = response.get_json()
    assert body["ok"] is False and field in body["errors"]
    assert preview.calls == []


def test_unknown_skip_reason_lists_the_allowed_ones(agent, preview):
    body = agent.post(f"{DESK}/preview/skip?lang=en", {"attempt_id": "31", "reason": "annoying"}).get_json()
    assert body["message"] == "Unknown skip reason annoying: use one of wrong_number, do_not_call, later."


@pytest.mark.parametrize("path", ["/preview/next", "/preview/dial", "/preview/skip"])
def test_without_a_token_nothing_reaches_the_service(agent, preview, path):
    response = agent.client.post(f"{DESK}{path}", data={"attempt_id": "21", "reason": "later"})
    assert response.status_code == 400
    assert preview.calls == []


@pytest.mark.parametrize("username", ["supervisor", "admin", "campaign"])
def test_only_agents_use_the_preview_desk(as_role, preview, username):
    actions = as_role(username)
    for path in ("/preview/next", "/preview/dial", "/preview/skip"):
        assert actions.post(f"{DESK}{path}", {"attempt_id": "21", "reason": "later"}).status_code == 403
    assert preview.calls == []


@pytest.mark.parametrize("path, data", [("/preview/next", {}), ("/preview/dial", {"attempt_id": "21"}),
                                        ("/preview/skip", {"attempt_id": "21", "reason": "later"})])
def test_without_the_engine_every_preview_action_is_a_503_that_says_so(agent, path, data):
    response = agent.post(f"{DESK}{path}?lang=en", data)
    assert response.status_code == 503
    body = response.get_json()
    assert body["engine"] is False and "preview desk needs it" in body["message"]


def test_an_engine_without_the_preview_service_is_a_503_too(app, agent):
    app.extensions["hotline_engine"] = InlineBridge({})
    try:
        response = agent.post(f"{DESK}/preview/next?lang=en")
    finally:
        del app.extensions["hotline_engine"]
    assert response.status_code == 503 and "no preview service" in response.get_json()["message"]
