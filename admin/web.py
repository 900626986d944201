"""Serving the admin app inside the engine's Twisted reactor, with request bodies kept in bounds.

A ``WSGIResource`` cannot have children, so the root is a plain ``Resource``
that serves its own children (native Twisted resources such as ``/events``
server-sent events or ``/metrics``, mounted with ``putChild``) and hands
every other path to the Flask app. Flask runs on the reactor's thread pool;
Flask code reaches the reactor only through ``reactor.callFromThread``.

Twisted reads a request body completely before any resource sees it, and
the reactor thread that reads it also serves every call. So the body is
checked here, as it arrives (:class:`LimitedRequest`):

* a ``Content-Length`` over the limit is answered ``413`` from the headers
  alone, before one byte of the body is read; a chunked body without a
  length gets the same answer the moment it passes the limit;
* the limit is ``max_request`` for forms and JSON, and ``max_upload`` for a
  ``multipart/form-data`` upload (CSV imports, recordings) from a browser
  with a signed-in session cookie (its signature is checked, no database);
  an anonymous visitor never gets more than ``max_request``;
* bodies above a few kilobytes go to a temporary file written by a worker
  thread (:mod:`admin.body_spool`), never by the reactor thread, and Twisted
  does not parse them at all (the WSGI app does, on its own thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from io import BytesIO
from typing import Any

from twisted.python.threadpool import ThreadPool
from twisted.web.resource import Resource
from twisted.web.server import Request, Site
from twisted.web.wsgi import WSGIResource

from admin.body_spool import BodySpool

log = logging.getLogger(__name__)

#: Bodies at least this long (or of unknown length) are spooled to disk by a worker thread.
SPOOL_FROM = 64 * 1024
#: After refusing a body, keep reading (and dropping) it this long so the client sees the 413, then cut.
LINGER_SECONDS = 2.0
DEFAULT_MAX_REQUEST = 1024 * 1024
DEFAULT_MAX_UPLOAD = 20 * 1024 * 1024


@dataclass(frozen=True)
class BodyLimits:
    """Largest body of a form/JSON request, and of a file upload by a signed-in user."""

    max_request: int = DEFAULT_MAX_REQUEST
    max_upload: int = DEFAULT_MAX_UPLOAD
    upload_allowed: Callable[[Request], bool] = field(default=lambda request: True)

    def for_request(self, request: Request) -> int:
        """The limit for this request, from its headers."""
        content_type = (request.getHeader(b"content-type") or b"").lower()
        if content_type.startswith(b"multipart/form-data") and self.upload_allowed(request):
            return max(self.max_upload, self.max_request)
        return self.max_request


def signed_in_checker(app: Any) -> Callable[[Request], bool]:
    """Whether a request carries the Flask app's signed session cookie of a logged-in user (signature only)."""
    interface = app.session_interface
    serializer = interface.get_signing_serializer(app) if hasattr(interface, "get_signing_serializer") else None
    name = app.config.get("SESSION_COOKIE_NAME", "session").encode()
    max_age = int(app.permanent_session_lifetime.total_seconds())

    def check(request: Request) -> bool:
        if serializer is None:
            return True
        raw = request.getCookie(name)
        if not raw:
            return False
        try:
            data = serializer.loads(raw.decode("latin-1"), max_age=max_age)
        except Exception:  # a forged, expired or malformed cookie
            return False
        return isinstance(data, dict) and "_user_id" in data

    return check


