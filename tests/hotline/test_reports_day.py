"""A known day of calls through the simulator (loopback ESL, the real engine: IVR, ACD, call recorder, database),
then every report figure against values worked out by hand from the script below -- on SQLite and PostgreSQL.

The day (all through the engine; times are the test's own, so durations are checked to a tolerance):

====  ==========  =============================================  ==========================================
call  dialled     what the caller does                            what the reports must say
====  ==========  =============================================  ==========================================
A     TV 湖南卫视  known customer, order status by number, hangs   contained, exit "main"
                  up back at the main menu
B     TV 湖南卫视  phone order: 2 knife sets at 199 with 50 off    contained, 1 order, revenue 298.00
                  each, confirms, hangs up at the main menu
C     print ad    hangs up at the main menu                       abandoned in the IVR, exit "main"
D     TV CCTV-2   0 for an agent: rings 1 s, talks 2 s, agent     to_agent, queued, answered, served
                  hangs up (2 s wrap-up)
E     TV CCTV-2   0 for an agent while the only agent is on a     to_agent, queued, abandoned in the queue
                  break; hangs up after 2 s of hold music
F, G  main line   book a callback "as soon as possible"           contained; F called back by the agent
                                                                  (kept, met), G still open
====  ==========  =============================================  ==========================================
"""

from __future__ import annotations

import datetime as dt
import wave
from pathlib import Path

import pytest
import pytest_twisted
from sqlalchemy import select, update
from twisted.internet import reactor, task

import factories
from admin.reports.agents import agent_report
from admin.reports.business import ivr_options, ivr_products, messages_by_channel, sales_by_media
from admin.reports.callbacks import callbacks_kept
from admin.reports.calls import abandons, daily_service, queue_summary, volume_by_hour
from admin.reports.ivr import ivr_containment, ivr_exit_nodes
from admin.reports.media import media_plans
from admin.reports.period import Period, local_today
from crm_core.db import transaction
from crm_core.models import (
    Address,
    Agent,
    AgentSkill,
    CallbackRequest,
    CallDetailRecord,
    MediaAirTime,
    MediaPlan,
    Order,
    Queue,
    QueueSkill,
    Skill,
)
from engine_rig import OPEN_ALL_WEEK, engine_settings, start_engine, wait_for

UTC = dt.timezone.utc
CHINA = 480
MENU = OPEN_ALL_WEEK + """settings:
  agent_queue: sales
nodes:
  main:
    type: menu
    text: {zh: 请选择。}
    timeout: 4
    options:
      "1": {target: status}
      "4": {target: buy}
      "6": {target: cb}
      "0": {target: agent}
  status: {type: action, action: order_status, next: main}
  buy: {type: action, action: place_order, next: main}
  cb: {type: action, action: callback_request, next: main}
  agent: {type: queue, text: {zh: 请稍候。}, queue: sales, skills: [sales]}
"""
TV1, TV2, PRINT, MAIN = "4008001001", "4008001002", "4008001010", "4008001234"
RING, TALK, WRAP = 1.0, 2.0, 2.0  # the agent's phone answers after 1 s, the agent talks 2 s; 2 s of wrap-up


