"""The whole stack for the page tests, as `make run` starts it: the four services and the portal under
gunicorn, the four workers as processes, on the test session's real Kafka, PostgreSQL and Redis; and
Debian's Chromium driven by Playwright.

One stack for the package (starting fourteen processes takes a while on two cores): its own database
(a copy of the migrated template), its own topic prefix, and the Redis database flushed at the start.
Each test makes its own accounts and campaigns, so the tests do not see each other's data.
"""
from __future__ import annotations

import os
import signal
import sys
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from deploy.catalogue import WEB_SERVICES, WORKERS
from deploy.local.run import gunicorn_argv, service_env, start_process, wait_ready
from shared.config import Settings
from shared.kafka import ensure_topics
from tests.support.keycloak import NOTIFICATIONS_CLIENT, NOTIFICATIONS_SECRET, PORTAL_SECRET
from tests.support.pages import Stack
from tests.support.servers import free_port

CHROMIUM = Path("/usr/bin/chromium")


def _database(postgres_url: str, template: str) -> tuple[str, str]:
    name = f"pages_{uuid.uuid4().hex[:10]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template}"'))
    admin.dispose()
    return name, make_url(postgres_url).set(database=name).render_as_string(hide_password=False)


def _drop(postgres_url: str, name: str) -> None:
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="package")
def stack(postgres_url, template_database, kafka_bootstrap, redis_url, dev_keys, oidc_provider, tmp_path_factory):
    import redis

    name, database_url = _database(postgres_url, template_database)
    redis.Redis.from_url(redis_url).flushdb()
    settings = Settings(service_name="pages-tests", database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                        redis_url=redis_url, kafka_topic_prefix=f"p{uuid.uuid4().hex[:10]}.",
                        jwt_private_key_file=dev_keys[0], jwt_public_key_file=dev_keys[1])
    ensure_topics(settings)
    services = [service.on_port(free_port()) for service in WEB_SERVICES]
    urls = {s.name: s.url for s in services}
    logs = tmp_path_factory.mktemp("stack-logs")
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "REDIS_URL": redis_url, "KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix, "LOG_LEVEL": "WARNING",
           "JWT_PRIVATE_KEY_FILE": str(dev_keys[0]), "JWT_PUBLIC_KEY_FILE": str(dev_keys[1]), "GUICHET_WORKERS": "1",
           # Intake is ready as soon as the guard keeper has seen the (empty) ledger.
           "GUICHET_GUARD_GRACE_SECONDS": "0",
           # Nobody listens there: families in these tests give no e-mail address, so none is sent.
           "GUICHET_SMTP_PORT": str(free_port()), "GUICHET_PORTAL_URL": urls["portal"],
           # Every service verifies the provider's tokens; the portal signs people in there.
           "OIDC_ISSUER": oidc_provider.issuer, "GUICHET_PORTAL_OIDC_CLIENT_SECRET": PORTAL_SECRET,
           "GUICHET_PORTAL_SECRET_KEY": uuid.uuid4().hex,
           **{f"GUICHET_{s.upper()}_URL": url for s, url in urls.items() if s != "portal"}}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each gunicorn makes its own
    processes = [start_process(s.name, gunicorn_argv(s), service_env(s, env), log_dir=logs) for s in services]
    # The notifications worker reads households from registrations with its own service account.
    service_account = {"OIDC_CLIENT_ID": NOTIFICATIONS_CLIENT, "OIDC_CLIENT_SECRET": NOTIFICATIONS_SECRET}
    processes += [start_process(w.name, w.argv(sys.executable), {**env, **service_account}, log_dir=logs)
                  for w in WORKERS]
    try:
        for service in services:
            wait_ready(service, timeout=120, log_dir=logs)
        yield Stack(settings, urls, logs, oidc_provider)
    finally:
        for process in processes:
            try:
                os.killpg(process.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
        for process in processes:
            try:
                process.wait(timeout=30)
            except Exception:  # noqa: BLE001 — a stuck process must not leave the database behind
                os.killpg(process.pid, signal.SIGKILL)
        _drop(postgres_url, name)


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
