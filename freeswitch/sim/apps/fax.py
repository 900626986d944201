"""txfax / rxfax: T.30 over the simulated line, with spandsp's CUSTOM events and fax_* variables.

The pages travel as text in TIFF files written and read by ``freeswitch.sim.fax``;
the far end is the simulated caller (its ``fax`` script step) or another leg.
Event names and variables are those of mod_spandsp in FreeSWITCH 1.11.1 (note "negociate").
"""

from __future__ import annotations

import shutil
from pathlib import Path

from freeswitch.sim.apps.basic import app
from freeswitch.sim.channel import Channel

#: simulated seconds of T.30 negotiation and per page (a real 1-page fax took ~16 s)
NEGOTIATE_S = 5.0
PAGE_S = 8.0


def _fax_module():
    try:
        from freeswitch.sim import fax as faxmod
    except ImportError:  # pragma: no cover - the fax helper is written by another engineer
        return None
    return faxmod


def _custom(ch: Channel, subclass: str, func: str, line: int, extra: list[tuple[str, str]]) -> None:
    ch.fire("CUSTOM", ("mod_spandsp_fax.c", func, line), subclass=subclass, extra=extra)


def _result_vars(ch: Channel, pages: int, total: int, ok: bool, path: str) -> None:
    ch.variables.update({
        "fax_success": "1" if ok else "0", "fax_result_code": "0" if ok else "49",
        "fax_result_text": "OK" if ok else "The call dropped prematurely",
        "fax_document_transferred_pages": str(pages), "fax_document_total_pages": str(total),
        "fax_transfer_rate": "14400", "fax_ecm_used": "on", "fax_ecm_requested": "true",
        "fax_v17_disabled": "false", "fax_t38_status": "off",
        "fax_local_station_id": ch.variables.get("fax_ident", "SpanDSP Fax Ident"),
        "fax_remote_station_id": ch.variables.get("fax_remote_ident", "SpanDSP Fax Ident"),
        "fax_filename": path, "fax_image_resolution": "8040x7700", "fax_image_size": "0",
        "fax_bad_rows": "0", "fax_encoding": "32", "fax_encoding_name": "T.85(L0)",
    })


def _result_headers(ch: Channel) -> list[tuple[str, str]]:
    v = ch.variables
    return [("fax-success", v["fax_success"]), ("fax-result-code", v["fax_result_code"]),
            ("fax-result-text", v["fax_result_text"]),
            ("fax-document-transferred-pages", v["fax_document_transferred_pages"]),
            ("fax-document-total-pages", v["fax_document_total_pages"]),
            ("fax-image-resolution", "8040x7700"), ("fax-image-size", "0"), ("fax-bad-rows", "0"),
            ("fax-transfer-rate", "14400"), ("fax-ecm-used", "on"), ("fax-t38-status", "off"),
            ("fax-local-station-id", v["fax_local_station_id"]),
            ("fax-remote-station-id", v["fax_remote_station_id"])]


async def _session(ch: Channel, direction: str, pages: list[str], path: str) -> int | None:
    """Negotiate, move pages (one per PAGE_S), return pages transferred before a hangup.

    None: no fax machine answered (a person on the line), so negotiation never started.
    """
    ident = ch.variables.get("fax_ident", "SpanDSP Fax Ident")
    if await ch.wait(NEGOTIATE_S) != "timeout":
        return 0
    far_end = getattr(ch, "far_end", None)
    if far_end is not None and not getattr(far_end, "fax", True):
        return None
    _custom(ch, f"spandsp::{direction}faxnegociateresult", "phase_b_handler", 386, [
        ("uuid", ch.uuid), ("fax-transfer-rate", "14400"), ("fax-ecm-used", "on"), ("fax-t38-status", "off"),
        ("fax-local-station-id", ident), ("fax-remote-station-id", ident),
        ("fax-document-total-pages", str(len(pages) if direction == "tx" else 0))])
    done = 0
    for _ in pages:
        if await ch.wait(PAGE_S) != "timeout":
            return done
        done += 1
        _custom(ch, f"spandsp::{direction}faxpageresult", "phase_d_handler", 521, [
            ("uuid", ch.uuid), ("fax-document-transferred-pages", str(done)),
            ("fax-image-resolution", "8040x7700"), ("fax-file-image-resolution", "8040x7700"),
            ("fax-image-size", "400"), ("fax-image-pixel-size", "1728x400"),
            ("fax-file-image-pixel-size", "1728x400"), ("fax-bad-rows", "0"), ("fax-longest-bad-row-run", "0"),
            ("fax-encoding", "32"), ("fax-encoding-name", "T.85(L0)")])
    return done


@app("rxfax")
async def rxfax(ch: Channel, arg: str) -> None:
    """Receive the document the simulated sender offers (``fax`` caller step) into a TIFF at ``arg``.

    All pages through: the sender's TIFF arrives as is; cut short by a hangup: a TIFF of the
    pages that made it. Nothing offered: the session fails like a voice caller on a fax line.
    """
    path = Path(ch.core.expand(arg.strip(), ch))
    if not path.is_absolute():
        path = ch.core.recordings_dir / path
    offer = getattr(ch, "fax_offer", None)
    total = offer[1].page_count if offer else 0
    pages = [f"page {i + 1}" for i in range(total)]
    done = await _session(ch, "rx", pages, str(path)) or 0
    ok = bool(total) and done == total
    faxmod = _fax_module()
    if done and faxmod is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        if ok:
            shutil.copyfile(offer[0], path)
        else:
            faxmod.write_fax_tiff(path, pages[:done])
    _result_vars(ch, done, total, ok, str(path))
    _custom(ch, "spandsp::rxfaxresult", "phase_e_handler", 676, _result_headers(ch))
    ch.core.notify("fax_received", channel=ch, path=str(path), pages=pages[:done])
    return None


@app("txfax")
async def txfax(ch: Channel, arg: str) -> None:
    """Send a TIFF: its pages go to the far end (reported in the simulated receiver's transcript)."""
    path = Path(ch.core.expand(arg.strip(), ch))
    faxmod = _fax_module()
    total = 0
    try:
        if faxmod is not None:
            total = faxmod.read_fax_tiff(path).page_count
    except Exception:
        total = 0
    pages = [f"page {i + 1}" for i in range(total)]
    session = await _session(ch, "tx", pages, str(path)) if total else 0
    done = session or 0
    _result_vars(ch, done, total, bool(total) and done == total, str(path))
    if not total:  # spandsp's T30_ERR_FILEERROR
        ch.variables["fax_result_code"] = "41"
        ch.variables["fax_result_text"] = "TIFF/F file cannot be opened"
    elif session is None:  # T30_ERR_T0_EXPIRED: nobody answered with fax tones
        ch.variables["fax_result_code"] = "2"
        ch.variables["fax_result_text"] = "Timed out waiting for initial communication"
    _custom(ch, "spandsp::txfaxresult", "phase_e_handler", 676, _result_headers(ch))
    ch.core.notify("fax_sent", channel=ch, path=str(path), pages=pages[:done])
    return None
