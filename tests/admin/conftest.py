"""Admin fixtures: an app per database backend (on the shared migrated ``engine``), a client, and
helpers that log in as each demo role and carry the CSRF token like a browser does.

The app commits for real (Flask-Admin commits), so tests make their own rows
with unique keys through the shared factories and never count whole tables.
"""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from admin_csrf import CSRF_RE, csrf_from  # noqa: F401  (fixtures and tests use both)

CHROMIUM = "/usr/bin/chromium"
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"


@pytest.fixture(scope="session")
def voicemail_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("voicemail")


@pytest.fixture(scope="session", params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def admin_db_url(request: pytest.FixtureRequest, database_maker: Callable[[str], str]) -> str:
    """A migrated database of the admin tests' own on each backend.

    Not the shared ``engine`` database: the admin app commits for real, and the
    crm_core tests expect their database untouched by those commits.
    """
    from crm_core.migrate import upgrade

    url = database_maker(request.param)
    upgrade(url)
    return url


@pytest.fixture(scope="session")
def db_url(admin_db_url: str) -> str:
    """Shared fixtures (factories, ``engine``) under tests/admin use the admin database."""
    return admin_db_url


@pytest.fixture(scope="session")
def app(admin_db_url: str, voicemail_dir: Path) -> Iterator[Flask]:
    """The admin app on this backend's migrated database, with the demo users created (as demo data would)."""
    from admin.app import create_app
    from admin.bootstrap import create_demo_users
    from admin.extensions import db

    flask_app = create_app({
        "SQLALCHEMY_DATABASE_URI": admin_db_url,
        "SECRET_KEY": "test-secret",
        "TESTING": True,
        "VOICEMAIL_DIRS": [str(voicemail_dir)],
    })
    with flask_app.app_context():
        create_demo_users(db.session)
        db.session.commit()
    yield flask_app
    with flask_app.app_context():
        db.engine.dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture(scope="session")
def probe_engine(db_url: str) -> Iterator[Any]:
    """A plain engine on the test database for the tests' own reads and writes.

    Plain (deferred BEGIN) on purpose: crm_core's SQLite engines BEGIN IMMEDIATE,
    so a test holding a read transaction would block the app's writes in the
    same thread. Tests ``rollback()`` before re-reading to see the app's commits.
    """
    from sqlalchemy import create_engine

    engine = create_engine(db_url)
    yield engine
    engine.dispose()


class ProbeSession(Session):
    """A test-side session; ``reread()`` forgets what it loaded, to see the app's commits."""

    def reread(self) -> None:
        self.rollback()
        self.expire_all()


@pytest.fixture
def dbs(probe_engine: Any) -> Iterator[ProbeSession]:
    """A session for making and checking rows (commit what you make; ``reread()`` to see the app's changes)."""
    with ProbeSession(probe_engine, expire_on_commit=False) as session:
        yield session
        session.rollback()


class AuthActions:
    """Log in/out as a demo user; ``post`` adds the session's CSRF token to form posts."""

    PASSWORDS = {"admin": "admin-demo", "supervisor": "supervisor-demo", "campaign": "campaign-demo",
                 "agent": "agent-demo"}

    def __init__(self, client: FlaskClient) -> None:
        self.client = client
        self.token: str | None = None

    def login(self, username: str = "admin", password: str | None = None) -> Any:
        page = self.client.get("/login")
        token = csrf_from(page.text)
        response = self.client.post("/login", data={
            "username": username, "password": password or self.PASSWORDS[username], "csrf_token": token})
        self.token = token
        return response

    def logout(self) -> Any:
        return self.client.post("/logout", data={"csrf_token": self.token})

    def post(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        payload = {"csrf_token": self.token, **(data or {})}
        return self.client.post(url, data=payload, **kwargs)


@pytest.fixture
def auth(client: FlaskClient) -> AuthActions:
    return AuthActions(client)


@pytest.fixture
def new_client_auth(app: Flask) -> Callable[[], AuthActions]:
    """Make a logged-out ``AuthActions`` on a client of its own (another browser)."""
    return lambda: AuthActions(app.test_client())


@pytest.fixture(scope="session")
def as_role(app: Flask) -> Callable[[str], AuthActions]:
    """A fresh client logged in as the given demo user."""

    def make(username: str) -> AuthActions:
        actions = AuthActions(app.test_client())
        response = actions.login(username)
        assert response.status_code == 302, response.text
        return actions

    return make


# --- browser tests ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def browser_type_launch_args(browser_type_launch_args: dict[str, Any]) -> dict[str, Any]:
    """Debian's chromium, never a Playwright download."""
    if not Path(CHROMIUM).exists() and shutil.which("chromium") is None:
        pytest.skip(f"browser tests need Debian chromium at {CHROMIUM} (apt-get install chromium)")
    return {
        **browser_type_launch_args,
        "executable_path": CHROMIUM,
        "args": ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"],
    }


@pytest.fixture(scope="session")
def live_server(app: Flask) -> Iterator[str]:
    """The app served on a loopback port in a thread (werkzeug), for the browser."""
    from werkzeug.serving import make_server

    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, name="admin-live-server", daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=5)


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def pytest_configure(config: pytest.Config) -> None:
    # WTForms 3.3 deprecations raised inside Flask-Admin's own fields, not ours to fix.
    config.addinivalue_line("filterwarnings", "ignore:Passing SelectField choices as tuples:DeprecationWarning")
    config.addinivalue_line("filterwarnings", "ignore:Yielding raw tuples from iter_choices:DeprecationWarning")
