"""The waiting room on registrations processes of their own, as `make run` starts them (deploy/local/run.py) and
production's Ingress routes to the registrations-room Deployment: the edge sends registrations' `/waiting-rooms/`
paths to the room's gunicorn, everything else (the admitted family's submission) to intake's; the portal's client
sends its room calls to GUICHET_WAITING_ROOM_URL and the rest to GUICHET_REGISTRATIONS_URL. Which process answered
is read from each one's own /metrics (each gunicorn keeps its own counters)."""
from __future__ import annotations

import json
import os
import re
import tempfile
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from deploy.catalogue import web_service
from deploy.local.run import (
    WAITING_ROOM,
    WAITING_ROOM_GUNICORN_ENV,
    gunicorn_argv,
    proxied_env,
    start_edge,
    start_process,
    start_waiting_room,
    wait_ready,
    waiting_room_env,
    waiting_room_service,
)
from deploy.local.servers.nginx import nginx_binary
from services.portal.bootstrap import build_components
from services.portal.settings import PortalSettings
from shared.migrations import upgrade
from tests.support.registrations import campaign_snapshot
from tests.support.servers import free_port, stop_process_groups
from tests.support.stub_http import serving
from tests.support.waiting_room import room_snapshot

PLACE_COUNTER = re.compile(r'^guichet_http_requests_total\{[^}]*endpoint="/waiting-rooms/<uuid:campaign_id>/place"'
                           r'[^}]*method="(GET|PUT)"[^}]*status="200"[^}]*\} (\S+)$', re.MULTILINE)
SUBMISSION_COUNTER = re.compile(r'^guichet_http_requests_total\{[^}]*endpoint="/applications"[^}]*method="POST"'
                                r'[^}]*status="202"[^}]*\} (\S+)$', re.MULTILINE)


@pytest.fixture
def intake_and_room_behind_the_edge(registrations, tmp_path):
    """Intake's gunicorn and the room's, each on its Unix socket behind the edge, on this test's servers."""
    nginx_binary()  # fails with the way to install it (`make proxy`) when nginx is missing
    settings = registrations.settings
    upgrade("registrations", settings)
    intake = web_service("registrations").on_port(free_port())
    room = waiting_room_service(free_port())
    sockets = Path(tempfile.mkdtemp(prefix="guichet-"))  # Unix socket paths are short: not under tmp_path
    sockets.chmod(0o755)
    env = {**os.environ, "DATABASE_URL": settings.database_url, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "REDIS_URL": settings.redis_url, "KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix,
           "JWT_PUBLIC_KEY_FILE": str(settings.jwt_public_key_file), "GUICHET_WORKERS": "1",
           "INTAKE_PER_ACCOUNT_PER_MINUTE": "1000"}
    env.pop("PROMETHEUS_MULTIPROC_DIR", None)  # each gunicorn its own counters: which one answered is read there
    env.pop("OIDC_ISSUER", None)  # tokens signed with the tests' key
    processes = [start_process(intake.name, gunicorn_argv(intake), proxied_env(intake, env, sockets), log_dir=tmp_path),
                 start_waiting_room(env, sockets, log_dir=tmp_path),
                 start_edge([intake], env, sockets, log_dir=tmp_path, room_port=room.port)]
    try:
        wait_ready(intake, timeout=90, log_dir=tmp_path)
        wait_ready(room, timeout=90, log_dir=tmp_path, name=WAITING_ROOM)
        yield intake, room
    finally:
        stop_process_groups(processes)


def send(url: str, method: str = "GET", token: str | None = None, body: dict | None = None,
         headers: dict[str, str] | None = None) -> tuple[int, dict]:
    sent = {**(headers or {}), **({"Authorization": f"Bearer {token}"} if token else {})}
    data = None
    if body is not None:
        data, sent["Content-Type"] = json.dumps(body).encode(), "application/json"
    request = urllib.request.Request(url, data=data, method=method, headers=sent)
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status, json.loads(response.read() or b"null")