class QuickVoice:
    """This test's TTS: a 0.2 s WAV per text (the engine still renders, caches and plays it; the words are in
    its sidecar), so a day of calls takes seconds, not minutes of espeak-ng."""

    name, version = "quick-voice", "1"

    def synthesize(self, text: str, voice: str, rate: int, out: Path) -> None:
        with wave.open(str(out), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(8000)
            w.writeframes(b"\x00\x00" * 1600)


def seed(url: str, tmp: Path) -> dict:
    from crm_core.db import make_engine, session_factory
    from crm_core.migrate import upgrade
    from crm_core.services.orders import place_order
    from ivr.menu import load_yaml
    from ivr.menu.store import import_and_publish

    upgrade(url)
    engine = make_engine(url)
    now = dt.datetime.now(UTC)
    with transaction(session_factory(engine)) as s:
        sales = Skill(name="sales")
        agent = Agent(login="reporter", name="Report Agent", extension="1001", password_hash="x")
        agent.skills = [AgentSkill(skill=sales, level=5)]
        queue = Queue(name="sales", strategy="longest-idle-agent", wrapup_seconds=int(WRAP), sl_target_seconds=20,
                      sl_target_percent=80)
        queue.required_skills = [QueueSkill(skill=sales, min_level=1)]
        s.add_all([agent, queue])
        tv1 = MediaPlan(name="湖南卫视 黄金档购物时间", kind="tv", dnis=TV1)
        tv1.air_times = [MediaAirTime(starts_at=now - dt.timedelta(hours=1), ends_at=now + dt.timedelta(hours=1))]
        tv2 = MediaPlan(name="CCTV-2 财经购物栏目", kind="tv", dnis=TV2)
        tv2.air_times = [MediaAirTime(starts_at=now - dt.timedelta(minutes=30), ends_at=now + dt.timedelta(hours=1))]
        paper = MediaPlan(name="广州日报 整版广告", kind="print", dnis=PRINT)
        s.add_all([tv1, tv2, paper])
        buyer = factories.make_customer(s, name="王芳", phones=["13900000002"])
        s.add(Address(customer_id=buyer.id, recipient="王芳", city="上海", line1="南京路1号", is_default=True))
        knife = factories.make_product(s, phone_code="1234", name="刀具套装", price="199.00", stock=10)
        factories.make_promotion(s, [knife], rule="amount_off", amount_off="50.00",
                                 starts_at=now - dt.timedelta(days=1), ends_at=now + dt.timedelta(days=1))
        asker = factories.make_customer(s, name="李雷", phones=["13900000001"])
        old = place_order(s, asker.id, [("1234", 1)])
        s.flush()
        s.execute(update(Order).where(Order.id == old.id).values(created_at=now - dt.timedelta(days=3)))
        path = tmp / "menu.yaml"
        path.write_text(MENU, encoding="utf-8")
        import_and_publish(s, load_yaml(path), by="test")
        ids = {"agent": agent.id, "tv1": tv1.id, "tv2": tv2.id, "paper": paper.id, "old_order": old.number,
               "tv1_air": tv1.air_times[0].starts_at, "tv2_air": tv2.air_times[0].starts_at}
    engine.dispose()
    return ids


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def day(request, database_maker, tmp_path, monkeypatch):
    monkeypatch.setattr("ivr.prompts.renderer.make_synthesizer", lambda engine="pyttsx3": QuickVoice())
    url = database_maker(request.param)
    ids = seed(url, tmp_path)
    engine = start_engine(engine_settings(url, tmp_path, HOTLINE_ACD_CALLBACK_AFTER="0",
                                          HOTLINE_ACD_ANNOUNCE_EVERY="0"), web=False)
    pytest_twisted.blockon(engine.switch.when_connected())
    engine.simulator.directory.register("1001", answer_after=RING, talk_seconds=TALK)
    yield engine, ids
    engine.acd.stop()
    pytest_twisted.blockon(engine.stop())


def script(*steps: tuple[int, "str | None"]) -> str:
    """A caller's script: for each step, hear ``n`` prompts to their end, then press the keys (None: hang up)."""
    out = []
    for prompts, keys in steps:
        out.append(f"wait_prompt {prompts}; wait 0.1; " + (f"press {keys}" if keys is not None else "hangup"))
    return "; ".join(out)


def place(engine, ani: str, dnis: str, script: str):
    return engine.simulator.place_call(ani, dnis, script)


async def ended(engine, *calls, timeout: float = 60.0) -> None:
    for call in calls:
        await wait_for(lambda c=call: c.finished.called, timeout=timeout, what=f"call from {call}", call=call)


def rows(engine) -> dict[str, CallDetailRecord]:
    with transaction(engine.sessions) as s:
        found = {r.uuid: r for r in s.scalars(select(CallDetailRecord))}
        for r in found.values():
            s.expunge(r)
        return found


async def pause(seconds: float) -> None:
    await task.deferLater(reactor, seconds, lambda: None)


@pytest_twisted.ensureDeferred
async def test_every_report_figure_of_a_known_day_of_calls(day):
    engine, ids = day
    acd = engine.acd.acd
    agent_id = ids["agent"]
    # the demo start-up logged the agent in (available, no calls); that span is part of its staffed time today
    demo = acd.board.get(agent_id)
    assert demo.state.value == "available"
    demo_staffed = reactor.seconds() - demo.since
    acd.logout(agent_id)
    # -- self-service calls, all at once -----------------------------------------------------------------
    a = place(engine, "13900000001", TV1, script((2, "1"), (1, "1"), (1, f"{ids['old_order']}#"), (2, "*"), (1, None)))
    b = place(engine, "13900000002", TV1, script((2, "4"), (1, "1234#"), (1, "2#"), (1, "2"), (1, "1"), (1, "1"),
                                                 (1, "1"), (2, "1"), (2, None)))
    c = place(engine, "13900000003", PRINT, script((2, None)))
    f = place(engine, "13900000006", MAIN, script((2, "6"), (1, "1"), (1, "1"), (2, None)))
    g = place(engine, "13900000007", MAIN, script((2, "6"), (1, "1"), (1, "1"), (2, None)))
    await ended(engine, a, b, c, f, g)
    # -- an agent: one call served, then a break during which a caller gives up ------------------------------
    login_at = reactor.seconds()
    acd.login(agent_id, ["sales"])
    d = place(engine, "13900000004", TV2, "wait_prompt 2; wait 0.1; press 0; wait_hangup")
    await ended(engine, d)
    await wait_for(lambda: acd.board.get(agent_id).state.value == "available", timeout=10, what="wrap-up over")
    break_at = reactor.seconds()
    acd.set_state(agent_id, "break", "meeting")
    e = place(engine, "13900000005", TV2, "wait_prompt 2; wait 0.1; press 0; wait_prompt 1; wait 2; hangup")
    await ended(engine, e)
    back_at = reactor.seconds()
    acd.set_state(agent_id, "available")
    # -- the agent calls F back by hand ---------------------------------------------------------------------
    request_of = {}
    with transaction(engine.sessions) as s:
        for request in s.scalars(select(CallbackRequest)):
            request_of[request.call_uuid] = request.id
    await acd.callbacks.claim(request_of[f.uuid], agent_id)
    await acd.callbacks.complete(request_of[f.uuid], agent_id, True, "called back")
    # -- every row closed, every step written -----------------------------------------------------------------
    calls = {"A": a, "B": b, "C": c, "D": d, "E": e, "F": f, "G": g}
    await wait_for(lambda: all((r := rows(engine).get(call.uuid)) is not None and r.ended_at is not None
                               and r.ivr_outcome is not None for call in calls.values()),
                   timeout=20, what="every call record closed")
    await pause(0.3)  # the batch holding the last state changes
    now = dt.datetime.now(UTC)
    today = local_today(CHINA, now)
    period = Period(today - dt.timedelta(days=1), today + dt.timedelta(days=1), CHINA)
    with transaction(engine.sessions) as s:
        check_reports(s, period, now, ids, calls, login_at - demo_staffed, break_at, back_at)


def total_row(table) -> dict:
    return dict(zip(table.columns, table.rows[-1]))


def check_reports(s, period, now, ids, calls, login_at, break_at, back_at) -> None:
    # IVR containment: 7 reached the IVR; A, B, F, G served there; D, E to an agent; C hung up unserved
    containment = total_row(ivr_containment(s, period))
    assert containment == {"day": "*", "calls": 7, "contained": 4, "to_agent": 2, "abandoned": 1, "hung_up": 0,
                           "containment": round(4 / 7 * 100, 1)}
    exits = {r[0]: r[1:] for r in ivr_exit_nodes(s, period).rows}
    assert exits == {"main": [5, 4, 0, 1, 0], "agent": [2, 0, 2, 0, 0]}

    # abandons: one in the IVR (C, of 7), one in a queue (E, of the 2 queued)
    assert total_row(abandons(s, period)) == {"day": "*", "reached_ivr": 7, "ivr_abandoned": 1,
                                              "ivr_abandon_rate": 14.3, "queued": 2, "queue_abandoned": 1,
                                              "queue_abandon_rate": 50.0}

    # media plans and air times: A and B on 湖南卫视 (B's order: 2 x 199 - 2 x 50 = 298.00), D and E on CCTV-2,
    # C on the print ad (no air time), F and G on the main line (no plan)
    def air(at: dt.datetime) -> str:
        return at.astimezone(period.tz).strftime("%Y-%m-%d %H:%M")

    media = [tuple(r) for r in media_plans(s, period).rows]
    assert media == [
        ("CCTV-2 财经购物栏目", "tv", air(ids["tv2_air"]), 2, 0, 0.0),
        ("广州日报 整版广告", "print", "-", 1, 0, 0.0),
        ("湖南卫视 黄金档购物时间", "tv", air(ids["tv1_air"]), 2, 1, 298.0),
        ("-", "-", "-", 2, 0, 0.0),
    ]
    sales = [tuple(r) for r in sales_by_media(s, period).rows]
    assert sales == [(TV1, "湖南卫视 黄金档购物时间", "tv", 1, 298.0, 298.0)]

    # queues: D answered after ~1 s of ringing (inside the 20 s target), E abandoned; AHT = talk + wrap-up
    queue = {r[0]: dict(zip(queue_summary(s, period).columns, r)) for r in queue_summary(s, period).rows}["sales"]
    assert (queue["offered"], queue["answered"], queue["abandoned"]) == (2, 1, 1)
    assert (queue["service_level"], queue["abandon_rate"]) == (50.0, 50.0)
    assert queue["asa"] == pytest.approx(RING, abs=0.6)
    assert queue["aht"] == pytest.approx(TALK + WRAP, abs=0.6) and queue["acw"] == pytest.approx(WRAP, abs=0.6)
    assert queue["avg_abandon_wait"] == pytest.approx(2.0, abs=1.0)
    daily = total_row_of_days(daily_service(s, period))
    assert daily == {"offered": 2, "answered": 1, "abandoned": 1}
    assert sum(r[1] for r in volume_by_hour(s, period).rows) == 7  # every inbound call, in its hour
    assert sum(r[2] for r in volume_by_hour(s, period).rows) == 1  # answered
    assert sum(r[3] for r in volume_by_hour(s, period).rows) == 1  # abandoned in a queue

    # the agent: staffed as if logged in at login_at (the test's login, moved earlier by the demo start-up's login
    # span); ringing + talk + wrap-up for D; a break from break_at to back_at
    agents = agent_report(s, period, now=now)
    (agent,) = [dict(zip(agents.columns, r)) for r in agents.rows]
    staffed = now.timestamp() - login_at
    busy = RING + TALK + WRAP
    paused = back_at - break_at
    available = staffed - busy - paused
    assert agent["staffed_seconds"] == pytest.approx(staffed, abs=1.0)
    assert agent["talk_seconds"] == pytest.approx(TALK, abs=0.6) and agent["wrap_up_seconds"] == pytest.approx(
        WRAP, abs=0.6)
    assert agent["not_ready_seconds"] == pytest.approx(paused, abs=0.6)
    assert agent["available_seconds"] == pytest.approx(available, abs=1.5)
    # handling time (ringing + talk + wrap-up) as the report counts it, held against the hand figure; with 5 s of
    # handling and 1-2 s of ready time a few tenths of a second of timing on a loaded machine move occupancy and
    # utilisation by points, so the percentages are checked as the definitions applied to the report's own seconds
    from admin.reports.agents import state_seconds

    (seconds,) = state_seconds(s, period, now=now).values()  # the report's own per-state seconds, unrounded
    handled = seconds.get("ringing", 0.0) + seconds.get("on_call", 0.0) + seconds.get("wrap_up", 0.0)
    ready, logged_in = handled + seconds.get("available", 0.0), sum(v for k, v in seconds.items() if k != "logged_out")
    assert handled == pytest.approx(busy, abs=1.5)
    assert agent["occupancy"] == pytest.approx(handled / ready * 100, abs=0.1)
    assert agent["utilisation"] == pytest.approx(handled / logged_in * 100, abs=0.1)
    assert logged_in == pytest.approx(staffed, abs=0.5)  # the staffed time the test measured, in seconds
    assert agent["occupancy"] > 0
    assert (agent["inbound_calls"], agent["outbound_calls"]) == (1, 0)
    assert agent["inbound_talk_seconds"] == pytest.approx(TALK, abs=0.6)

    # callbacks: F and G asked for one today; F called back within its hour (kept, met), G still open
    assert total_row(callbacks_kept(s, period)) == {"day": "*", "requested": 2, "kept": 1, "met": 1, "failed": 0,
                                                    "open": 1, "kept_rate": 50.0, "met_rate": 50.0}

    # the interaction log: options at the main menu, the product asked for, the SMS confirming B's order
    options = {(r[0], r[1]): r[2] for r in ivr_options(s, period).rows}
    assert options == {("main", "0"): 2, ("main", "6"): 2, ("main", "1"): 1, ("main", "4"): 1}
    assert [(r[0], r[2]) for r in ivr_products(s, period).rows] == [("1234", 1)]
    messages = messages_by_channel(s, period)
    assert sum(r[messages.columns.index("sms_outbound")] for r in messages.rows) == 1

    # and the records behind them: the path and the links of B, who hung up D
    records = rows_by_call(s, calls)
    assert records["B"].ivr_path.startswith("main>buy>main") and list(records["B"].links) == ["orders"]
    assert (records["D"].hangup_side, records["D"].disposition) == ("agent", "answered")
    assert records["F"].links == {"callbacks": [records["F"].links["callbacks"][0]]}


def total_row_of_days(table) -> dict:
    columns = ("offered", "answered", "abandoned")
    return {c: sum(r[table.columns.index(c)] for r in table.rows) for c in columns}


def rows_by_call(s, calls) -> dict[str, CallDetailRecord]:
    by_uuid = {r.uuid: r for r in s.scalars(select(CallDetailRecord))}
    return {name: by_uuid[call.uuid] for name, call in calls.items()}