class LimitedRequest(Request):
    """A ``Request`` that refuses oversize bodies as they arrive and spools big ones off the reactor."""

    def __init__(self, channel: Any, *args: Any, **kwargs: Any) -> None:
        super().__init__(channel, *args, **kwargs)
        self._limit = DEFAULT_MAX_REQUEST
        self._received = 0
        self._refused = False
        self._spool: BodySpool | None = None

    def gotLength(self, length: int | None) -> None:
        site = self.channel.site
        self._limit = site.limits.for_request(self)
        self.content = BytesIO()
        if length is not None and length > self._limit:
            self._refuse(413, f"request body of {length} bytes is over the limit of {self._limit} bytes")
        elif length is None or length >= SPOOL_FROM:
            self._spool = BodySpool(site.reactor, site.spool_pool(), self.channel.transport)
            self.content = self._spool.file

    def handleContentChunk(self, data: bytes) -> None:
        if self._refused:
            return
        self._received += len(data)
        if self._received > self._limit:
            self._refuse(413, f"request body is over the limit of {self._limit} bytes")
        elif self._spool is not None:
            self._spool.write(data)
        else:
            self.content.write(data)

    def requestReceived(self, command: bytes, path: bytes, version: bytes) -> None:
        if self._refused:
            return
        if self._spool is None:
            super().requestReceived(command, path, version)
            return

        def go_on(_file: Any) -> None:
            if not self._disconnected:
                Request.requestReceived(self, command, path, version)

        def failed(reason: Any) -> None:
            log.error("could not store a request body: %s", reason.getErrorMessage())
            if not self._disconnected:
                self._refuse(507, "the request body could not be stored")

        self._spool.finished().addCallbacks(go_on, failed)

    def _refuse(self, code: int, reason: str) -> None:
        """Answer ``code`` now, drop whatever else this connection sends, and close it shortly."""
        self._refused = True
        channel, transport = self.channel, self.channel.transport
        body = (reason + "\n").encode("utf-8")
        phrase = {413: b"Content Too Large", 507: b"Insufficient Storage"}.get(code, b"Error")
        transport.write(b"HTTP/1.1 %d %s\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n"
                        b"Connection: close\r\n\r\n%s" % (code, phrase, len(body), body))
        channel.dataReceived = lambda data: None  # nothing more of this connection is parsed or stored
        if hasattr(transport, "loseWriteConnection"):
            transport.loseWriteConnection()
        else:
            transport.loseConnection()
        reactor = channel.site.reactor

        def cut() -> None:
            if getattr(transport, "connected", False):
                transport.abortConnection()

        reactor.callLater(LINGER_SECONDS, cut)
        log.info("refused a request body from %s: %s", getattr(transport.getPeer(), "host", "?"), reason)


class LimitedSite(Site):
    """A ``Site`` whose requests are :class:`LimitedRequest` and whose bodies are never parsed by Twisted."""

    def __init__(self, resource: Any, reactor: Any, limits: BodyLimits | None = None, **kwargs: Any) -> None:
        super().__init__(resource, requestFactory=LimitedRequest, parsePOSTFormSubmission=False, **kwargs)
        self.reactor = reactor
        self.limits = limits or BodyLimits()
        self._spool_pool: ThreadPool | None = None

    def spool_pool(self) -> ThreadPool:
        """The small thread pool that writes spooled bodies (started with the reactor, stopped with it)."""
        if self._spool_pool is None:
            self._spool_pool = ThreadPool(minthreads=0, maxthreads=2, name="hotline-body-spool")
            self.reactor.callWhenRunning(self._spool_pool.start)
            self.reactor.addSystemEventTrigger("during", "shutdown", self._spool_pool.stop)
        return self._spool_pool


class WebRoot(Resource):
    """Children first (``putChild``), the WSGI app for everything else."""

    def __init__(self, wsgi: WSGIResource) -> None:
        super().__init__()
        self.wsgi = wsgi

    def getChild(self, path: bytes, request: Request) -> Any:
        # Give the path segment back so the WSGI app sees the full PATH_INFO.
        request.prepath.pop()
        request.postpath.insert(0, path)
        return self.wsgi

    def render(self, request: Request) -> Any:  # "/" itself
        return self.wsgi.render(request)


def build_web_root(reactor: Any, threadpool: ThreadPool, app: Any) -> WebRoot:
    """The root resource serving ``app`` (WSGI) with room for native children (``root.putChild(b"events", r)``)."""
    return WebRoot(WSGIResource(reactor, threadpool, app))


def limits_for(app: Any) -> BodyLimits:
    """The body limits of the Flask app's config (``HOTLINE_MAX_REQUEST_BYTES`` / ``HOTLINE_MAX_UPLOAD_BYTES``)."""
    config = getattr(app, "config", {})
    return BodyLimits(max_request=int(config.get("HOTLINE_MAX_REQUEST_BYTES", DEFAULT_MAX_REQUEST)),
                      max_upload=int(config.get("HOTLINE_MAX_UPLOAD_BYTES", DEFAULT_MAX_UPLOAD)),
                      upload_allowed=signed_in_checker(app) if hasattr(app, "session_interface") else
                      (lambda request: True))


def install_flask_limits(app: Any) -> None:
    """The same limits inside Flask (the app under another WSGI server): per request, before CSRF reads the form.

    Call before ``CSRFProtect.init_app`` so this hook runs first.
    """
    from flask import request, session

    def limit_body() -> None:
        multipart = (request.mimetype or "").startswith("multipart/form-data")
        limit = app.config["HOTLINE_MAX_REQUEST_BYTES"]
        if multipart and "_user_id" in session:
            limit = max(limit, app.config["HOTLINE_MAX_UPLOAD_BYTES"])
        request.max_content_length = limit

    app.before_request(limit_body)


def build_site(reactor: Any, threadpool: ThreadPool, app: Any) -> LimitedSite:
    """A ``LimitedSite`` over ``build_web_root`` (what ``reactor.listenTCP(port, site, interface=host)`` takes)."""
    return LimitedSite(build_web_root(reactor, threadpool, app), reactor, limits_for(app))
