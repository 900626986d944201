"""Fax out and in through the switch simulator over loopback ESL: TIFF-F out, PDF filed in, failures recorded.

Fax out: the outbox renders the document (PDF + CCITT G4 TIFF), the adapter
originates ``&txfax(<tiff>)`` through the engine's Switch client, the result
comes from ``spandsp::txfaxresult``. ``tiffinfo`` (libtiff-tools) must read the
TIFF as Group 4 at 204x196 dpi, 1728 wide; busy, unanswered and voice-answered
numbers are retried. Fax in: a simulated fax machine calls the fax number
(the simulator's copy of ``dialplans/public/hotline.xml``), rxfax writes the
TIFF, the ``spandsp::rxfaxresult`` event makes the inbox file it with a PDF
``pdfinfo`` (poppler-utils) opens. The simulator's T.30 timing is shortened.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pytest
import pytest_twisted
from sqlalchemy import select
from twisted.internet import reactor
from twisted.internet.endpoints import TCP4ClientEndpoint

import factories
from crm_core.models import InboundFax, Interaction
from crm_core.services.outbox import enqueue
from freeswitch.esl.urlcode import fs_url_decode
from freeswitch.sim.fax import write_fax_tiff
from freeswitch.sim.phones import Endpoint
from freeswitch.sim.simulator import Simulator
from freeswitch.switch import Switch
from hotline.settings import load_settings
from hotline.sim_dialplan import install
from messaging.fax_inbox import FaxInbox
from messaging.service import MessagingService

from fs_traces import traces_dir
from messaging_rig import wait_for

TRACES = traces_dir() / "calls"


def tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        package = "libtiff-tools" if name == "tiffinfo" else "poppler-utils"
        pytest.skip(f"{name} is not installed (apt-get install {package})")
    return path


def tiffinfo(path: str) -> str:
    return subprocess.run([tool("tiffinfo"), path], check=True, capture_output=True, text=True).stdout


def pdfinfo(path: str) -> dict[str, str]:
    out = subprocess.run([tool("pdfinfo"), path], check=True, capture_output=True, text=True).stdout
    return {k.strip(): v.strip() for k, _, v in (line.partition(":") for line in out.splitlines())}


@pytest.fixture
def fast_fax(monkeypatch):
    import freeswitch.sim.apps.fax as simfax

    monkeypatch.setattr(simfax, "NEGOTIATE_S", 0.3)
    monkeypatch.setattr(simfax, "PAGE_S", 0.2)


@pytest.fixture
def switch_rig(tmp_path, fast_fax, sqlite_outbox_db):
    sim = Simulator(reactor, port=0, sounds_dir=tmp_path / "snd", recordings_dir=tmp_path / "rec")
    install(sim)
    spool = tmp_path / "spool"
    spool.mkdir()
    sim.core.global_vars.update(hotline_fax_dir=str(spool), hotline_fax_ident="+86 400 800 1099")
    port = sim.start()
    switch = Switch(TCP4ClientEndpoint(reactor, "127.0.0.1", port), "ClueCon", clock=reactor,
                    events=("CHANNEL_HANGUP_COMPLETE",), command_timeout=10)
    switch.start()
    pytest_twisted.blockon(switch.when_connected())
    settings = load_settings(None, env={
        "HOTLINE_FAX_GATEWAY": "freeswitch", "HOTLINE_FAX_STATION_ID": "+86 400 800 1099",
        "HOTLINE_FAX_HEADER": "Hotline Shop", "HOTLINE_FAX_CALLER_ID": "4008001099",
        "HOTLINE_FAX_STORE_DIR": str(tmp_path / "fax"), "HOTLINE_FAX_SPOOL_DIR": str(spool),
        "HOTLINE_FAX_RATE_PER_SECOND": "50", "HOTLINE_FAX_FAX_TIMEOUT": "20",
        "HOTLINE_MESSAGING_POLL_INTERVAL": "0.05", "HOTLINE_MESSAGING_RETRY_BASE": "0.2",
        "HOTLINE_MESSAGING_RETRY_MAX": "0.4"})
    service = MessagingService(settings, sqlite_outbox_db.gateway, reactor, switch=lambda: switch)
    pytest_twisted.blockon(service.start())

    from types import SimpleNamespace

    yield SimpleNamespace(sim=sim, switch=switch, service=service, db=sqlite_outbox_db, spool=spool, tmp=tmp_path)
    pytest_twisted.blockon(service.stop())
    pytest_twisted.blockon(switch.stop())
    pytest_twisted.blockon(sim.stop())


@pytest_twisted.ensureDeferred
async def test_fax_out_renders_tiff_f_and_sends_it_with_txfax(switch_rig):
    rig = switch_rig
    msg = rig.db.do(lambda s: enqueue(s, "fax", "02112345678", template="fax_product_sheet", key="fax-out-1",
                                      data={"code": "1234", "name": "刀具套装 Knife set", "price": "199.00",
                                            "description": "德国钢，六件套。" * 40}).id)
    rig.service.wake("fax")
    await wait_for(lambda: rig.db.message(msg).status == "delivered", timeout=20, what="fax delivered")
    row = rig.db.message(msg)
    assert row.provider == "freeswitch" and row.attempts == 1
    assert row.result["pages"] == row.result["total_pages"] >= 1 and row.result["result_text"] == "OK"
    assert row.result["local_station_id"] == "+86 400 800 1099"  # fax_ident from the settings
    info = tiffinfo(row.attachment_path)
    directories = info.count("TIFF Directory")
    assert directories == row.result["total_pages"]
    assert info.count("Compression Scheme: CCITT Group 4") == directories
    assert info.count("Resolution: 204, 196 pixels/inch") == directories
    assert info.count("Image Width: 1728") == directories
    assert pdfinfo(row.attachment_path.replace(".tif", ".pdf"))["Pages"] == str(directories)


@pytest_twisted.ensureDeferred
async def test_fax_out_busy_no_answer_and_voice_are_retried_then_failed(switch_rig):
    rig = switch_rig
    rig.sim.directory.external["02161234501"] = Endpoint(busy=True)
    rig.sim.directory.external["02161234502"] = Endpoint(answer_after=None)
    rig.sim.directory.external["02161234503"] = Endpoint(answer_after=0.0, fax=False)
    lane = rig.service.dispatcher.lanes["fax"]
    lane.adapter.originate_timeout = 1  # "no answer" after a second, not a minute
    ids = [rig.db.do(lambda s, n=n: enqueue(s, "fax", f"021612345{n:02d}", body="page", key=f"fax-r-{n}",
                                            max_attempts=2).id) for n in (1, 2, 3)]
    rig.service.wake("fax")
    await wait_for(lambda: all(rig.db.message(i).status == "failed" for i in ids), timeout=30, what="failures")
    errors = [rig.db.message(i).last_error for i in ids]
    assert errors[0] == "attempt 2/2: call failed: USER_BUSY"
    assert errors[1] == "attempt 2/2: call failed: NO_ANSWER"
    assert errors[2].startswith("attempt 2/2: fax failed: Timed out waiting for initial communication (code 2)")
    assert all(rig.db.message(i).attempts == 2 for i in ids)


@pytest_twisted.ensureDeferred
async def test_fax_in_is_filed_with_pdf_and_thumbnail_on_the_customer_or_unmatched(switch_rig):
    rig = switch_rig
    customer_id = rig.db.do(lambda s: factories.make_customer(s, phones=["13800138000"]).id)
    document = write_fax_tiff(rig.tmp / "snd" / "order.tif", ["Order 1234567890", "Page two"])
    known = rig.sim.place_call("13800138000", "4008001099", f"fax {document}")
    stranger = rig.sim.place_call("02199999999", "4008001099", f"fax {document}")
    await wait_for(lambda: len(rig.service.inbox.filed) == 2, timeout=20, what="two faxes filed")
    faxes = rig.db.do(lambda s: {f.call_uuid: f for f in s.scalars(select(InboundFax))})
    mine, other = faxes[known.uuid], faxes[stranger.uuid]
    assert (mine.status, mine.pages, mine.customer_id, mine.sender_e164) == ("received", 2, customer_id,
                                                                            "+8613800138000")
    assert (other.status, other.customer_id) == ("received", None)  # the unmatched inbox
    assert mine.dnis == "4008001099" and mine.result_text == "OK"
    assert pdfinfo(mine.pdf_path)["Pages"] == "2"
    assert mine.thumbnail_path.endswith(".png") and mine.tiff_path.startswith(str(rig.tmp / "fax" / "in"))
    timeline = rig.db.do(lambda s: s.scalars(select(Interaction).where(Interaction.channel == "fax")).all())
    assert [(t.customer_id, t.direction, t.detail["fax_id"]) for t in timeline] == [(customer_id, "inbound",
                                                                                    mine.id)]


@pytest_twisted.ensureDeferred
async def test_caller_without_a_fax_machine_is_filed_as_failed_with_the_reason(switch_rig):
    rig = switch_rig
    call = rig.sim.place_call("13800138001", "4008001099", "wait 5; hangup")
    await wait_for(lambda: rig.service.inbox.filed, timeout=20, what="filed")
    fax = rig.db.do(lambda s: s.scalars(select(InboundFax).where(InboundFax.call_uuid == call.uuid)).one())
    assert (fax.status, fax.pages, fax.pdf_path) == ("failed", 0, None)
    assert fax.error and "reception failed" in fax.error


def _trace_rxfax_headers() -> dict[str, str]:
    path = TRACES / "06_fax.inbound.frames.jsonl"
    for line in path.read_text().splitlines():
        frame = json.loads(line)
        body = frame.get("body") or ""
        if frame["dir"] == "in" and "spandsp%3A%3Arxfaxresult" in body:
            return {k: fs_url_decode(v.strip()) for k, _, v in (row.partition(":") for row in body.splitlines() if row)}
    pytest.fail("no rxfaxresult in the fax trace")


@pytest_twisted.ensureDeferred
async def test_real_switch_rxfax_event_and_a_corrupt_file_are_filed_as_failed_with_the_reason(sqlite_outbox_db,
                                                                                            tmp_path):
    """The filing path takes a real FreeSWITCH 1.11 rxfaxresult (from the captures), no simulator involved."""
    headers = _trace_rxfax_headers()
    good = write_fax_tiff(tmp_path / "good.tif", ["hello"])
    corrupt = tmp_path / "corrupt.tif"
    corrupt.write_bytes(good.read_bytes()[:200])  # truncated in the middle of the page data
    inbox = FaxInbox(sqlite_outbox_db.gateway, reactor, tmp_path / "store")
    try:
        filed_id = await inbox.file_event({**headers, "variable_fax_filename": str(corrupt)})
        ok_id = await inbox.file_event({**headers, "Unique-ID": "trace-copy", "variable_fax_filename": str(good)})
    finally:
        inbox.stop()
    bad, fine = (sqlite_outbox_db.do(lambda s, i=i: s.get(InboundFax, i)) for i in (filed_id, ok_id))
    assert (bad.call_uuid, bad.status, bad.sender, bad.remote_station_id) == (headers["Unique-ID"], "failed", "1111",
                                                                             "1111")
    assert re.match(r"corrupt\.tif is not a readable TIFF \(corrupt or truncated\)", bad.error) and bad.pdf_path is None
    assert bad.result_text == "OK"  # spandsp was happy; the file on disk is what is broken
    assert (fine.status, fine.pages) == ("received", 1) and pdfinfo(fine.pdf_path)["Pages"] == "1"


@pytest_twisted.ensureDeferred
async def test_voice_notification_is_a_call_that_plays_the_spoken_text(switch_rig):
    import wave

    from twisted.internet import defer

    from messaging.channels.voice import FreeswitchVoiceAdapter
    from messaging.dispatcher import Dispatcher, DispatchPolicy

    rig = switch_rig
    await rig.service.stop()  # its voice lane is the capture gateway; this test has a dispatcher of its own
    spoken: list[tuple[str, str]] = []
    wav = rig.tmp / "spoken.wav"
    with wave.open(str(wav), "wb") as out:  # what the TTS renderer would hand back: 8 kHz mono
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(8000)
        out.writeframes(b"\x00\x00" * 4000)

    def speak(text, language):
        spoken.append((text, language))
        return defer.succeed(str(wav))

    rig.sim.directory.external["13900000002"] = Endpoint(busy=True)
    adapter = FreeswitchVoiceAdapter(rig.switch, speak, dial_template="sofia/gateway/itsp/{national}",
                                     caller_id="4008001234", originate_timeout=5)
    dispatcher = Dispatcher(rig.db.gateway, clock=reactor, policy=DispatchPolicy(poll_interval=0.05,
                                                                                 retry_base=0.2, retry_max=0.2))
    dispatcher.add_lane("voice", adapter, rate=10)
    await dispatcher.start()
    try:
        ok = rig.db.do(lambda s: enqueue(s, "voice", "13900000001", body="您的订单已发货。", key="voice-1").id)
        busy = rig.db.do(lambda s: enqueue(s, "voice", "13900000002", body="x", key="voice-2", max_attempts=2).id)
        dispatcher.wake("voice")
        await wait_for(lambda: rig.db.message(ok).status == "delivered" and rig.db.message(busy).status == "failed",
                       timeout=20, what="voice outcomes")
    finally:
        await dispatcher.stop()
    row = rig.db.message(ok)
    assert row.provider == "freeswitch" and row.result == {"answered": True, "prompt": str(wav)}
    assert spoken[0] == ("您的订单已发货。", "zh")
    assert rig.db.message(busy).last_error == "attempt 2/2: call failed: USER_BUSY"
