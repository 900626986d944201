"""A fax to the fax number over a SIP leg: the switch answers it, receives it with rxfax, a real TIFF lands.

Sent by the switch itself (``originate sofia/trunk/4008001099@... &txfax(file)``),
so it reaches the trunk profile like a carrier's call and runs the shipped
``hotline_fax_in`` extension. Fax between the two legs of ``loopback/``
does not work (T.38 negotiation times out), a SIP leg does.

Filing the received fax in the CRM belongs to the messaging package, which
is being built beside this stage: :data:`FAX_FILING` is the hook where its
check goes; until it is set, the filing test says so and skips.
"""

from __future__ import annotations

import uuid as uuidlib
from pathlib import Path
from typing import Callable

import pytest

from calls import Record
from freeswitch.sim.fax import read_fax_tiff, write_fax_tiff

FAX_DID = "4008001099"

#: HOOK for the messaging work: a callable(record, tif_path, receiving_channel_uuid) asserting that the
#: engine filed the fax it received (document row, sender, pages). None until inbound faxes are filed.
FAX_FILING: Callable[[Record, Path, str], None] | None = None


@pytest.fixture(scope="module")
def received_fax(deployment, events, api):
    """Send a two-page fax to the fax number; (rxfaxresult event, received TIFF path)."""
    sent = deployment.sipp_dir / "outgoing-fax.tif"
    write_fax_tiff(sent, ["Hotline fax test, page 1\nOrder 2263195378: please deliver after 6 pm.",
                          "Page 2\nSigned, a customer"])
    leg = str(uuidlib.uuid4())
    start = events.mark()
    reply = api.api(f"originate {{origination_uuid={leg},origination_caller_id_number=02150001234,"
                    f"fax_ident=02150001234,ignore_early_media=true}}"
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
    assert result.get("fax-remote-station-id") == "02150001234"


def test_the_received_fax_is_filed_in_the_crm(deployment, received_fax):
    if FAX_FILING is None:
        pytest.skip("filing inbound faxes comes with the messaging work: set FAX_FILING in this module")
    result, _ = received_fax
    receiver = result["Unique-ID"]
    FAX_FILING(Record(deployment.db_url), deployment.fax_dir / f"{receiver}.tif", receiver)
