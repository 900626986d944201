"""Serving the admin app inside the engine's Twisted reactor.

A ``WSGIResource`` cannot have children, so the root is a plain ``Resource``
that serves its own children (native Twisted resources such as ``/events``
server-sent events or ``/metrics``, mounted with ``putChild``) and hands
every other path to the Flask app. Flask runs on the reactor's thread pool;
Flask code reaches the reactor only through ``reactor.callFromThread``.
"""

from __future__ import annotations

from typing import Any

from twisted.python.threadpool import ThreadPool
from twisted.web.resource import Resource
from twisted.web.server import Request, Site
from twisted.web.wsgi import WSGIResource


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


def build_site(reactor: Any, threadpool: ThreadPool, app: Any) -> Site:
    """A ``Site`` over ``build_web_root`` (what ``reactor.listenTCP(port, site, interface=host)`` takes)."""
    return Site(build_web_root(reactor, threadpool, app))
