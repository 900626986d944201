"""The fax lane's first step: render a message's text into its PDF and TIFF once, before any gateway sees it.

Rendering runs on its own small thread pool (never on the reactor). The TIFF
path is written to the message at once, so every retry sends the same pages
and the admin UI can show the document. A document that cannot be rendered
fails the message for good, with the reason.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from twisted.internet import defer

from crm_core.services.outbox import set_attachment
from crm_core.services.outbox_dispatch import ClaimedMessage
from messaging.channels.base import PermanentSendError
from messaging.db import DbRunner
from messaging.dispatcher import with_attachment
from messaging.fax_render import FaxRenderError, render_fax_document
from messaging.threads import BlockingPool


class FaxPreparer:
    """``prepare`` callable of the fax lane: ClaimedMessage -> Deferred of it with ``attachment_path`` set."""

    def __init__(self, db: DbRunner, reactor: Any, out_dir: str | os.PathLike, *, font_path: str | None = None,
                 compression: str = "group4", threads: int = 2) -> None:
        self.db, self.reactor = db, reactor
        self.out_dir = Path(out_dir)
        self.font_path, self.compression = font_path or None, compression
        self.threads = BlockingPool(reactor, "hotline-fax-render", threads)

    def stop(self) -> None:
        self.threads.stop()

    def __call__(self, message: ClaimedMessage) -> defer.Deferred:
        if message.attachment_path and os.path.isfile(message.attachment_path):
            return defer.succeed(message)
        folder = self.out_dir / f"{message.id // 1000:06d}"
        d = self.threads.run(render_fax_document, message.body, folder, f"outbox-{message.id}",
                             title=message.subject, font_path=self.font_path, compression=self.compression)

        def rendered(files: Any) -> defer.Deferred:
            path = str(files.tiff)
            return self.db.run(set_attachment, message.id, path).addCallback(
                lambda _: with_attachment(message, path))

        def refused(failure: Any) -> Any:
            if failure.check(FaxRenderError):
                raise PermanentSendError(f"fax document not rendered: {failure.getErrorMessage()}")
            return failure

        d.addCallbacks(rendered, refused)
        return d
