"""The campaign console's publisher: database figures through the gateway, the dialer's live figures merged in,
every ``interval`` seconds on ``campaign:<id>`` (driven by ``task.Clock``), and its attachment to an engine."""

from __future__ import annotations

import datetime as dt
from typing import Any

from twisted.internet import defer
from twisted.internet.task import Clock

import factories
from crm_core.models import Campaign, CampaignAttempt, CampaignContact
from hotline.campaign_events import EVENT, CampaignEvents, attach, campaign_topic
from hotline.db_gateway import InlineGateway

UTC = dt.timezone.utc


class Hub:
    def __init__(self) -> None:
        self.published: list[tuple[str, str, dict]] = []
        self.watched = True  # a console is open

    def watching(self, prefix: str) -> bool:
        assert prefix == "campaign:"
        return self.watched

    def publish(self, topic: str, event: str, data: dict) -> None:
        self.published.append((topic, event, data))

    def on(self, topic: str) -> list[dict]:
        return [d for t, e, d in self.published if t == topic and e == EVENT]


class FakeGateway:
    """Runs the reader on a fake session at once, or holds it (``hold``) to mimic a slow database."""

    def __init__(self) -> None:
        self.hold = False
        self.pending: list[tuple[defer.Deferred, Any]] = []
        self.runs = 0

    def run(self, fn: Any) -> defer.Deferred:
        self.runs += 1
        if self.hold:
            d: defer.Deferred = defer.Deferred()
            self.pending.append((d, fn))
            return d
        return defer.succeed(fn("session"))

    def release(self) -> None:
        for d, fn in self.pending:
            d.callback(fn("session"))
        self.pending.clear()


def figures(campaign_id: int, status: str = "running", dialled: int = 0) -> dict[str, Any]:
    return {"campaign_id": campaign_id, "status": status, "dialled": dialled, "remaining": 5}


class Reader:
    """Stands in for the database: what each campaign looks like now; records what it was asked to include."""

    def __init__(self) -> None:
        self.campaigns: dict[int, dict[str, Any]] = {}
        self.asked: list[frozenset[int]] = []

    def __call__(self, session: Any, also: frozenset[int]) -> list[dict[str, Any]]:
        assert session == "session"
        self.asked.append(also)
        return [dict(v) for k, v in sorted(self.campaigns.items())
                if v["status"] in ("running", "paused") or k in also]


def test_publishes_database_and_live_figures_every_interval_until_stopped():
    clock, hub, gateway, reader = Clock(), Hub(), FakeGateway(), Reader()
    reader.campaigns[7] = figures(7, dialled=3)
    live = {7: {"in_flight": 2, "ringing": 1, "last_decision": 4, "target": 0.02, "abandon_rate": 0.01,
                "agents": 3}}
    events = CampaignEvents(hub, lambda cid: live.get(cid), gateway, clock, interval=2.0, reader=reader)
    events.start()
    assert len(hub.on("campaign:7")) == 1  # at once
    first = hub.on("campaign:7")[0]
    assert first["dialled"] == 3 and first["live"] == live[7] and first["at"] == 0
    reader.campaigns[7]["dialled"] = 9
    live[7]["in_flight"] = 5
    clock.advance(2)
    latest = hub.on("campaign:7")[-1]
    assert len(hub.on("campaign:7")) == 2 and latest["dialled"] == 9 and latest["live"]["in_flight"] == 5
    assert latest["at"] == 2
    clock.advance(1.9)
    assert len(hub.on("campaign:7")) == 2  # not before the interval
    events.stop()
    clock.advance(10)
    assert len(hub.on("campaign:7")) == 2 and not events.running


def test_without_a_dialer_or_when_it_fails_live_is_none_and_database_figures_still_go_out():
    clock, hub, reader = Clock(), Hub(), Reader()
    reader.campaigns[1] = figures(1)
    reader.campaigns[2] = figures(2)

    def broken(cid: int) -> dict:
        raise RuntimeError("dialer exploded")

    CampaignEvents(hub, None, FakeGateway(), clock, reader=reader).start()
    CampaignEvents(hub, broken, FakeGateway(), clock, reader=reader).start()
    assert [d["live"] for d in hub.on("campaign:1")] == [None, None]
    assert [d["campaign_id"] for d in hub.on("campaign:2")] == [2, 2]


def test_a_campaign_that_leaves_running_gets_one_last_push_then_none():
    clock, hub, reader = Clock(), Hub(), Reader()
    reader.campaigns[4] = figures(4, status="paused")
    events = CampaignEvents(hub, lambda cid: {"in_flight": 0}, FakeGateway(), clock, reader=reader).start()
    reader.campaigns[4]["status"] = "stopped"
    clock.advance(2)
    clock.advance(2)
    assert [d["status"] for d in hub.on("campaign:4")] == ["paused", "stopped"]
    assert reader.asked == [frozenset(), frozenset({4}), frozenset()]
    events.stop()


def test_a_slow_database_read_is_not_piled_up():
    clock, hub, gateway, reader = Clock(), Hub(), FakeGateway(), Reader()
    reader.campaigns[3] = figures(3)
    gateway.hold = True
    events = CampaignEvents(hub, None, gateway, clock, reader=reader).start()
    clock.advance(2)
    clock.advance(2)
    assert gateway.runs == 1 and hub.published == []  # two ticks skipped while the first read is out
    gateway.release()
    assert len(hub.on("campaign:3")) == 1
    clock.advance(2)
    assert gateway.runs == 2
    events.stop()


