"""Fixtures of the registrations API's tests: the app on this test's servers, its engine, a test client, and
tokens by role. A test module may define its own `app` (test_manager_scopes.py does, with scopes)."""
import pytest

from services.registrations.app import create_app
from services.registrations.settings import RegistrationsSettings


@pytest.fixture
def app(make_settings, redis_client):
    app = create_app(make_settings("registrations", RegistrationsSettings))
    yield app
    app.extensions["guichet.runtime"].close()


@pytest.fixture
def engine(app):
    return app.extensions["guichet.runtime"].engine


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def as_role(token_for):
    """Headers with a token of `role` (for `subject`, or a new one), and any other header."""
    def headers(role: str, subject: str | None = None, **extra) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for(role, subject)}", **extra}
    return headers
