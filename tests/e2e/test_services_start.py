"""The four services under gunicorn, as `make run` starts them, reach /readyz against real servers."""
import json
import os
import signal
import urllib.request
from pathlib import Path

import pytest

from deploy.local.run import SERVICES, Service, gunicorn_argv, service_env, start_process, wait_ready
from tests.support.servers import free_port


def fetch(url: str) -> tuple[int, bytes]:
    with urllib.request.urlopen(url, timeout=5) as response:
        return response.status, response.read()


@pytest.fixture
def running_services(make_settings, tmp_path):
    settings = make_settings("e2e")
    env = {**os.environ, "DATABASE_URL": settings.database_url, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "REDIS_URL": settings.redis_url, "KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix,
           "JWT_PUBLIC_KEY_FILE": str(settings.jwt_public_key_file), "GUICHET_WORKERS": "1",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    services = [Service(s.name, free_port()) for s in SERVICES]
    processes = [start_process(s.name, gunicorn_argv(s), service_env(s, env), log_dir=tmp_path) for s in services]
    try:
        yield services, tmp_path
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)


def test_every_service_is_ready_documented_and_measured(running_services):
    services, logs = running_services
    for service in services:
        wait_ready(service, timeout=90)
        status, body = fetch(f"{service.url}/readyz")
        assert status == 200 and json.loads(body)["checks"].keys() == {"database", "kafka", "redis"}
        status, body = fetch(f"{service.url}/openapi.json")
        assert status == 200 and json.loads(body)["info"]["title"].startswith("Guichet")
        status, body = fetch(f"{service.url}/metrics")
        assert status == 200 and b"guichet_http_requests_total" in body
    assert not any("Traceback" in log.read_text() for log in Path(logs).glob("*.log"))
