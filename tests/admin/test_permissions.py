"""Every view's permissions, straight from the roles matrix: anonymous → login page, others per role."""

from __future__ import annotations

import pytest

from admin.roles import MATRIX, allowed

ROLES = ["admin", "supervisor", "campaign", "agent"]
ROLE_OF = {"admin": "admin", "supervisor": "supervisor", "campaign": "campaign_manager", "agent": "agent"}
#: views that are pages, not model views (no /new/ or /export/)
PAGE_ENDPOINTS = {"skill_matrix", "desk", "desk_questions", "reports", "wallboard", "ivr_editor", "test_call",
                  "campaign_console",
                  "fax_files"}
MODEL_ENDPOINTS = sorted(e for e in MATRIX if e not in PAGE_ENDPOINTS)
ALL_ENDPOINTS = sorted(MATRIX)


@pytest.mark.parametrize("endpoint", ALL_ENDPOINTS)
def test_anonymous_visitor_of_any_view_gets_the_login_page(client, endpoint):
    response = client.get(f"/admin/{endpoint}/")
    assert response.status_code == 302
    assert response.location.startswith(f"/login?next=/admin/{endpoint}/")
    assert "<form" in client.get(response.location).text


def test_anonymous_visitor_of_the_index_gets_the_login_page(client):
    response = client.get("/admin/")
    assert response.status_code == 302 and "/login" in response.location


@pytest.fixture(scope="module")
def clients(as_role):
    return {username: as_role(username) for username in ROLES}


@pytest.mark.parametrize("username", ROLES)
def test_each_role_opens_exactly_the_list_views_the_matrix_grants(clients, username):
    client = clients[username].client
    for endpoint in ALL_ENDPOINTS:
        expected = 200 if allowed(ROLE_OF[username], endpoint, "view") else 403
        assert client.get(f"/admin/{endpoint}/").status_code == expected, endpoint


@pytest.mark.parametrize("username", ROLES)
def test_each_role_opens_a_create_form_only_where_the_matrix_grants_create(clients, username):
    client = clients[username].client
    for endpoint in MODEL_ENDPOINTS:
        response = client.get(f"/admin/{endpoint}/new/")
        if allowed(ROLE_OF[username], endpoint, "create"):
            assert response.status_code == 200, endpoint
        else:
            assert response.status_code == 403, endpoint


@pytest.mark.parametrize("username", ROLES)
def test_each_role_exports_only_where_the_matrix_grants_export(clients, username):
    client = clients[username].client
    for endpoint in MODEL_ENDPOINTS:
        response = client.get(f"/admin/{endpoint}/export/csv/")
        response.get_data()  # exports stream: consume and close before the next request
        response.close()
        expected = 200 if allowed(ROLE_OF[username], endpoint, "export") else 403
        assert response.status_code == expected, endpoint


def test_agent_reaches_no_back_office_view_but_sees_a_home_page(clients):
    client = clients["agent"].client
    home = client.get("/admin/?lang=en")
    assert home.status_code == 200 and 'id="no-backoffice"' in home.text
    for endpoint in ALL_ENDPOINTS:
        expected = 200 if endpoint == "desk" else 403  # the agent desk is the agent's one page
        assert client.get(f"/admin/{endpoint}/").status_code == expected, endpoint


def test_menu_shows_only_what_the_role_can_open(clients):
    page = clients["campaign"].client.get("/admin/?lang=en").text
    assert "/admin/media_plans/" in page and "/admin/promotions/" in page
    assert "/admin/users/" not in page and "/admin/orders/" not in page


def test_supervisor_cannot_post_to_a_view_it_may_only_read(clients):
    supervisor = clients["supervisor"]
    response = supervisor.post("/admin/products/new/", {"sku": "X-SUP", "phone_code": "9", "name": "x", "price": "1"})
    assert response.status_code == 403
    assert supervisor.post("/admin/users/new/", {"username": "evil", "role": "admin"}).status_code == 403


def test_supervisor_cannot_run_the_delete_action_where_delete_is_not_granted(clients):
    response = clients["supervisor"].post("/admin/customers/action/", {"action": "delete", "rowid": "1"})
    assert response.status_code in (302, 403)  # refused: Flask-Admin redirects with "not allowed"
    assert allowed("supervisor", "customers", "delete") is False


def test_every_registered_view_is_in_the_matrix(app):
    from flask_admin import Admin

    admin: Admin = app.extensions["admin"][0]
    endpoints = {view.endpoint for view in admin._views} - {"admin"}
    assert endpoints == set(MATRIX)
