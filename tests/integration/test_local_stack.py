"""The local server processes of deploy/local: real Kafka, PostgreSQL and Redis, started privately here."""
from __future__ import annotations

import shutil
import socket
import tempfile
import uuid
from pathlib import Path

import psycopg
import pytest
import redis
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic

from deploy.local.servers import KafkaServer, LocalServer, PostgresServer, RedisServer
from deploy.local.stack import local_servers, read_env_file, running_servers, start_stack, status, stop_stack
from tests.support.servers import free_port


@pytest.fixture
def private_dir() -> Path:
    # Not pytest's tmp_path: that tree is private to root, and PostgreSQL runs as another user.
    folder = Path(tempfile.mkdtemp(prefix="guichet-local-stack-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def port_is_closed(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


def round_trip_one_record(bootstrap_servers: str) -> bytes:
    topic = f"local-stack-{uuid.uuid4().hex[:8]}"
    admin = KafkaAdminClient(bootstrap_servers=bootstrap_servers)
    try:
        admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        admin.close()
    producer = KafkaProducer(bootstrap_servers=bootstrap_servers, acks="all")
    try:
        producer.send(topic, key=b"k", value=b"hello", partition=0).get(timeout=30)
    finally:
        producer.close()
    consumer = KafkaConsumer(bootstrap_servers=bootstrap_servers, consumer_timeout_ms=15_000)
    try:
        partition = TopicPartition(topic, 0)
        consumer.assign([partition])
        consumer.seek_to_beginning(partition)
        return next(iter(consumer)).value
    finally:
        consumer.close()


def test_servers_start_answer_real_clients_and_stop(private_dir):
    kafka = KafkaServer(private_dir / "kafka", port=free_port(), controller_port=free_port())
    postgres = PostgresServer(private_dir / "postgres", port=free_port())
    redis_server = RedisServer(private_dir / "redis", port=free_port())
    servers: list[LocalServer] = [kafka, postgres, redis_server]
    try:
        for server in servers:
            server.start()
            assert server.is_running()

        assert round_trip_one_record(kafka.bootstrap_servers) == b"hello"
        with psycopg.connect(postgres.url.replace("+psycopg", "")) as connection:
            assert connection.execute("select 1").fetchone() == (1,)
        client = redis.Redis.from_url(redis_server.url)
        try:
            assert client.ping() is True
        finally:
            client.close()
    finally:
        for server in servers:
            server.stop()

    for server in servers:
        assert not server.is_running()
        assert not server.pid_file.exists()
        assert all(port_is_closed(port) for port in server.ports), f"{server.name} still listens"


def test_stack_reuses_servers_named_by_the_environment(private_dir, monkeypatch, capsys):
    named = {"KAFKA_BOOTSTRAP_SERVERS": "kafka-1:9092,kafka-2:9092",
             "DATABASE_URL": "postgresql://guichet:secret@db:5432/guichet?sslmode=require&application_name=x",
             "REDIS_URL": "redis://cache:6379/3"}
    for variable, value in named.items():
        monkeypatch.setenv(variable, value)

    assert start_stack(private_dir) == named
    assert read_env_file(private_dir) == named  # quoted where a shell needs it, read back intact
    assert not list(private_dir.glob("*/*.pid")), "started a server the environment already names"
    assert status(private_dir) == 0
    assert capsys.readouterr().out.count("external") == 3

    assert stop_stack(private_dir) == []
    assert status(private_dir) == 1  # nothing promised any more


def test_a_run_leaves_running_the_servers_that_ran_before_it(private_dir, monkeypatch):
    """`make run` on a stack `make stack-up` started: it uses that stack and, when it stops, leaves it running."""
    monkeypatch.setenv("KAFKA_BOOTSTRAP_SERVERS", "kafka-elsewhere:9092")
    monkeypatch.setenv("DATABASE_URL", "postgresql://guichet@db-elsewhere:5432/guichet")
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("GUICHET_REDIS_PORT", str(free_port()))
    started_before = local_servers(private_dir)["REDIS_URL"]
    started_before.start()  # as `make stack-up` would have
    try:
        already = running_servers(private_dir)
        assert already == {"redis"}
        env = start_stack(private_dir)
        assert env["REDIS_URL"] == started_before.url

        assert stop_stack(private_dir, keep=already) == []
        assert started_before.is_running() and read_env_file(private_dir)["REDIS_URL"] == started_before.url
        client = redis.Redis.from_url(started_before.url)
        try:
            assert client.ping() is True
        finally:
            client.close()

        assert stop_stack(private_dir) == ["redis"]  # `make stop`: everything
        assert not started_before.is_running()
    finally:
        started_before.stop()
