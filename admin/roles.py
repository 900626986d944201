"""Who may do what: the one role → view → permission matrix every admin view asks.

A view is named by its Flask-Admin endpoint; a permission is ``view``,
``create``, ``edit``, ``delete``, ``export`` or a view's own action
(``status`` for order status changes, ``points`` for points adjustments,
``adjust`` for stock adjustments, ``listen`` for voicemail audio). Anything not
listed is refused, so a new view is closed until it is added here.
"""

from __future__ import annotations

from collections.abc import Iterable

from crm_core.enums import AdminRole

ADMIN = AdminRole.ADMIN
SUPERVISOR = AdminRole.SUPERVISOR
CAMPAIGN = AdminRole.CAMPAIGN_MANAGER
AGENT = AdminRole.AGENT


def perms(*names: str) -> frozenset[str]:
    """A permission set; ``"crud"`` stands for view/create/edit/delete."""
    out: set[str] = set()
    for name in names:
        out |= {"view", "create", "edit", "delete"} if name == "crud" else {name}
    return frozenset(out)


READ = perms("view")
READ_EXPORT = perms("view", "export")
FULL = perms("crud", "export")

#: endpoint -> role -> permissions. Admins are listed explicitly too: some views are read-only for everyone.
MATRIX: dict[str, dict[AdminRole, frozenset[str]]] = {
    # customers
    "customers": {ADMIN: FULL | {"points"}, SUPERVISOR: perms("view", "create", "edit", "export", "points"),
                  CAMPAIGN: READ_EXPORT},
    "points": {ADMIN: READ_EXPORT, SUPERVISOR: READ_EXPORT},
    "blacklist": {ADMIN: perms("view", "create", "delete", "export"), SUPERVISOR: perms("view", "create")},
    "interactions": {ADMIN: READ_EXPORT, SUPERVISOR: READ_EXPORT},
    # catalogue
    "products": {ADMIN: FULL, SUPERVISOR: READ_EXPORT, CAMPAIGN: READ_EXPORT},
    "categories": {ADMIN: FULL, SUPERVISOR: READ, CAMPAIGN: READ},
    "suppliers": {ADMIN: FULL, SUPERVISOR: READ},
    "couriers": {ADMIN: FULL, SUPERVISOR: READ},
    "promotions": {ADMIN: FULL, CAMPAIGN: FULL, SUPERVISOR: READ},
    # inventory
    "warehouses": {ADMIN: FULL, SUPERVISOR: READ},
    "stock": {ADMIN: FULL | {"adjust"}, SUPERVISOR: READ_EXPORT | {"adjust"}},
    # orders
    "orders": {ADMIN: perms("view", "edit", "export", "status"), SUPERVISOR: perms("view", "edit", "export", "status")},
    # after-sales
    "complaints": {ADMIN: FULL, SUPERVISOR: perms("view", "create", "edit", "export")},
    "voicemails": {ADMIN: perms("view", "edit", "delete", "export", "listen"),
                   SUPERVISOR: perms("view", "edit", "export", "listen")},
    "knowledge": {ADMIN: FULL, SUPERVISOR: FULL, CAMPAIGN: READ},
    # marketing
    "media_plans": {ADMIN: FULL, CAMPAIGN: FULL, SUPERVISOR: READ},
    # outbound campaigns (admin/views/campaigns.py, campaign_contacts.py); "create" on contacts includes the
    # file import; "status" moves a campaign along its life cycle (start, pause, resume, stop)
    "campaigns": {ADMIN: FULL | {"status"}, CAMPAIGN: FULL | {"status"}},
    # the campaign console (admin/views/campaign_console.py): figures and results ("view"), start / pause /
    # resume / stop ("status"), the streamed CSV exports of attempts and survey answers ("export"), an SMS /
    # fax / e-mail to every contact through the outbox ("message")
    "campaign_console": {ADMIN: perms("view", "status", "export", "message"),
                         CAMPAIGN: perms("view", "status", "export", "message")},
    "campaign_attempts": {ADMIN: READ_EXPORT, CAMPAIGN: READ_EXPORT, SUPERVISOR: READ_EXPORT},
    "segments": {ADMIN: FULL, CAMPAIGN: FULL},
    "campaign_contacts": {ADMIN: FULL, CAMPAIGN: FULL},
    "do_not_call": {ADMIN: FULL, CAMPAIGN: FULL},
    # reports and the live wallboard (admin/views/reports.py, wallboard.py); "export" is the CSV of a report
    "reports": {ADMIN: READ_EXPORT, SUPERVISOR: READ_EXPORT},
    "wallboard": {ADMIN: READ, SUPERVISOR: READ},
    # contact center (ACD)
    "queues": {ADMIN: FULL, SUPERVISOR: perms("view", "edit", "export")},
    "skills": {ADMIN: FULL, SUPERVISOR: perms("view", "create", "edit")},
    "agents": {ADMIN: FULL, SUPERVISOR: perms("view", "edit", "export")},
    "skill_matrix": {ADMIN: perms("view", "edit"), SUPERVISOR: perms("view", "edit")},
    # IVR editor (admin/views/ivr_editor.py): "listen" renders a prompt, "upload" replaces it with a recording
    "ivr_editor": {ADMIN: perms("view", "edit", "publish", "export", "listen", "upload"),
                   SUPERVISOR: perms("view", "edit", "publish", "export", "listen", "upload")},
    # test calls into the running engine's simulator (admin/views/test_call.py)
    "test_call": {ADMIN: perms("view", "call"), SUPERVISOR: perms("view", "call")},
    # agent desk (admin/views/desk.py): agents act on their own desk; supervisors open any desk read-only,
    # answer agents' questions and listen / whisper / barge
    "desk": {AGENT: perms("view", "act"), SUPERVISOR: perms("view", "supervise")},
    "desk_questions": {SUPERVISOR: perms("view", "answer")},
    # messaging (admin/views/messaging_*.py): "retry"/"cancel" outbox messages, "assign" a fax to a customer,
    # "simulate" files a test inbound SMS; gateway rows hold secrets: admins only; fax documents also for agents
    "outbox": {ADMIN: perms("view", "export", "retry", "cancel"),
               SUPERVISOR: perms("view", "export", "retry", "cancel"), CAMPAIGN: READ},
    "fax_inbox": {ADMIN: perms("view", "export", "assign"), SUPERVISOR: perms("view", "export", "assign")},
    "inbound_messages": {ADMIN: perms("view", "export", "simulate"), SUPERVISOR: READ_EXPORT, CAMPAIGN: READ},
    "message_templates": {ADMIN: FULL, SUPERVISOR: perms("view", "create", "edit"),
                          CAMPAIGN: perms("view", "create", "edit")},
    "message_gateways": {ADMIN: perms("view", "create", "edit", "delete")},
    "captured_messages": {ADMIN: READ_EXPORT, SUPERVISOR: READ},
    "fax_files": {ADMIN: perms("files"), SUPERVISOR: perms("files"), AGENT: perms("files")},
    # system
    "users": {ADMIN: FULL},
    "audit": {ADMIN: READ_EXPORT},
}


def allowed(role: str | None, endpoint: str, permission: str = "view") -> bool:
    """Whether a user with ``role`` may use ``permission`` on the view ``endpoint``."""
    if role is None:
        return False
    try:
        key = AdminRole(role)
    except ValueError:
        return False
    return permission in MATRIX.get(endpoint, {}).get(key, frozenset())


def endpoints_for(role: str) -> list[str]:
    """The views a role can open at all (for the index page and the docs)."""
    return sorted(e for e in MATRIX if allowed(role, e, "view"))


def roles_with(endpoint: str, permission: str = "view") -> Iterable[AdminRole]:
    """Roles granted ``permission`` on ``endpoint`` (used by the permission tests)."""
    return [role for role in AdminRole if allowed(role, endpoint, permission)]
