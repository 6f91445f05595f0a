"""The whole stack for the page tests, as `make run` starts it: the four services and the portal under
gunicorn, the four workers as processes, on the test session's real Kafka, PostgreSQL and Redis; and
Debian's Chromium driven by Playwright.

One stack for the package (starting fourteen processes takes a while on two cores): its own database
(a copy of the migrated template), its own topic prefix, and the Redis database flushed at the start.
Each test makes its own accounts and campaigns, so the tests do not see each other's data.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.pages import Stack
from tests.support.stack import running_stack

CHROMIUM = Path("/usr/bin/chromium")


@pytest.fixture(scope="package")
def stack(postgres_url, template_database, kafka_bootstrap, redis_url, dev_keys, oidc_provider, tmp_path_factory):
    with running_stack(postgres_url=postgres_url, template_database=template_database,
                       kafka_bootstrap=kafka_bootstrap, redis_url=redis_url, dev_keys=dev_keys,
                       provider=oidc_provider, logs=tmp_path_factory.mktemp("stack-logs"), prefix="pages") as running:
        yield running


@pytest.fixture(autouse=True)
def portal_errors_fail_the_test(request):
    """A page that hit an unexpected error (a 500 of the portal) fails the test that showed it."""
    if "stack" not in request.fixturenames:
        yield
        return
    stack: Stack = request.getfixturevalue("stack")
    log = stack.logs / "portal.log"
    start = log.stat().st_size if log.exists() else 0
    yield
    with open(log, "rb") as handle:
        handle.seek(start)
        written = handle.read().decode(errors="replace")
    assert "Traceback" not in written, written


@pytest.fixture(scope="package")
def browser():
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing: `make install` installs Debian's chromium (apt-get install -y chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="fr-FR", timezone_id="Europe/Paris")
    context.set_default_timeout(15_000)
    page = context.new_page()
    yield page
    context.close()
