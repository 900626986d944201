"""Files every fax the switch received, from the ``spandsp::rxfaxresult`` event (or a plain mapping of its headers).

The event names the channel (``Unique-ID``), the sender (``Caller-Caller-ID-Number``),
the number called (``Caller-Destination-Number``), the file rxfax wrote
(``variable_fax_filename``) and spandsp's verdict (``fax-success``,
``fax-result-code``, ``fax-result-text``, ``fax-document-transferred-pages``,
``fax-remote-station-id``). The TIFF is copied into the fax store and
converted to a PDF and a thumbnail in a thread; the result is filed with
``crm_core.services.faxes.file_inbound_fax`` (customer by caller ID, or the
unmatched inbox). A reception spandsp reports as failed, or a file that does
not decode, is filed as failed with the reason -- nothing is dropped.

Nothing here depends on the simulator: ``file_event`` takes the event's
headers as a mapping, so a real FreeSWITCH's events (or a replayed capture)
go through the same path. ``sweep`` files TIFFs left in the switch's fax
directory while the engine was not listening.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping

from twisted.internet import defer

from crm_core.services.faxes import ReceivedFax, file_inbound_fax, filed_call_uuids
from messaging.db import DbRunner
from messaging.fax_convert import FaxConversionError, convert_received_fax
from messaging.threads import BlockingPool

log = logging.getLogger(__name__)

RXFAX_RESULT = "spandsp::rxfaxresult"
#: a spooled TIFF younger than this may still be being received: the sweep leaves it alone (seconds)
SWEEP_MIN_AGE = 600.0


@dataclass(frozen=True)
class RxFaxEvent:
    """What an rxfax result says, taken from the event headers."""

    call_uuid: str
    success: bool
    sender: str | None
    dnis: str | None
    path: str | None
    pages: int
    total_pages: int | None
    result_code: int | None
    result_text: str | None
    remote_station_id: str | None


def _int(value: str | None) -> int | None:
    return int(value) if value and value.strip().lstrip("-").isdigit() else None


def parse_rxfax_event(headers: Mapping[str, str]) -> RxFaxEvent:
    """The fields of a ``spandsp::rxfaxresult`` event (headers as FreeSWITCH sends them)."""
    def get(*names: str) -> str | None:
        for name in names:
            value = headers.get(name)
            if value not in (None, ""):
                return value
        return None

    uuid = get("Unique-ID", "Channel-Call-UUID", "variable_uuid")
    if not uuid:
        raise ValueError("rxfax result without a Unique-ID")
    return RxFaxEvent(
        call_uuid=uuid, success=get("fax-success", "variable_fax_success") == "1",
        sender=get("Caller-Caller-ID-Number", "Caller-ANI", "variable_caller_id_number"),
        dnis=get("variable_hotline_fax_number", "Caller-Destination-Number"),
        path=get("variable_fax_filename", "variable_current_application_data"),
        pages=_int(get("fax-document-transferred-pages", "variable_fax_document_transferred_pages")) or 0,
        total_pages=_int(get("fax-document-total-pages", "variable_fax_document_total_pages")),
        result_code=_int(get("fax-result-code", "variable_fax_result_code")),
        result_text=get("fax-result-text", "variable_fax_result_text"),
        remote_station_id=get("fax-remote-station-id", "variable_fax_remote_station_id"))


class FaxInbox:
    """Converts and files received faxes; one instance per engine."""

    def __init__(self, db: DbRunner, reactor: Any, store_dir: str | os.PathLike, *, spool_dir: str | None = None,
                 region: str = "CN", threads: int = 2) -> None:
        self.db, self.reactor = db, reactor
        self.store_dir = Path(store_dir)
        self.spool_dir = Path(spool_dir) if spool_dir else None
        self.region = region
        self.threads = BlockingPool(reactor, "hotline-fax-in", threads)
        self.filed: list[int] = []

    def stop(self) -> None:
        self.threads.stop()

    def attach(self, switch: Any) -> None:
        """Listen for rxfax results on the engine's inbound event connection."""
        switch.subscribe("CUSTOM", self.on_event, subclass=RXFAX_RESULT)

    def on_event(self, event: Any) -> defer.Deferred:
        """Switch event handler."""
        return self.file_event(event)

    def file_event(self, headers: Mapping[str, str]) -> defer.Deferred:
        """File the fax an rxfax result event describes; Deferred of the inbound fax id."""
        try:
            fax = parse_rxfax_event(headers)
        except ValueError as exc:
            log.error("rxfax result not filed: %s", exc)
            return defer.succeed(None)
        return self.file(fax)

    def _locate(self, path: str | None) -> Path | None:
        """The received file as the engine sees it (the switch's path, or the same name in ``spool_dir``)."""
        if not path:
            return None
        candidate = Path(path)
        if candidate.is_file():
            return candidate
        if self.spool_dir is not None and (self.spool_dir / candidate.name).is_file():
            return self.spool_dir / candidate.name
        return candidate

    def _convert(self, fax: RxFaxEvent) -> ReceivedFax:
        """In a pool thread: copy and convert the file; the filing record, failed when anything is wrong."""
        source = self._locate(fax.path)
        error = None
        converted = None
        folder = self.store_dir / dt.datetime.now(dt.timezone.utc).strftime("%Y/%m")
        if source is None:
            error = "the switch reported no file for this fax"
        else:
            try:
                converted = convert_received_fax(source, folder, fax.call_uuid)
            except FaxConversionError as exc:
                error = exc.reason
            except OSError as exc:
                error = f"cannot file the received document: {exc}"
        ok = fax.success and converted is not None
        if not fax.success:  # spandsp's verdict first; a missing or partial file follows from it
            code = f" (code {fax.result_code})" if fax.result_code is not None else ""
            error = f"reception failed: {fax.result_text or 'no result'}{code}"
        pages = converted.pages if converted is not None else fax.pages
        return ReceivedFax(call_uuid=fax.call_uuid, ok=ok, sender=fax.sender, dnis=fax.dnis,
                           remote_station_id=fax.remote_station_id, pages=pages if ok else fax.pages,
                           total_pages=fax.total_pages, result_code=fax.result_code, result_text=fax.result_text,
                           error=None if ok else error, tiff_path=str(converted.tiff) if converted else
                           (str(source) if source is not None and source.is_file() else None),
                           pdf_path=str(converted.pdf) if converted else None,
                           thumbnail_path=str(converted.thumbnail) if converted else None)

    def file(self, fax: RxFaxEvent) -> defer.Deferred:
        """Convert (in a thread) and file one received fax; Deferred of the inbound fax id."""
        d = self.threads.run(self._convert, fax)
        d.addCallback(lambda received: self.db.run(file_inbound_fax, received, region=self.region))

        def filed(row: Any) -> int:
            log.info("fax %s from %s filed as %s (%s, %d page(s))%s", fax.call_uuid, fax.sender or "unknown",
                     row.id, row.status, row.pages, "" if row.customer_id else " in the unmatched inbox")
            self.filed.append(row.id)
            return row.id

        d.addCallback(filed)
        d.addErrback(lambda f: log.error("fax %s not filed: %s", fax.call_uuid, f.getTraceback()) and None)
        return d

    def sweep(self, min_age: float = SWEEP_MIN_AGE) -> defer.Deferred:
        """File TIFFs in the spool directory no event was seen for (the engine was down); how many."""
        if self.spool_dir is None or not self.spool_dir.is_dir():
            return defer.succeed(0)
        now = time.time()
        files = {p.stem: p for p in self.spool_dir.glob("*.tif") if now - p.stat().st_mtime >= min_age}
        if not files:
            return defer.succeed(0)

        def unfiled(done: set[str]) -> defer.Deferred:
            todo = [(uuid, path) for uuid, path in sorted(files.items()) if uuid not in done]
            work = [self.file(RxFaxEvent(uuid, True, None, None, str(path), 0, None, None,
                                         "filed by the start-up sweep: no result event was seen", None))
                    for uuid, path in todo]
            return defer.gatherResults(work).addCallback(lambda ids: len(ids))

        return self.db.run(filed_call_uuids, list(files)).addCallback(unfiled)
