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
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from deploy.local.run import PORTAL_APP, REPO, Service, gunicorn_argv, service_env, start_process, wait_ready
from services.portal.client import ServiceClient
from shared.config import Settings
from shared.devtokens import issue_token
from shared.kafka import ensure_topics
from tests.support.servers import free_port

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOTS = REPO / "screenshots"
SERVICES = ("campaigns", "registrations", "allocation", "notifications")
WORKERS = ("campaigns", "registrations", "allocation", "notifications")


@dataclass
class Stack:
    settings: Settings
    urls: dict[str, str]
    logs: Path

    @property
    def portal(self) -> str:
        return self.urls["portal"]

    def client(self, service: str, role: str, subject: str) -> ServiceClient:
        return ServiceClient(service, self.urls[service], issue_token(self.settings, subject, [role]))

    def manager(self, service: str) -> ServiceClient:
        return self.client(service, "manager", "agent-tests")

    def parent(self, service: str, account: str) -> ServiceClient:
        return self.client(service, "parent", account)


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
def stack(postgres_url, template_database, kafka_bootstrap, redis_url, dev_keys, tmp_path_factory):
    import redis

    name, database_url = _database(postgres_url, template_database)
    redis.Redis.from_url(redis_url).flushdb()
    settings = Settings(service_name="pages-tests", database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                        redis_url=redis_url, kafka_topic_prefix=f"p{uuid.uuid4().hex[:10]}.",
                        jwt_private_key_file=dev_keys[0], jwt_public_key_file=dev_keys[1])
    ensure_topics(settings)
    services = [Service(s, free_port()) for s in (*SERVICES, "portal")]
    urls = {s.name: s.url for s in services}
    logs = tmp_path_factory.mktemp("stack-logs")
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "REDIS_URL": redis_url, "KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix, "LOG_LEVEL": "WARNING",
           "JWT_PRIVATE_KEY_FILE": str(dev_keys[0]), "JWT_PUBLIC_KEY_FILE": str(dev_keys[1]), "GUICHET_WORKERS": "1",
           # Intake is ready as soon as the guard keeper has seen the (empty) ledger.
           "GUICHET_GUARD_GRACE_SECONDS": "0",
           # Nobody listens there: families in these tests give no e-mail address, so none is sent.
           "GUICHET_SMTP_PORT": str(free_port()), "GUICHET_PORTAL_URL": urls["portal"], "GUICHET_PORTAL_DEV_SIGN_IN": "1",
           **{f"GUICHET_{s.upper()}_URL": urls[s] for s in SERVICES}}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each gunicorn makes its own
    processes = [start_process(s.name, gunicorn_argv(s, PORTAL_APP if s.name == "portal" else None), service_env(s, env),
                               log_dir=logs) for s in services]
    processes += [start_process(f"{w}-worker", [sys.executable, "-m", f"services.{w}.worker"], env, log_dir=logs)
                  for w in WORKERS]
    try:
        for service in services:
            wait_ready(service, timeout=120)
        yield Stack(settings, urls, logs)
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


def screenshot(page, name: str) -> Path:
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=True)
    return path


def sign_in(page, portal: str, account: str, role: str = "parent") -> None:
    page.goto(f"{portal}/connexion")
    page.get_by_label("Identifiant du compte").fill(account)
    page.get_by_label("Parent" if role == "parent" else "Agent de la Ville (gestion des campagnes)").check()
    page.get_by_role("button", name="Se connecter").click()


def lottery_campaign(opens_in: timedelta, title: str, capacity: int = 10, closes_in: timedelta = timedelta(hours=1),
                     mode: str = "lottery") -> dict:
    now = datetime.now(timezone.utc)
    closes = now + closes_in
    start = (closes + timedelta(days=2)).date()
    return {
        "title": title, "kind": "sport_vacances", "description": "Stages sportifs des vacances.",
        "opens_at": (now + opens_in).isoformat(timespec="seconds"), "closes_at": closes.isoformat(timespec="seconds"),
        "reference_date": start.isoformat(), "max_choices": 2,
        "policy": {"mode": mode, "criteria": [], "reserved_shares": [], "lottery_weight_per_unsuccessful_year": 0,
                   "keep_siblings_together": False, "acceptance_delay_hours": 72},
        "offers": [{"title": "Escalade — initiation", "site": "Gymnase Jean Dame", "arrondissement": 2,
                    "starts_on": start.isoformat(), "ends_on": (start + timedelta(days=4)).isoformat(),
                    "min_age": 7, "max_age": 17, "capacity": capacity, "waitlist_limit": None,
                    "tariffs_cents": [400 + 100 * n for n in range(10)]}],
    }


def create_published_campaign(stack: Stack, body: dict) -> dict:
    campaigns = stack.manager("campaigns")
    created = campaigns.post("/campaigns", body, headers={"Idempotency-Key": uuid.uuid4().hex})
    campaign = created.data
    return campaigns.post(f"/campaigns/{campaign['id']}/publish", headers={"If-Match": created.headers["ETag"]}).data


def declare_family(stack: Stack, account: str, first_name: str, birth_date: date, **facts) -> str:
    """A household with one child, through the registrations API; returns the child's id."""
    registrations = stack.parent("registrations", account)
    registrations.call("PUT", "/household", headers={"If-Match": "*"}, body={
        "single_parent": False, "quotient_tranche": 3, "quotient_justified_on": "2026-09-30", "arrondissement": 11,
        "postal_mail": False, "email": None, "language": "fr", **facts})
    child = registrations.post("/household/children", {"first_name": first_name, "last_name": "Martin",
                                                       "birth_date": birth_date.isoformat()},
                               headers={"Idempotency-Key": uuid.uuid4().hex})
    return child.data["child_id"]


def reloading(page, probe):
    """For `eventually`: reload the page, then look."""
    def look():
        page.reload()
        return probe()
    return look
