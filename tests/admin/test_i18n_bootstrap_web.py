"""Chinese/English UI, first-run users, and serving the app inside Twisted."""

from __future__ import annotations

import pytest
import pytest_twisted
from sqlalchemy import select

from admin.bootstrap import DEMO_USERS, PASSWORD_ENV, create_demo_users, describe, ensure_admin_user
from admin.i18n import TRANSLATIONS_DIR, compile_catalog
from crm_core.models import AdminUser


def test_lang_parameter_switches_the_chrome_and_is_remembered(auth):
    auth.login("admin")
    zh = auth.client.get("/admin/orders/?lang=zh").text
    assert "订单" in zh and "客户" in zh
    assert "订单" in auth.client.get("/admin/orders/").text  # remembered in the session
    en = auth.client.get("/admin/orders/?lang=en").text
    assert ">Orders<" in en.replace("\n", "").replace(" ", "") or "Orders" in en
    assert "订单" not in en


def test_accept_language_picks_english_for_a_new_visitor(client):
    page = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9"}).text
    assert "Log in" in page and "登录" not in page
    assert "登录" in client.get("/login?lang=zh").text


def test_flask_admin_own_strings_are_translated_too(auth):
    auth.login("admin")
    page = auth.client.get("/admin/products/?lang=zh").text
    assert "列表" in page or "创建" in page  # Flask-Admin's zh_Hans_CN catalogue: List / Create


def _mo_messages(data: bytes) -> tuple[dict, str]:
    """The translations of a compiled catalogue and its plural rule; not the tool's version stamp."""
    import io

    from babel.messages.mofile import read_mo

    catalog = read_mo(io.BytesIO(data))
    messages = {message.id: message.string for message in catalog if message.id}
    return messages, catalog.plural_forms


def test_compiled_catalogue_matches_its_po_file():
    po = TRANSLATIONS_DIR / "zh_Hans_CN" / "LC_MESSAGES" / "admin.po"
    fresh, committed = _mo_messages(compile_catalog(po)), _mo_messages(po.with_suffix(".mo").read_bytes())
    assert fresh[0], "the catalogue has no messages"
    assert fresh == committed, "run: python -m admin.i18n"


def test_demo_users_are_made_once_one_per_role(dbs):
    created = create_demo_users(dbs)  # the app fixture already made them
    assert created == []
    names = set(dbs.scalars(select(AdminUser.username).where(AdminUser.username.in_(DEMO_USERS))))
    assert names == set(DEMO_USERS)


def _fresh_session(tmp_path):
    from sqlalchemy.orm import Session

    from crm_core.db import make_engine
    from crm_core.migrate import upgrade

    url = f"sqlite:///{tmp_path / 'first.db'}"
    upgrade(url)
    return Session(make_engine(url))


def test_first_production_run_generates_a_random_admin_password(tmp_path):
    from admin.auth import verify_password

    with _fresh_session(tmp_path) as session:
        (created,) = ensure_admin_user(session, env={})
        assert created.username == "admin" and created.password and len(created.password) >= 12
        assert created.password not in {p for _, p in DEMO_USERS.values()}
        user = session.scalars(select(AdminUser)).one()
        assert verify_password(user.password_hash, created.password)
        assert ensure_admin_user(session, env={}) == []
        assert created.password in describe([created], "http://127.0.0.1:8080/admin/")


def test_first_production_run_uses_the_password_from_the_environment(tmp_path):
    from admin.auth import verify_password

    with _fresh_session(tmp_path) as session:
        (created,) = ensure_admin_user(session, env={PASSWORD_ENV: "from-the-env-1"})
        assert created.password is None
        user = session.scalars(select(AdminUser)).one()
        assert verify_password(user.password_hash, "from-the-env-1")


@pytest.fixture
def twisted_site(app):
    from twisted.internet import reactor
    from twisted.web.resource import Resource

    from admin.web import build_site

    site = build_site(reactor, reactor.getThreadPool(), app)

    class Ping(Resource):
        isLeaf = True

        def render_GET(self, request):
            return b"pong"

    site.resource.putChild(b"ping", Ping())
    port = reactor.listenTCP(0, site, interface="127.0.0.1")
    yield f"http://127.0.0.1:{port.getHost().port}"
    port.stopListening()


@pytest_twisted.inlineCallbacks
def test_twisted_root_serves_flask_and_native_children(twisted_site):
    from twisted.internet import reactor
    from twisted.web.client import Agent, readBody

    agent = Agent(reactor)

    def fetch(path):
        d = agent.request(b"GET", (twisted_site + path).encode())
        return d.addCallback(lambda r: readBody(r).addCallback(lambda body: (r.code, body)))

    code, body = yield fetch("/login?lang=en")
    assert code == 200 and b"Log in" in body
    code, _ = yield fetch("/admin/orders/")
    assert code == 302
    result = yield fetch("/ping")
    assert result == (200, b"pong")


def test_demo_agent_user_is_linked_to_the_first_agent_so_the_desk_works(db_session):
    from sqlalchemy import select

    from admin.bootstrap import create_demo_users
    from crm_core.models import AdminUser, Agent

    first = Agent(login="zhangli", name="张丽", extension="1001", password_hash="x")
    db_session.add_all([Agent(login="wangfang", name="王芳", extension="1002", password_hash="x"), first])
    db_session.flush()
    create_demo_users(db_session)
    user = db_session.scalars(select(AdminUser).where(AdminUser.username == "agent")).one()
    assert user.agent_id == first.id
