"""Sessions end when they should: at logout (a copied cookie too), on a password or role change, when idle
or too old; the cookie is HttpOnly, SameSite and, for TLS deployments, Secure."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from admin.auth import hash_password
from crm_core.models import AdminUser
import factories


def _user(dbs, role: str = "supervisor", password: str = "session-pass-1") -> AdminUser:
    user = AdminUser(username=f"sess{factories.next_serial()}", role=role, password_hash=hash_password(password))
    dbs.add(user)
    dbs.commit()
    return user


def _copy_of(app, actions) -> Any:
    """Another browser holding a copy of ``actions``' session cookie (a stolen or lingering cookie)."""
    other = app.test_client()
    other.set_cookie("session", actions.client.get_cookie("session").value)
    return other


def test_a_copied_session_cookie_stops_working_at_logout(app, new_client_auth, dbs) -> None:
    user = _user(dbs)
    browser = new_client_auth()
    assert browser.login(user.username, "session-pass-1").status_code == 302
    copy = _copy_of(app, browser)
    assert copy.get("/admin/customers/").status_code == 200
    browser.logout()
    assert copy.get("/admin/customers/").status_code == 302
    assert "/login" in copy.get("/admin/customers/").location


def test_a_role_change_ends_the_users_sessions(new_client_auth, as_role, dbs) -> None:
    user = _user(dbs)
    browser = new_client_auth()
    assert browser.login(user.username, "session-pass-1").status_code == 302
    assert browser.client.get("/admin/customers/").status_code == 200
    admin = as_role("admin")
    response = admin.post(f"/admin/users/edit/?id={user.id}", {"username": user.username, "role": "campaign_manager",
                                                               "active": "y", "agent_id": ""})
    assert response.status_code == 302, response.text
    dbs.reread()
    assert dbs.get(AdminUser, user.id).role == "campaign_manager"
    assert browser.client.get("/admin/customers/").status_code == 302


def test_a_password_change_in_the_users_view_ends_the_users_sessions(new_client_auth, as_role, dbs) -> None:
    user = _user(dbs)
    browser = new_client_auth()
    assert browser.login(user.username, "session-pass-1").status_code == 302
    admin = as_role("admin")
    admin.post(f"/admin/users/edit/?id={user.id}", {"username": user.username, "role": "supervisor", "active": "y",
                                                    "agent_id": "", "password": "session-pass-2"})
    assert browser.client.get("/admin/customers/").status_code == 302
    assert new_client_auth().login(user.username, "session-pass-2").status_code == 302


def test_an_admin_changing_their_own_password_stays_signed_in_there_only(app, new_client_auth, dbs) -> None:
    me = _user(dbs, role="admin", password="own-pass-11")
    here, elsewhere = new_client_auth(), new_client_auth()
    assert here.login(me.username, "own-pass-11").status_code == 302
    assert elsewhere.login(me.username, "own-pass-11").status_code == 302
    response = here.post(f"/admin/users/edit/?id={me.id}", {"username": me.username, "role": "admin", "active": "y",
                                                            "agent_id": "", "password": "own-pass-22"})
    assert response.status_code == 302, response.text
    assert here.client.get("/admin/users/").status_code == 200
    assert elsewhere.client.get("/admin/users/").status_code == 302


def _logged_in_on_a_clock(new_client_auth, dbs, monkeypatch) -> tuple[Any, list[float]]:  # type: ignore[no-untyped-def]
    """A signed-in browser, and the session clock it lives by (moved by hand)."""
    import admin.auth

    user = _user(dbs)
    browser = new_client_auth()
    now = [1_000_000.0]
    monkeypatch.setattr(admin.auth, "_epoch", lambda: now[0])
    assert browser.login(user.username, "session-pass-1").status_code == 302
    return browser, now


def test_an_idle_session_ends(app, new_client_auth, dbs, monkeypatch) -> None:
    browser, now = _logged_in_on_a_clock(new_client_auth, dbs, monkeypatch)
    now[0] += 30 * 60
    assert browser.client.get("/admin/customers/").status_code == 200  # 30 min: still there, and now fresh
    now[0] += 59 * 60
    assert browser.client.get("/admin/customers/").status_code == 200
    now[0] += app.config["SESSION_IDLE_MINUTES"] * 60 + 1
    response = browser.client.get("/admin/customers/")
    assert response.status_code == 302 and "/login" in response.location


def test_a_session_ends_after_its_longest_life_even_when_busy(app, new_client_auth, dbs, monkeypatch) -> None:
    browser, now = _logged_in_on_a_clock(new_client_auth, dbs, monkeypatch)
    for _ in range(app.config["SESSION_MAX_HOURS"] * 2):
        now[0] += 30 * 60
        assert browser.client.get("/admin/customers/").status_code == 200
    now[0] += 30 * 60
    assert browser.client.get("/admin/customers/").status_code == 302


def _session_cookie(response) -> str:  # type: ignore[no-untyped-def]
    return next(h for h in response.headers.getlist("Set-Cookie") if h.startswith("session="))


def test_session_cookie_is_httponly_and_samesite(new_client_auth, dbs) -> None:
    user = _user(dbs)
    cookie = _session_cookie(new_client_auth().login(user.username, "session-pass-1"))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie


def test_secure_cookies_setting_marks_the_session_cookie_secure(admin_db_url, dbs) -> None:
    from hotline.admin_config import create_admin_app
    from hotline.settings import load_settings
    from admin_csrf import csrf_from

    user = _user(dbs)
    settings = load_settings(None, env={"HOTLINE_DB_URL": admin_db_url, "HOTLINE_ADMIN_SECURE_COOKIES": "true",
                                        "HOTLINE_ADMIN_SECRET_KEY": "secure-cookie-test"})
    app = create_admin_app(settings)
    client = app.test_client()
    token = csrf_from(client.get("/login", base_url="https://hotline.example").text)
    response = client.post("/login", base_url="https://hotline.example",
                           headers={"Referer": "https://hotline.example/login"},  # CSRF checks it over HTTPS
                           data={"username": user.username, "password": "session-pass-1", "csrf_token": token})
    assert response.status_code == 302
    assert "; Secure" in _session_cookie(response)


@pytest.mark.parametrize("bad", ["1:abc", "1:abc:x", f"{2**70}:abc:0", ":::"])
def test_a_forged_or_malformed_session_id_is_anonymous(app, bad: str) -> None:
    from admin.auth import load_user

    with app.app_context():
        assert load_user(bad) is None


def test_old_sessions_without_a_version_are_refused(app, dbs) -> None:
    from admin.auth import LoggedInUser, load_user

    user = dbs.scalars(select(AdminUser).where(AdminUser.username == "admin")).one()
    with app.app_context():
        current = LoggedInUser.of(user).get_id()
        assert load_user(current) is not None
        assert load_user(current.rsplit(":", 1)[0]) is None  # "<id>:<fingerprint>", as issued before versions
