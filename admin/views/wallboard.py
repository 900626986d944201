"""The live wallboard (admins, supervisors): calls waiting, longest wait, agents by state, service level today.

Inside the engine the page starts from the ACD's snapshot (taken on the
reactor thread through the bridge) and then follows the server-sent
``wallboard`` topic that :class:`admin.reports.live.WallboardFeed` pushes
every two seconds. Without the engine it shows today's figures from the
database and says that live data is unavailable.
"""

from __future__ import annotations

from typing import Any

from flask import current_app, jsonify
from flask_admin import expose

from admin.auth import stream_token
from admin.bridge import EngineUnavailable, engine_bridge
from admin.extensions import db
from admin.labels import code_label
from admin.reports.live import EVENT, TOPIC, acd_wallboard, db_wallboard
from admin.views.base import SecureBaseView
from admin.views.reports import utc_offset_minutes
from crm_core.enums import AgentState


def current_wallboard() -> dict[str, Any]:
    """The live document from the engine's ACD, else the database's (``live`` says which)."""
    timezone = current_app.config.get("CENTER_TIMEZONE")
    try:
        bridge = engine_bridge()
        acd = bridge.service("acd").acd
        return bridge.call(acd_wallboard, acd, None, timezone)
    except EngineUnavailable:
        return db_wallboard(db.session, utc_offset_minutes(), timezone=timezone)


class WallboardView(SecureBaseView):
    method_permissions = {"index": "view", "data": "view"}

    @expose("/")
    def index(self) -> Any:
        board = current_wallboard()
        token = None
        if board["live"]:
            token = stream_token([TOPIC])
        states = {s.value: code_label(s.value) for s in AgentState if s is not AgentState.LOGGED_OUT}
        return self.render("wallboard/index.html", board=board, token=token, topic=TOPIC, event=EVENT,
                           states=states)

    @expose("/data")
    def data(self) -> Any:
        """The current wallboard as JSON (what the stream pushes)."""
        return jsonify(current_wallboard())