def counted(url: str, pattern: re.Pattern) -> dict[str, float]:
    """What one process's /metrics counts for `pattern`, by its first group (a place's method) or in all; series
    at 0 (the room's fast path declares its counters up front) left out."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=10) as response:
        text = response.read().decode()
    found: dict[str, float] = {}
    for match in pattern.finditer(text):
        key = match.group(1) if pattern.groups == 2 else "all"
        found[key] = found.get(key, 0.0) + float(match.groups()[-1])
    return {key: count for key, count in found.items() if count}


def test_the_room_has_its_own_sizing_apart_from_intakes():
    env = waiting_room_env({"GUICHET_WORKERS": "2", "GUICHET_THREADS": "16"}, Path(tempfile.mkdtemp()))
    assert {key: env[key] for key in WAITING_ROOM_GUNICORN_ENV} == WAITING_ROOM_GUNICORN_ENV
    assert env["GUICHET_BIND"].endswith(f"/{WAITING_ROOM}.sock") and env["TRUSTED_PROXIES"] == "1"


def test_the_edge_sends_joins_and_polls_to_the_rooms_processes_and_submissions_to_intakes(
        intake_and_room_behind_the_edge, registrations):
    intake, room = intake_and_room_behind_the_edge
    snapshot = campaign_snapshot(mode="fcfs")
    snapshot["waiting_room"] = room_snapshot()
    campaign = registrations.publish_campaign(snapshot)
    account, (child,) = registrations.family()
    token = registrations.token_for("parent", account)
    place_path = f"/waiting-rooms/{campaign['campaign_id']}/place"

    status, place = send(intake.url + place_path, "PUT", token)  # registrations' address, as a family's client has it
    assert status == 200 and place["state"] == "admitted", place
    status, again = send(intake.url + place_path, "GET", token)
    assert status == 200 and again["admission_token"] == place["admission_token"]
    assert counted(room.url, PLACE_COUNTER) == {"PUT": 1.0, "GET": 1.0}
    assert counted(intake.url, PLACE_COUNTER) == {}, "intake's processes answered none of the room's requests"

    body = {"campaign_id": str(campaign["campaign_id"]), "child_id": str(child),
            "choices": [str(campaign["offers"][0]["offer_id"])], "sworn_statement": True}
    status, accepted = send(f"{intake.url}/applications", "POST", token, body,
                            {"Idempotency-Key": uuid.uuid4().hex, "Admission-Token": place["admission_token"]})
    assert status == 202 and accepted["application_id"]
    assert counted(intake.url, SUBMISSION_COUNTER) == {"all": 1.0}
    assert counted(room.url, SUBMISSION_COUNTER) == {}

    # The portal, given the room's own address, sends its room calls there and the rest to registrations'.
    portal = build_components(PortalSettings(service_name="portal", registrations_url=f"{intake.url}/elsewhere",
                                             waiting_room_url=room.url)).client("registrations", token)
    assert portal.call("PUT", place_path).data["joined_at"] == place["joined_at"]
    assert portal.get(place_path).data["state"] == "admitted"
    assert counted(room.url, PLACE_COUNTER) == {"PUT": 2.0, "GET": 2.0}


@pytest.fixture
def two_recording_services():
    """Registrations' intake and its room's processes stood in for by two real HTTP servers recording each path."""
    calls: dict[str, list[str]] = {"registrations": [], "room": []}

    def recorder(name: str) -> type[BaseHTTPRequestHandler]:
        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                calls[name].append(f"{self.command} {self.path}")
                body = b"{}"
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = _answer  # noqa: N815 — http.server's naming
        return Handler

    with serving(recorder("registrations")) as registrations_url, serving(recorder("room")) as room_url:
        yield registrations_url, room_url, calls


def test_the_portal_sends_the_room_calls_to_the_room_url_and_nothing_else(two_recording_services):
    registrations_url, room_url, calls = two_recording_services
    settings = PortalSettings.from_env("portal", {"GUICHET_REGISTRATIONS_URL": registrations_url,
                                                  "GUICHET_WAITING_ROOM_URL": room_url})
    client = build_components(settings).client("registrations", "a-token")
    client.call("PUT", "/waiting-rooms/c-1/place")
    client.get("/waiting-rooms/c-1/place")
    client.get("/waiting-rooms/c-1")
    client.post("/applications", {"x": 1})
    client.get("/household")
    client.call("PUT", "/families/f-1/waiting-rooms/c-1/place")  # an agent's, rare: stays with registrations
    assert calls == {"room": ["PUT /waiting-rooms/c-1/place", "GET /waiting-rooms/c-1/place", "GET /waiting-rooms/c-1"],
                     "registrations": ["POST /applications", "GET /household", "PUT /families/f-1/waiting-rooms/c-1/place"]}


def test_without_a_room_url_the_portal_sends_everything_to_registrations(two_recording_services):
    registrations_url, _, calls = two_recording_services
    client = build_components(PortalSettings.from_env("portal", {"GUICHET_REGISTRATIONS_URL": registrations_url})) \
        .client("registrations", "a-token")
    client.call("PUT", "/waiting-rooms/c-1/place")
    client.post("/applications", {"x": 1})
    assert calls == {"room": [], "registrations": ["PUT /waiting-rooms/c-1/place", "POST /applications"]}
