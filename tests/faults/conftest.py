"""The fault tests' stack: private servers that belong to this test module, so restarting them cannot
disturb other tests. What it is made of, the surge and the checks are in tests/support/faults.py."""
from __future__ import annotations

import os
import shutil
import uuid
from pathlib import Path

import pytest

from deploy.catalogue import web_service
from deploy.local.run import wait_ready
from deploy.local.servers import KafkaServer, PostgresServer, RedisServer, free_port
from shared.config import Settings
from shared.kafka import ensure_topics
from shared.migrations import upgrade
from tests.support.faults import FaultStack


@pytest.fixture(scope="module")
def fault_stack(dev_keys, request):
    base = Path(os.environ.get("TMPDIR", "/tmp")) / f"guichet-faults-{uuid.uuid4().hex[:8]}"
    base.mkdir(mode=0o755)
    failed_before = request.session.testsfailed
    kafka = KafkaServer(base / "kafka", port=free_port(), controller_port=free_port())
    postgres = PostgresServer(base / "postgres", port=free_port())
    redis_server = RedisServer(base / "redis", port=free_port())
    for server in (kafka, postgres, redis_server):
        server.start()
    settings = Settings(service_name="faults", database_url=postgres.url, kafka_bootstrap_servers=kafka.bootstrap_servers,
                        redis_url=redis_server.url, jwt_public_key_file=dev_keys[1], jwt_private_key_file=dev_keys[0])
    upgrade("registrations", settings)
    upgrade("allocation", settings)
    ensure_topics(settings)
    env = {**os.environ, "DATABASE_URL": postgres.url, "KAFKA_BOOTSTRAP_SERVERS": kafka.bootstrap_servers,
           "REDIS_URL": redis_server.url, "JWT_PUBLIC_KEY_FILE": str(dev_keys[1]), "GUICHET_WORKERS": "2",
           "GUICHET_GUARD_GRACE_SECONDS": "2", "INTAKE_PER_ACCOUNT_PER_MINUTE": "1000",
           "INTAKE_PER_IP_PER_MINUTE": "1000000", "PROMETHEUS_MULTIPROC_DIR": str(base / "metrics"),
           "LOG_LEVEL": "WARNING"}
    env.pop("OIDC_ISSUER", None)  # provider-less: the surge's parents carry tokens signed with the local key
    stack = FaultStack(kafka, postgres, redis_server, settings, env, web_service("registrations").on_port(free_port()), base / "logs")
    stack.start_web()
    stack.start_worker("registrations")
    stack.start_worker("allocation")
    wait_ready(stack.service, timeout=90, log_dir=stack.log_dir)
    try:
        yield stack
    finally:
        stack.stop_all()
        for server in (kafka, postgres, redis_server):
            server.stop()
        if request.session.testsfailed == failed_before:
            shutil.rmtree(base, ignore_errors=True)  # kept after a failure: the processes' logs are in it
        else:
            print(f"\nfault stack kept for its logs: {base}")


