"""The stack as `make run` starts it, for the tests that talk to it from outside (tests/pages, tests/contract):
the web services under gunicorn (and, if asked, the workers as processes) on the test session's real Kafka,
PostgreSQL and Redis, in a database of their own (a copy of the migrated template) and a topic prefix of their own.
"""
from __future__ import annotations

import base64
import os
import signal
import sys
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from deploy.catalogue import WEB_SERVICES, WORKERS
from deploy.local.run import gunicorn_argv, service_env, start_process, wait_ready
from shared.config import Settings
from shared.kafka import ensure_topics
from tests.support.broker import remember_topic_prefix
from tests.support.keycloak import NOTIFICATIONS_CLIENT, NOTIFICATIONS_SECRET, PORTAL_SECRET, Provider
from tests.support.pages import Stack
from tests.support.servers import free_port

# The services with an API of their own (the portal has none): the contract run's targets.
API_SERVICES = tuple(service.name for service in WEB_SERVICES if service.has_schema)


def _database(postgres_url: str, template: str, prefix: str) -> tuple[str, str]:
    name = f"{prefix}_{uuid.uuid4().hex[:10]}"
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


@contextmanager
def running_stack(*, postgres_url: str, template_database: str, kafka_bootstrap: str, redis_url: str,
                  dev_keys: tuple[Path, Path], provider: Provider, logs: Path, prefix: str,
                  services: Iterable[str] | None = None, workers: bool = True,
                  extra_env: dict[str, str] | None = None) -> Iterator[Stack]:
    """The named web services (all of the catalogue's by default) and the workers, ready; stopped and their
    database dropped on leaving."""
    import redis

    name, database_url = _database(postgres_url, template_database, prefix)
    redis.Redis.from_url(redis_url).flushdb()
    settings = Settings(service_name=f"{prefix}-tests", database_url=database_url,
                        kafka_bootstrap_servers=kafka_bootstrap, redis_url=redis_url,
                        kafka_topic_prefix=remember_topic_prefix(f"{prefix[:1]}{uuid.uuid4().hex[:10]}."),
                        jwt_private_key_file=dev_keys[0], jwt_public_key_file=dev_keys[1])
    ensure_topics(settings)
    wanted = set(services) if services is not None else {s.name for s in WEB_SERVICES}
    started = [service.on_port(free_port()) for service in WEB_SERVICES if service.name in wanted]
    urls = {s.name: s.url for s in started}
    env = {**os.environ, "DATABASE_URL": database_url, "KAFKA_BOOTSTRAP_SERVERS": kafka_bootstrap,
           "REDIS_URL": redis_url, "KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix, "LOG_LEVEL": "WARNING",
           "JWT_PRIVATE_KEY_FILE": str(dev_keys[0]), "JWT_PUBLIC_KEY_FILE": str(dev_keys[1]), "GUICHET_WORKERS": "1",
           # Intake is ready as soon as the guard keeper has seen the (empty) ledger.
           "GUICHET_GUARD_GRACE_SECONDS": "0",
           # The pages walk a manager's review: a simulation, then publishing (the automatic draw once
           # intake drained is tested in tests/integration/allocation/test_allocation_draw_trigger.py).
           "GUICHET_DRAW_WHEN_INTAKE_DRAINED": "false",
           # Nobody listens there: families in these tests give no e-mail address, so none is sent.
           "GUICHET_SMTP_PORT": str(free_port()), "GUICHET_PORTAL_URL": urls.get("portal", "http://127.0.0.1:9"),
           # Every service verifies the provider's tokens; the portal signs people in there.
           "OIDC_ISSUER": provider.issuer, "GUICHET_PORTAL_OIDC_CLIENT_SECRET": PORTAL_SECRET,
           "GUICHET_PORTAL_SECRET_KEY": uuid.uuid4().hex,
           # The lottery seeds sealed at rest, as in production (services/allocation/store/seed_vault.py).
           "GUICHET_LOTTERY_SEED_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
           **{f"GUICHET_{s.upper()}_URL": url for s, url in urls.items() if s != "portal"},
           **(extra_env or {})}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each gunicorn makes its own
    processes = [start_process(s.name, gunicorn_argv(s), service_env(s, env), log_dir=logs) for s in started]
    if workers:
        # The notifications worker reads households from registrations with its own service account.
        service_account = {"OIDC_CLIENT_ID": NOTIFICATIONS_CLIENT, "OIDC_CLIENT_SECRET": NOTIFICATIONS_SECRET}
        processes += [start_process(w.name, w.argv(sys.executable), {**env, **service_account}, log_dir=logs)
                      for w in WORKERS]
    try:
        for service in started:
            wait_ready(service, timeout=120, log_dir=logs)
        yield Stack(settings, urls, logs, provider)
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
