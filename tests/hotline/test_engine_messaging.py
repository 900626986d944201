"""`hotline run` with messaging: an IVR caller asks for an SMS (order status, key 9) and it is delivered.

A real Engine on the real reactor (ports 0, the simulator, a migrated SQLite
file, the default capture gateway): the caller hears the status of their
shipped order, presses 9, and the outbox message is captured (delivered);
``hotline messages list`` then shows it. A fax sent to the fax number is
filed by the same engine (the simulator's copy of the fax extension).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import pytest_twisted
from sqlalchemy import select

import factories
from crm_core.db import transaction
from crm_core.models import CapturedMessage, InboundFax, OutboxMessage
from crm_core.services.orders import change_order_status, place_order
from engine_rig import OPEN_ALL_WEEK, engine_settings, publish_menu, start_engine, wait_for
from freeswitch.sim.fax import write_fax_tiff
from hotline.cli import main as cli

ORDER_MENU = OPEN_ALL_WEEK + """nodes:
  main:
    type: menu
    text: {zh: 查询订单请按一。}
    timeout: 5
    options:
      "1": {target: order_status, label: order status}
  order_status: {type: action, action: order_status, next: main}
"""

CALLER = "13912345678"


def seed(url: str, tmp: Path) -> str:
    from crm_core.db import make_engine, session_factory
    from crm_core.migrate import upgrade

    upgrade(url)
    engine = make_engine(url)
    with transaction(session_factory(engine)) as s:
        customer = factories.make_customer(s, name="王芳", phones=[CALLER])
        factories.make_product(s, phone_code="1234", name="刀具套装")
        order = place_order(s, customer.id, [("1234", 1)])
        change_order_status(s, order.number, "shipped", by="test", courier="顺丰速运", waybill="SF1234567890")
        publish_menu(s, tmp, ORDER_MENU)
        number = order.number
    engine.dispose()
    return number


@pytest.fixture
def hotline(tmp_path, database_maker):
    url = database_maker("sqlite")
    number = seed(url, tmp_path)
    settings = engine_settings(url, tmp_path, HOTLINE_MESSAGING_POLL_INTERVAL="0.1",
                               HOTLINE_FAX_SPOOL_DIR=str(tmp_path / "spool"),
                               HOTLINE_FAX_STORE_DIR=str(tmp_path / "fax"))
    engine = start_engine(settings, web=False)
    pytest_twisted.blockon(engine.switch.when_connected())
    pytest_twisted.blockon(engine.messaging.started)
    yield engine, url, number
    engine.acd.stop()
    pytest_twisted.blockon(engine.stop())


def db(engine, fn):
    with transaction(engine.sessions) as s:
        return fn(s)


@pytest_twisted.ensureDeferred
async def test_ivr_order_status_key_9_sms_is_delivered_to_the_capture_gateway_and_listed(hotline, capsys,
                                                                                         monkeypatch):
    engine, url, number = hotline
    script = ("wait_prompt 2; wait 0.3; press 1; wait_prompt 1; wait 0.3; press 2; wait_prompt 3; wait 0.3; "
              "press 9; wait_prompt 1; wait 0.3; hangup")
    call = engine.simulator.place_call(CALLER, "4008001234", script)
    sms = await wait_for(lambda: db(engine, lambda s: s.scalar(select(OutboxMessage).where(
        OutboxMessage.template == "order_details", OutboxMessage.status == "delivered"))), timeout=90,
        what="the order-details SMS delivered", call=call)
    assert (sms.channel, sms.recipient, sms.call_uuid, sms.provider) == ("sms", "+8613912345678", call.uuid,
                                                                         "capture")
    assert sms.body == f"订单{number}：shipped 顺丰速运 SF1234567890"
    captured = db(engine, lambda s: s.scalars(select(CapturedMessage)).all())
    assert [(c.recipient, c.client_ref) for c in captured] == [("+8613912345678", sms.idempotency_key)]
    await wait_for(lambda: any(e.get("text") == "订单详情将通过短信发送给您。" for e in call.transcript),
                   what="the caller to hear that the SMS is on its way", call=call)
    monkeypatch.setenv("HOTLINE_DB_URL", url)
    capsys.readouterr()
    assert cli(["messages", "list", "--channel", "sms", "--status", "delivered", "--json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [(m["id"], m["status"], m["provider"], m["template"]) for m in listed] == [
        (sms.id, "delivered", "capture", "order_details")]
    assert cli(["messages", "list"]) == 0
    table = capsys.readouterr().out
    assert "delivered" in table and "+8613912345678" in table and "order_details" in table


@pytest_twisted.ensureDeferred
async def test_engine_files_a_fax_sent_to_the_fax_number(hotline, tmp_path, monkeypatch):
    import freeswitch.sim.apps.fax as simfax

    monkeypatch.setattr(simfax, "NEGOTIATE_S", 0.3)
    monkeypatch.setattr(simfax, "PAGE_S", 0.2)
    engine, _url, _number = hotline
    document = write_fax_tiff(tmp_path / "in.tif", ["Purchase order", "page two"])
    call = engine.simulator.place_call(CALLER, "4008001099", f"fax {document}")
    fax = await wait_for(lambda: db(engine, lambda s: s.scalar(select(InboundFax))), timeout=30,
                         what="the fax filed", call=call)
    assert (fax.call_uuid, fax.status, fax.pages, fax.dnis) == (call.uuid, "received", 2, "4008001099")
    assert fax.customer_id is not None and Path(fax.pdf_path).is_file()
    assert Path(fax.tiff_path).read_bytes() == document.read_bytes()
