"""Real Kafka, PostgreSQL and Redis for the tests, behind one set of fixtures.

Where each server comes from, in order:
1. the environment names it (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, REDIS_URL): used as is;
2. a Docker engine answers: testcontainers starts the official image;
3. otherwise the project's own local processes (deploy/local) start on free loopback ports.

Isolation: each test gets its own database (a copy of a migrated template), its own Kafka topic
prefix and consumer groups, and a flushed Redis database.
"""
from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from deploy.catalogue import SERVICES_WITH_SCHEMAS
from shared.config import Settings, normalise_database_url
from tests.support.broker import forget_session_topics, remember_topic_prefix
from tests.support.servers import provide_kafka, provide_keycloak, provide_postgres, provide_redis

# Fixtures more than one test folder uses live in modules, not in a conftest another folder imports.
pytest_plugins = [
    "tests.support.fixtures.campaigns",
    "tests.support.fixtures.registrations",
    "tests.support.fixtures.allocation",
    "tests.support.fixtures.notifications",
    "tests.support.fixtures.pages",
]


@pytest.fixture(scope="session")
def servers_dir() -> Path:
    # Not pytest's tmp_path: that tree is private to root, and PostgreSQL runs as another user.
    folder = Path(tempfile.mkdtemp(prefix="guichet-test-servers-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def kafka_bootstrap(servers_dir) -> str:
    with provide_kafka(servers_dir) as bootstrap:
        yield bootstrap
        if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
            forget_session_topics(bootstrap)


@pytest.fixture(scope="session")
def postgres_url(servers_dir) -> str:
    with provide_postgres(servers_dir) as url:
        yield normalise_database_url(url)


@pytest.fixture(scope="session")
def redis_url(servers_dir) -> str:
    with provide_redis(servers_dir) as url:
        yield url


@pytest.fixture(scope="session")
def oidc_provider(servers_dir):
    """Keycloak with the `guichet` realm (tests/support/keycloak.py: accounts, tokens, key rotation)."""
    with provide_keycloak(servers_dir) as provider:
        yield provider


@pytest.fixture(scope="session")
def template_database(postgres_url) -> str:
    """A database with every service migrated, copied for each test (CREATE DATABASE … TEMPLATE)."""
    from shared.migrations import upgrade

    name = f"guichet_template_{uuid.uuid4().hex[:8]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    for service in SERVICES_WITH_SCHEMAS:
        upgrade(service, Settings(service_name=f"{service}-test-migrations", database_url=url))
    yield name
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def database_url(postgres_url, template_database) -> str:
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{template_database}"'))
    yield make_url(postgres_url).set(database=name).render_as_string(hide_password=False)
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture
def redis_client(redis_url):
    import redis

    client = redis.Redis.from_url(redis_url, decode_responses=True)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def topic_prefix() -> str:
    prefix = f"t{uuid.uuid4().hex[:10]}."
    remember_topic_prefix(prefix)
    return prefix


@pytest.fixture
def make_settings(kafka_bootstrap, database_url, redis_url, topic_prefix, dev_keys):
    """Settings for a service under test, pointing at this test's database, topics and Redis: the shared
    `Settings`, or a service's own class (`make_settings("allocation", AllocationSettings, draw_delay=…)`)."""
    def make(service_name: str, settings_class: type[Settings] = Settings, **overrides) -> Settings:
        values = dict(service_name=service_name, database_url=database_url, kafka_bootstrap_servers=kafka_bootstrap,
                      redis_url=redis_url, kafka_topic_prefix=topic_prefix,
                      jwt_public_key_file=dev_keys[1], jwt_private_key_file=dev_keys[0], log_level="WARNING",
                      kafka_linger_ms=1)
        values.update(overrides)
        return settings_class(**values)
    return make


@pytest.fixture(scope="session")
def dev_keys(tmp_path_factory) -> tuple[Path, Path]:
    from shared.devtokens import ensure_dev_keys

    folder = tmp_path_factory.mktemp("keys")
    private, public = folder / "private.pem", folder / "public.pem"
    ensure_dev_keys(private, public)
    return private, public


@pytest.fixture
def token_for(make_settings):
    from shared.devtokens import issue_token

    def issue(role: str, subject: str | None = None, **claims) -> str:
        return issue_token(make_settings("tokens"), subject or f"{role}-{uuid.uuid4().hex[:8]}", [role], **claims)
    return issue


def pytest_sessionfinish(session, exitstatus):
    # An empty run is a failure here: "no tests ran" must never look green in CI.
    if exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED and not os.environ.get("GUICHET_ALLOW_EMPTY"):
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
