"""Slow clients cannot starve a service: registrations under gunicorn behind the edge proxy, as `make run` starts
it (deploy/local/run.py), with 50 connections sending a body one byte a second while parents send their
households and /healthz is asked. Measured (docs/deploy.md): without the proxy, 8 such clients held every gthread
slot and /healthz did not answer within 40 s; behind it, /healthz answered in 2–5 ms and a PUT /household in
tens of ms with 50 held open. The bound asserted here is generous (a loaded CI machine), not a benchmark."""
import json
import os
import signal
import socket
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from uuid import uuid4

import pytest

from deploy.catalogue import web_service
from deploy.local.run import gunicorn_argv, proxied_env, start_edge, start_process, wait_ready
from deploy.local.servers.nginx import nginx_binary
from shared.migrations import upgrade
from tests.support.servers import free_port

SLOW_CLIENTS = 50
USUAL_BOUND_S = 2.0  # a /healthz or a household write answers in milliseconds; 2 s is "usual" on any machine
FACTS = {"single_parent": False, "quotient_tranche": None, "quotient_justified_on": None, "arrondissement": 11,
         "postal_mail": False, "postal_address": None, "email": None, "language": "fr"}


@pytest.fixture
def registrations_behind_the_proxy(make_settings, tmp_path):
    nginx_binary()  # fails with the way to install it (`make proxy`) when nginx is missing
    settings = make_settings("registrations")
    upgrade("registrations", settings)
    service = web_service("registrations").on_port(free_port())
    # Unix socket paths are short (108 bytes): not under pytest's long tmp_path.
    sockets = Path(tempfile.mkdtemp(prefix="guichet-"))
    sockets.chmod(0o755)  # as root, nginx's workers run as another user and must reach the socket
    env = {**os.environ, "DATABASE_URL": settings.database_url, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "REDIS_URL": settings.redis_url, "KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix,
           "JWT_PUBLIC_KEY_FILE": str(settings.jwt_public_key_file), "GUICHET_WORKERS": "2",
           "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics")}
    processes = [start_process(service.name, gunicorn_argv(service), proxied_env(service, env, sockets), log_dir=tmp_path),
                 start_edge([service], env, sockets, log_dir=tmp_path)]
    try:
        wait_ready(service, timeout=90, log_dir=tmp_path)
        yield service
    finally:
        for process in processes:
            os.killpg(process.pid, signal.SIGTERM)
        for process in processes:
            process.wait(timeout=30)


def timed(request: urllib.request.Request) -> tuple[int, float]:
    started = time.monotonic()
    with urllib.request.urlopen(request, timeout=30) as response:
        response.read()
        return response.status, time.monotonic() - started


def test_fifty_slow_clients_do_not_delay_health_checks_or_submissions(registrations_behind_the_proxy, token_for):
    service = registrations_behind_the_proxy
    slow_token = token_for("parent", "family-slow")
    held = []
    for _ in range(SLOW_CLIENTS):
        connection = socket.create_connection(("127.0.0.1", service.port))
        connection.sendall(f"PUT /household HTTP/1.1\r\nHost: guichet\r\nAuthorization: Bearer {slow_token}\r\n"
                           "Content-Type: application/json\r\nIf-Match: *\r\nContent-Length: 4000\r\n\r\n{".encode())
        held.append(connection)
    stop = threading.Event()

    def drip():
        while not stop.wait(1):
            for connection in held:
                try:
                    connection.send(b" ")
                except OSError:
                    pass

    dripping = threading.Thread(target=drip, daemon=True)
    dripping.start()
    try:
        time.sleep(2)  # every slow client has sent headers and started its body
        timings = []
        for n in range(10):
            status, seconds = timed(urllib.request.Request(f"{service.url}/healthz"))
            assert status == 200
            timings.append(seconds)
            body = json.dumps(FACTS).encode()
            status, seconds = timed(urllib.request.Request(
                f"{service.url}/household", data=body, method="PUT", headers={
                    "Authorization": f"Bearer {token_for('parent', f'family-{n}-{uuid4().hex[:6]}')}",
                    "Content-Type": "application/json", "If-Match": "*"}))
            assert status in (200, 201)
            timings.append(seconds)
        assert max(timings) < USUAL_BOUND_S, timings
    finally:
        stop.set()
        dripping.join(timeout=5)
        for connection in held:
            connection.close()
