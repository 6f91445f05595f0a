"""Where the tests' Kafka, PostgreSQL and Redis come from (see tests/conftest.py)."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# Re-exported: the tests take their free ports where the local stack and the benchmarks do.
from deploy.local.servers import free_port
from tests.support.keycloak import Provider

__all__ = ["docker_available", "free_port", "provide_kafka", "provide_keycloak", "provide_postgres", "provide_redis",
           "stop_process_groups"]


def stop_process_groups(processes: list[subprocess.Popen], timeout: float = 30) -> None:
    """SIGTERM to each process's group (deploy.local.run.start_process starts each in its own), then wait for all."""
    for process in processes:
        os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        process.wait(timeout=timeout)


def docker_available() -> bool:
    if os.environ.get("GUICHET_NO_DOCKER") or shutil.which("docker") is None:
        return False
    try:
        return subprocess.run(["docker", "info"], capture_output=True, timeout=10).returncode == 0
    except (OSError, subprocess.TimeoutExpired):
        return False


@contextmanager
def provide_kafka(base_dir: Path) -> Iterator[str]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
    elif docker_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer("apache/kafka:4.1.0").with_kraft() as container:
            yield container.get_bootstrap_server()
    else:
        from deploy.local.servers import KafkaServer

        server = KafkaServer(base_dir / "kafka", port=free_port(), controller_port=free_port())
        server.start()
        try:
            yield server.bootstrap_servers
        finally:
            server.stop()


@contextmanager
def provide_postgres(base_dir: Path) -> Iterator[str]:
    if os.environ.get("DATABASE_URL"):
        yield os.environ["DATABASE_URL"]
    elif docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:17", driver="psycopg") as container:
            yield container.get_connection_url()
    else:
        from deploy.local.servers import PostgresServer

        server = PostgresServer(base_dir / "postgres", port=free_port())
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


@contextmanager
def provide_redis(base_dir: Path) -> Iterator[str]:
    if os.environ.get("REDIS_URL"):
        yield os.environ["REDIS_URL"]
    elif docker_available():
        from testcontainers.redis import RedisContainer

        with RedisContainer("redis:7") as container:
            yield f"redis://{container.get_container_host_ip()}:{container.get_exposed_port(6379)}/0"
    else:
        from deploy.local.servers import RedisServer

        server = RedisServer(base_dir / "redis", port=free_port())
        server.start()
        try:
            yield server.url
        finally:
            server.stop()


@contextmanager
def provide_keycloak(base_dir: Path) -> Iterator[Provider]:
    """The OpenID Connect provider: the one OIDC_ISSUER names (with its master realm's administrator in
    KEYCLOAK_ADMIN_USERNAME / KEYCLOAK_ADMIN_PASSWORD: the tests create accounts and rotate keys), else a local
    Keycloak (deploy/local/servers/keycloak.py), started once for the session."""
    from deploy.local.servers.keycloak import ADMIN_PASSWORD, ADMIN_USERNAME

    if os.environ.get("OIDC_ISSUER"):
        issuer = os.environ["OIDC_ISSUER"].rstrip("/")
        yield Provider(issuer=issuer, admin_username=os.environ.get("KEYCLOAK_ADMIN_USERNAME", ADMIN_USERNAME),
                       admin_password=os.environ.get("KEYCLOAK_ADMIN_PASSWORD", ADMIN_PASSWORD))
    else:
        from deploy.local.servers import KeycloakServer

        server = KeycloakServer(base_dir / "keycloak", port=free_port(), management_port=free_port())
        server.start()
        try:
            yield Provider(issuer=server.issuer, admin_username=ADMIN_USERNAME, admin_password=ADMIN_PASSWORD)
        finally:
            server.stop()