def test_no_database_read_while_no_console_follows_a_campaign():
    clock, hub, gateway, reader = Clock(), Hub(), FakeGateway(), Reader()
    reader.campaigns[6] = figures(6, status="paused")
    hub.watched = False
    events = CampaignEvents(hub, None, gateway, clock, reader=reader).start()
    clock.advance(2)
    assert gateway.runs == 0 and hub.published == [] and events.skipped == 2
    hub.watched = True  # a console opens
    clock.advance(2)
    assert gateway.runs == 1 and [d["status"] for d in hub.on("campaign:6")] == ["paused"]
    hub.watched = False  # ... and closes; the campaign stops meanwhile
    reader.campaigns[6]["status"] = "stopped"
    clock.advance(4)
    assert gateway.runs == 1
    hub.watched = True  # the next console still gets the stopped campaign's last push
    clock.advance(2)
    assert [d["status"] for d in hub.on("campaign:6")] == ["paused", "stopped"]
    events.stop()


def test_a_failed_read_is_logged_and_the_next_tick_tries_again(caplog):
    clock, hub = Clock(), Hub()
    calls: list[int] = []

    def reader(session: Any, also: frozenset[int]) -> list[dict]:
        calls.append(1)
        if len(calls) == 1:
            raise RuntimeError("database away")
        return [figures(5)]

    events = CampaignEvents(hub, None, FakeGateway(), clock, reader=reader)

    class FailingGateway(FakeGateway):
        def run(self, fn: Any) -> defer.Deferred:
            try:
                return defer.succeed(fn("session"))
            except Exception:
                return defer.fail()

    events.gateway = FailingGateway()
    events.start()
    assert hub.published == [] and "database read failed" in caplog.text
    clock.advance(2)
    assert len(hub.on("campaign:5")) == 1
    events.stop()


def test_real_database_figures_through_an_inline_gateway(db_session):
    """The default reader on a real database: the running campaign's attempts counted, live merged."""
    now = dt.datetime.now(UTC)
    campaign = Campaign(name=f"events {factories.next_serial()}", status="running", caller_id="+864008001234")
    db_session.add(campaign)
    db_session.flush()
    contacts = [CampaignContact(campaign_id=campaign.id, number=f"+86{factories.new_mobile()}", status=s)
                for s in ("done", "done", "pending", "dialing")]
    db_session.add_all(contacts)
    db_session.flush()
    results = [("answered", True), ("abandoned", False), ("busy", False)]
    for contact, (result, connected) in zip(contacts, results):
        db_session.add(CampaignAttempt(
            campaign_id=campaign.id, contact_id=contact.id, number=contact.number, mode="predictive",
            started_at=now - dt.timedelta(minutes=1), answered_at=now if result != "busy" else None,
            connected_at=now if connected else None, ended_at=now, result=result))
    db_session.add(CampaignAttempt(campaign_id=campaign.id, contact_id=contacts[3].id, number=contacts[3].number,
                                   mode="predictive", started_at=now))
    db_session.flush()
    clock, hub = Clock(), Hub()
    events = CampaignEvents(hub, lambda cid: {"in_flight": 1, "agents": 2} if cid == campaign.id else None,
                            InlineGateway(db_session), clock).start()
    doc = hub.on(campaign_topic(campaign.id))[0]
    assert (doc["dialled"], doc["answered"], doc["connected"], doc["abandoned"], doc["abandon_percent"]) == \
        (4, 2, 1, 1, 50.0)
    assert (doc["remaining"], doc["in_flight"], doc["status"]) == (2, 1, "running")
    assert doc["pace_per_minute"] == 0.8  # 4 calls placed in the last five minutes
    assert doc["live"] == {"in_flight": 1, "agents": 2}
    events.stop()


class FakeEngine:
    def __init__(self) -> None:
        self.events = Hub()
        self.reactor = Clock()
        self.on_started: list = []
        self.before_stop: list = []
        self.ports: dict = {}
        self.call_server = None


class FakeDialer:
    def status(self, campaign_id: int) -> dict:
        return {"campaign_id": campaign_id, "active": True, "in_flight": 1}


def test_attach_registers_the_service_starts_with_the_engine_and_stops_before_it():
    engine, gateway, reader = FakeEngine(), FakeGateway(), Reader()
    events = attach(engine, FakeDialer(), gateway, engine.reactor)
    assert engine.campaign_events is events and not events.running
    events.reader = reader
    reader.campaigns[9] = figures(9)
    for hook in engine.on_started:
        hook(engine)
    assert events.running and engine.events.on("campaign:9")[0]["live"]["in_flight"] == 1
    assert events.live(9) == {"campaign_id": 9, "active": True, "in_flight": 1}
    uuids, done = engine.before_stop[0](engine)
    assert uuids == [] and done.called and not events.running


def test_attach_without_an_event_hub_does_nothing():
    engine = FakeEngine()
    engine.events = None
    assert attach(engine, FakeDialer(), FakeGateway()) is None
    assert engine.on_started == [] and not hasattr(engine, "campaign_events")
