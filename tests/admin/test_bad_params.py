"""Every admin endpoint answers malformed ids, page numbers and filter values with 4xx, never a 500.

The walk is systematic: it lists the app's URL rules (so a view added later is
walked too), opens each as a role allowed to see it, and sends text where a
number belongs, integers too large for any database column (Python's sqlite3
raises OverflowError on them, PostgreSQL refuses them), and negative ones, in
the query string, the form and the path.
"""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask

from admin import roles

HUGE = str(2**70)
#: Query and form arguments our views and Flask-Admin's read as integers.
INT_ARGS = ("id", "page", "page_size", "sort", "desc", "agent_id", "version", "offset", "limit")
#: A form that gets past the usual required fields, with every id too large (desk and answer forms).
FILLED_FORM = {"id": HUGE, "rowid": HUGE, "customer_id": HUGE, "request_id": HUGE, "question_id": HUGE,
               "agent_id": HUGE, "reason": "x", "question": "x?", "answer": "x", "extension": "1001",
               "mode": "listen", "category": "quality", "description": "x", "action": "ready", "note": "x",
               "disposition": "other", "call_uuid": "x", "code": "P1", "quantity": "1", "number": "1234567890",
               "to_status": "cancelled", "delivery_method": "courier", "payment_method": "cod", "target": "1001"}
#: Roles tried in this order: the first one allowed to view an endpoint walks it.
ROLE_ORDER = ("admin", "supervisor", "agent", "campaign")
ROLE_OF_USER = {"admin": "admin", "supervisor": "supervisor", "agent": "agent", "campaign": "campaign_manager"}


def _user_for(endpoint: str) -> str:
    view = endpoint.split(".")[0]
    if view not in roles.MATRIX:
        return "admin"
    for user in ROLE_ORDER:
        if roles.allowed(ROLE_OF_USER[user], view, "view"):
            return user
    return "admin"


def _path_values(rule: Any, number: str) -> dict[str, str]:
    values = {}
    for name in rule.arguments:
        converter = rule._converters[name]
        if type(converter).__name__ in ("IntegerConverter", "BoundedIntegerConverter"):
            values[name] = number
        elif name == "export_type":
            values[name] = "csv"
        else:
            values[name] = "abc"
    return values


def _build(rule: Any, number: str) -> str:
    path = rule.rule
    for name, value in _path_values(rule, number).items():
        path = path.replace(f"<int:{name}>", value).replace(f"<{name}>", value).replace(f"<path:{name}>", value)
    return path


def _variants() -> list[dict[str, str]]:
    out: list[dict[str, str]] = [{name: HUGE} for name in INT_ARGS]
    out.append({name: "abc" for name in INT_ARGS})
    out.append({name: "-" + HUGE for name in INT_ARGS})
    out.append({name: "1.5e400" for name in INT_ARGS})
    return out


def _filter_args(app: Flask, endpoint: str) -> list[str]:
    """The ``flt0_<name>`` query arguments of a Flask-Admin list view (empty for other views)."""
    admin = app.extensions["admin"][0]
    for view in admin._views:
        if view.endpoint == endpoint.split(".")[0] and getattr(view, "_filter_args", None):
            return [f"flt0_{key}" for key in view._filter_args]
    return []


def test_every_endpoint_answers_bad_numbers_with_a_client_error(app: Flask, as_role, monkeypatch) -> None:
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)  # a server error is a 500, as in production
    clients = {user: as_role(user) for user in ROLE_ORDER}
    failures: list[str] = []
    walked = 0

    def check(method: str, user: str, url: str, **kwargs: Any) -> None:
        nonlocal walked
        walked += 1
        actions = clients[user]
        if method == "GET":
            response = actions.client.get(url, **kwargs)
        else:
            response = actions.post(url, **kwargs)
        if response.status_code >= 500:
            failures.append(f"{method} {url} {kwargs.get('query_string') or kwargs.get('data') or ''} "
                            f"as {user} -> {response.status_code}")

    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        if rule.endpoint.endswith("static") or rule.endpoint == "auth.logout":
            continue
        user = _user_for(rule.endpoint)
        methods = rule.methods - {"HEAD", "OPTIONS"}
        numeric_path = any(type(rule._converters[n]).__name__.endswith("IntegerConverter") for n in rule.arguments)
        url = _build(rule, HUGE)
        if "GET" in methods:
            check("GET", user, url)
            if not numeric_path:  # a path with a number in it is walked with that number out of range
                for query in _variants():
                    check("GET", user, url, query_string=query)
            if rule.endpoint.endswith((".index_view", ".export")):
                for flt in _filter_args(app, rule.endpoint):
                    check("GET", user, url, query_string={flt: HUGE})
        if "POST" in methods:
            forms = [FILLED_FORM] if numeric_path else [
                {"id": "abc"}, {"id": HUGE}, {"id": "-" + HUGE}, {"rowid": HUGE, "action": "delete"}, FILLED_FORM]
            for form in forms:
                check("POST", user, url, data=form)
    assert walked > 1500
    assert failures == [], f"{len(failures)} requests of {walked} gave a server error:\n" + "\n".join(failures)


@pytest.mark.parametrize("url", ["/admin/orders/details/?id=abc", f"/admin/orders/details/?id={HUGE}",
                                 f"/admin/customers/points/{HUGE}", f"/admin/orders/?page={HUGE}"])
def test_a_bad_id_or_page_is_a_client_error_not_a_redirect_loop(as_role, url: str) -> None:
    response = as_role("admin").client.get(url)
    assert response.status_code in (302, 400, 404), response.status_code


def test_a_bad_number_names_the_parameter(as_role) -> None:
    client = as_role("admin").client
    response = client.get("/admin/orders/details/?id=abc")
    assert response.status_code == 400
    assert "id: expected a whole number" in response.text
    assert client.get(f"/admin/orders/?page={HUGE}").status_code == 400
    assert client.get("/admin/orders/?page=3").status_code == 200  # a page past the end is just empty


def test_a_view_added_later_that_forgets_to_check_gets_a_400_not_a_500(admin_db_url: str) -> None:
    """The last-resort handler: a raw oversize number that reaches the database is a client error."""
    from admin.app import create_app
    from admin.extensions import db
    from crm_core.models import Customer

    app = create_app({"SQLALCHEMY_DATABASE_URI": admin_db_url, "SECRET_KEY": "x", "PROPAGATE_EXCEPTIONS": False})

    @app.route("/careless/<raw>")
    def careless(raw: str) -> str:
        return str(db.session.get(Customer, int(raw)))  # no admin.params check on purpose

    with app.test_client() as client:
        assert client.get(f"/careless/{HUGE}").status_code == 400
        assert client.get("/careless/5").status_code == 200
