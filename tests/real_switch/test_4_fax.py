"""A fax to the fax number over a SIP leg: the switch answers it, receives it with rxfax, a real TIFF lands.

Sent by the switch itself (``originate sofia/trunk/4008001099@... &txfax(file)``),
so it reaches the trunk profile like a carrier's call and runs the shipped
``hotline_fax_in`` extension. Fax between the two legs of ``loopback/``
does not work (T.38 negotiation times out), a SIP leg does.

The engine hears the ``spandsp::rxfaxresult`` event on its own event-socket
connection and files the fax (messaging's ``FaxInbox``): the TIFF kept, a
PDF and a thumbnail made, the row in ``inbound_faxes``. The sender here is
nobody's number, so the fax waits in the unmatched inbox.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import time
import uuid as uuidlib
from pathlib import Path

import pytest
from sqlalchemy import select

from calls import Record
from crm_core.models import InboundFax
from freeswitch.sim.fax import read_fax_tiff, write_fax_tiff

FAX_DID = "4008001099"
SENDER = "02150001234"


@pytest.fixture(scope="module")
def received_fax(deployment, events, api):
    """Send a two-page fax to the fax number; (rxfaxresult event, received TIFF path)."""
    sent = deployment.sipp_dir / "outgoing-fax.tif"
    write_fax_tiff(sent, ["Hotline fax test, page 1\nOrder 2263195378: please deliver after 6 pm.",
                          "Page 2\nSigned, a customer"])
    leg = str(uuidlib.uuid4())
    start = events.mark()
    reply = api.api(f"originate {{origination_uuid={leg},origination_caller_id_number={SENDER},"
                    f"fax_ident={SENDER},ignore_early_media=true}}"
                    f"sofia/trunk/{FAX_DID}@127.0.0.1:{deployment.ports.trunk} &txfax({sent})")
    assert reply.startswith("+OK"), reply
    result = events.wait(lambda e: e.get("Event-Name") == "CUSTOM" and e.get("Event-Subclass") == "spandsp::rxfaxresult",
                         "the fax to be received", 120, start)
    return result, sent


@pytest.mark.timeout(240)
def test_a_fax_to_the_fax_number_is_received_into_the_fax_directory(deployment, received_fax):
    result, sent = received_fax
    assert result["fax-success"] == "1", dict(result.event.headers)
    receiver = result["Unique-ID"]
    tif = deployment.fax_dir / f"{receiver}.tif"  # $${hotline_fax_dir}/${uuid}.tif, as the dialplan says
    assert tif.is_file() and result.get("fax-filename", str(tif)) == str(tif)
    got = read_fax_tiff(tif)
    assert len(got.pages) == 2 == int(result["fax-document-transferred-pages"])
    assert all(page.width == read_fax_tiff(sent).pages[0].width for page in got.pages)
    assert result.get("fax-remote-station-id") == SENDER


def test_the_received_fax_is_filed_in_the_crm(deployment, received_fax):
    result, _ = received_fax
    receiver = result["Unique-ID"]
    record = Record(deployment.db_url)
    deadline, fax = time.monotonic() + 30, None
    while fax is None and time.monotonic() < deadline:
        fax = record.read(lambda s: s.scalars(select(InboundFax).where(InboundFax.call_uuid == receiver)).first())
        if fax is None:
            time.sleep(0.25)
    assert fax is not None, f"the engine filed no fax for {receiver} within 30 s"
    assert (fax.status, fax.pages, fax.sender, fax.customer_id) == ("received", 2, SENDER, None)
    assert fax.remote_station_id == SENDER and fax.dnis == FAX_DID
    assert Path(fax.tiff_path).is_file() and len(read_fax_tiff(Path(fax.tiff_path)).pages) == 2
    assert Path(fax.thumbnail_path).is_file()
    pdfinfo = shutil.which("pdfinfo")
    if pdfinfo is None:
        pytest.fail("pdfinfo (poppler-utils) is needed to open the filed PDF")
    info = subprocess.run([pdfinfo, fax.pdf_path], check=True, capture_output=True, text=True).stdout
    assert re.search(r"^Pages:\s+2$", info, re.M), info
