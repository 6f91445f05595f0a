"""Every web service of the catalogue (deploy/catalogue.py) under gunicorn, as `make run` starts them,
reaches /readyz against real servers: the four services with their database, broker and Redis, the
portal with the four services it calls."""
import json
import os
import signal
import urllib.request
from pathlib import Path

import pytest

from deploy.catalogue import WEB_SERVICES
from deploy.local.run import gunicorn_argv, service_env, start_process, wait_ready
from tests.support.keycloak import PORTAL_SECRET
from tests.support.servers import free_port


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


@pytest.fixture
def running_services(make_settings, oidc_provider, tmp_path):
    settings = make_settings("e2e")
    services = [service.on_port(free_port()) for service in WEB_SERVICES]
    env = {**os.environ, "DATABASE_URL": settings.database_url, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "REDIS_URL": settings.redis_url, "KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix,
           "JWT_PUBLIC_KEY_FILE": str(settings.jwt_public_key_file),
           "JWT_PRIVATE_KEY_FILE": str(settings.jwt_private_key_file), "GUICHET_WORKERS": "1",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
           # The portal calls the services started here, not `make run`'s.
           **{f"GUICHET_{s.name.upper()}_URL": s.url for s in services if s.has_schema}}
    # The portal signs people in at the provider: its issuer, client secret and session key.
    portal_env = {"OIDC_ISSUER": oidc_provider.issuer, "GUICHET_PORTAL_OIDC_CLIENT_SECRET": PORTAL_SECRET,
                  "GUICHET_PORTAL_SECRET_KEY": "e2e-session-key"}
    processes = [start_process(s.name, gunicorn_argv(s), {**service_env(s, env), **(portal_env if not s.has_schema else {})},
                               log_dir=tmp_path) for s in services]
    try:
        yield services, tmp_path
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)


def test_every_service_is_ready_documented_and_measured(running_services):
    services, logs = running_services
    called_by_the_portal = {service.name for service in services if service.has_schema}
    for service in services:
        wait_ready(service, timeout=90, log_dir=logs)
        status, body = fetch(f"{service.url}/readyz")
        checks = {"database", "kafka", "redis"} if service.has_schema else called_by_the_portal | {"redis"}
        assert status == 200 and json.loads(body)["checks"].keys() == checks, service.name
        status, body = fetch(f"{service.url}/openapi.json")
        assert status == 200 and json.loads(body)["info"]["title"].startswith("Guichet")
        status, body = fetch(f"{service.url}/metrics")
        assert status == 200 and b"guichet_http_requests_total" in body
    assert not any("Traceback" in log.read_text() for log in Path(logs).glob("*.log"))
