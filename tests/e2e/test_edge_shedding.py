"""The edge sheds before Python (issue 15; deploy/local/servers/nginx.py, docs/deploy.md "Shedding at the edge"):
the real nginx `make run` starts (deploy/local/run.py, start_edge), in front of upstreams that hold every request
until the test lets them go and count what reached them. Beyond the waiting room's bounds (its processes' threads
for joins, and apart from them its polls) and intake's (submissions only), nginx itself answers 503 problem+json with a Retry-After, and nothing reaches
the processes; the processes' own 503s pass unchanged. Behaviour only: no timing is asserted."""
from __future__ import annotations

import json
import os
import socket
import socketserver
import tempfile
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest

from deploy.catalogue import web_service
from deploy.local.run import (
    SERVICE_GUNICORN_ENV,
    WAITING_ROOM,
    WAITING_ROOM_GUNICORN_ENV,
    gunicorn_socket,
    room_polls_in_flight,
    start_edge,
    threads_of,
)
from deploy.local.servers.nginx import ROOM_POLL_RETRY_S, ROOM_RETRY_S, SHED_BY, SUBMISSION_RETRY_S, nginx_binary
from services.registrations.domain.waiting_room import JoinBackoff, PollBudget, poll_backoff_jitter, refused_join_span
from services.registrations.web.parents.waiting_room_fast import JOIN_BACKOFF, POLL_BACKOFF
from shared.waiting import wait_until
from tests.support.servers import free_port, stop_process_groups

OWN_503 = {"type": "urn:guichet:problem:upstream-own", "status": 503, "code": "upstream-own"}
ROOM_BOUND = threads_of(WAITING_ROOM_GUNICORN_ENV, {})
POLLS_BOUND = room_polls_in_flight(WAITING_ROOM_GUNICORN_ENV)
INTAKE_BOUND = threads_of(SERVICE_GUNICORN_ENV["registrations"], {"GUICHET_WORKERS": "1"})


@dataclass
class Upstream:
    """Stands for one service's gunicorn on its Unix socket: holds each request until `release`, counts them."""
    received: list[tuple[str, str]] = field(default_factory=list)
    release: threading.Event = field(default_factory=threading.Event)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> type[BaseHTTPRequestHandler]:
        upstream = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # nginx's upstream keep-alive

            def log_message(self, *args):
                pass

            def answer(self):
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with upstream.lock:
                    upstream.received.append((self.command, self.path))
                if self.path.endswith("/own-503"):
                    status, body, headers = 503, json.dumps(OWN_503).encode(), {"Retry-After": "7"}
                else:
                    if not self.path.startswith(("/readyz", "/healthz")):
                        upstream.release.wait(30)
                    status, body, headers = 200, b'{"served": true}', {}
                self.send_response(status)
                self.send_header("Content-Type", "application/problem+json" if status == 503 else "application/json")
                self.send_header("Content-Length", str(len(body)))
                for name, value in headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = answer

        return Handler

    def count(self) -> int:
        """Requests received, the probes (/readyz, /healthz) apart."""
        with self.lock:
            return sum(not path.startswith(("/readyz", "/healthz")) for _, path in self.received)


class UnixHttpServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True

    def get_request(self):
        request, _ = super().get_request()
        return request, ("unix", 0)  # BaseHTTPRequestHandler expects an address pair


@contextmanager
def listening(path: Path, upstream: Upstream) -> Iterator[None]:
    server = UnixHttpServer(str(path), upstream.handler(), bind_and_activate=False)
    server.request_queue_size = 64  # more than the bounds: every request let through is accepted at once
    server.server_bind()
    server.server_activate()
    path.chmod(0o777)  # as root, nginx's workers run as another user and must connect to it
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield
    finally:
        upstream.release.set()
        server.shutdown()
        server.server_close()


@pytest.fixture
def edge(tmp_path):
    """The edge as `make run` configures it, intake (one worker) and the room behind it on their sockets."""
    nginx_binary()  # fails with the way to install it (`make proxy`) when nginx is missing
    sockets = Path(tempfile.mkdtemp(prefix="guichet-"))  # Unix socket paths are short: not under tmp_path
    sockets.chmod(0o755)
    intake = web_service("registrations").on_port(free_port())
    room_port = free_port()
    upstreams = {"intake": Upstream(), "room": Upstream()}
    env = {**os.environ, "GUICHET_WORKERS": "1"}
    with listening(gunicorn_socket(intake, sockets), upstreams["intake"]), \
            listening(sockets / f"{WAITING_ROOM}.sock", upstreams["room"]):
        process = start_edge([intake], env, sockets, log_dir=tmp_path, room_port=room_port)
        try:
            wait_until(lambda: fetch(f"http://127.0.0.1:{room_port}/readyz")[0] == 200, timeout=20,
                       interval=0.1, what="the edge", ignore=(OSError,))
            yield intake.url, f"http://127.0.0.1:{room_port}", upstreams
        finally:
            for upstream in upstreams.values():
                upstream.release.set()
            stop_process_groups([process])


def fetch(url: str, method: str = "GET", body: bytes | None = None,
          headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, data=body, method=method,
                                     headers={"Authorization": "Bearer x", **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=40) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, dict(refused.headers), refused.read()


def hold(pool: ThreadPoolExecutor, url: str, method: str, count: int, upstream: Upstream):
    """`count` requests held by the upstream (all received), their futures."""
    already = upstream.count()
    held = [pool.submit(fetch, url, method, b"{}" if method != "GET" else None) for _ in range(count)]
    wait_until(lambda: upstream.count() == already + count, timeout=20, interval=0.05,
               what=f"{count} requests held upstream (received: {upstream.received})")
    return held


def assert_refused_by_the_edge(answer, code: str, retry_between: tuple[int, int]) -> None:
    status, headers, body = answer
    assert status == 503, (status, body)
    assert headers["Content-Type"] == "application/problem+json"
    assert headers[SHED_BY] == "edge" and headers["Cache-Control"] == "no-store" and headers["X-Request-ID"]
    problem = json.loads(body)
    assert problem["status"] == 503 and problem["code"] == code and problem["type"] == f"urn:guichet:problem:{code}"
    assert problem["retry_after"] == int(headers["Retry-After"])
    assert retry_between[0] <= problem["retry_after"] <= retry_between[1]


def test_beyond_the_rooms_bound_the_edge_answers_503_and_nothing_reaches_the_room(edge):
    intake_url, room_url, upstreams = edge
    room = upstreams["room"]
    place = f"/waiting-rooms/{uuid.uuid4()}/place"
    with ThreadPoolExecutor(ROOM_BOUND + 4) as pool:
        held = hold(pool, room_url + place, "PUT", ROOM_BOUND, room)

        assert_refused_by_the_edge(fetch(room_url + place, "PUT"), "waiting-room-busy", ROOM_RETRY_S)
        assert_refused_by_the_edge(fetch(room_url + place.removesuffix("/place"), "GET"), "waiting-room-busy",
                                   ROOM_RETRY_S)
        # registrations' port sends /waiting-rooms/ to the same processes: the same bound counts it
        assert_refused_by_the_edge(fetch(intake_url + place, "PUT"), "waiting-room-busy", ROOM_RETRY_S)
        assert room.count() == ROOM_BOUND, "no refused request reached the room's processes"
        # the probes pass whatever the bound (a refused /readyz would take the pod out of its Service)
        assert fetch(room_url + "/readyz")[0] == 200
        # a poll is counted apart: the joins filling their bound do not refuse it
        poll = hold(pool, room_url + place, "GET", 1, room)

        room.release.set()
        assert [future.result()[0] for future in held + poll] == [200] * (ROOM_BOUND + 1)
    assert fetch(room_url + place, "PUT")[0] == 200  # the bound freed


def test_beyond_the_polls_bound_the_edge_refuses_polls_sooner_and_joins_pass(edge):
    intake_url, room_url, upstreams = edge
    room = upstreams["room"]
    place = f"/waiting-rooms/{uuid.uuid4()}/place"
    with ThreadPoolExecutor(POLLS_BOUND + 4) as pool:
        held = hold(pool, room_url + place, "GET", POLLS_BOUND, room)

        assert_refused_by_the_edge(fetch(room_url + place, "GET"), "waiting-room-busy", ROOM_POLL_RETRY_S)
        assert_refused_by_the_edge(fetch(intake_url + place, "GET"), "waiting-room-busy", ROOM_POLL_RETRY_S)
        assert room.count() == POLLS_BOUND
        join = hold(pool, room_url + place, "PUT", 1, room)
        other = hold(pool, room_url + place.removesuffix("/place"), "GET", 1, room)  # not a poll: the joins' bound

        room.release.set()
        assert [future.result()[0] for future in held + join + other] == [200] * (POLLS_BOUND + 2)


def test_a_refused_poll_comes_back_no_sooner_than_the_backoff_the_room_gave_it(edge):
    """The room's answer says how long a family's next poll waits should it be refused (Poll-Backoff); the page
    sends it back with that poll, and the edge's refusal follows it: no sooner, at most a fifth (a second) later,
    drawn per refusal. Capped at the room's longest interval; anything but plain digits: 2-5 s, as before."""
    intake_url, room_url, upstreams = edge
    place = f"/waiting-rooms/{uuid.uuid4()}/place"
    with ThreadPoolExecutor(POLLS_BOUND + ROOM_BOUND) as pool:
        held = hold(pool, room_url + place, "GET", POLLS_BOUND, upstreams["room"])

        far = [fetch(room_url + place, "GET", headers={POLL_BACKOFF: "48"}) for _ in range(40)]
        for answer in far:
            assert_refused_by_the_edge(answer, "waiting-room-busy", (48, 48 + poll_backoff_jitter(48)))
        assert len({int(answer[1]["Retry-After"]) for answer in far}) >= 3, "drawn per refusal"
        assert_refused_by_the_edge(fetch(intake_url + place, "GET", headers={POLL_BACKOFF: "2"}),
                                   "waiting-room-busy", (2, 3))
        longest = round(PollBudget().longest_seconds)
        assert_refused_by_the_edge(fetch(room_url + place, "GET", headers={POLL_BACKOFF: "86400"}),
                                   "waiting-room-busy", (longest, longest + poll_backoff_jitter(longest)))
        for sent in ("0", "007", "-5", "5s", "1e3", " ", "4,4"):
            assert_refused_by_the_edge(fetch(room_url + place, "GET", headers={POLL_BACKOFF: sent}),
                                       "waiting-room-busy", ROOM_POLL_RETRY_S)
        # a join is not a poll: its own span whatever it sends
        hold(pool, room_url + place, "PUT", ROOM_BOUND, upstreams["room"])
        assert_refused_by_the_edge(fetch(room_url + place, "PUT", headers={POLL_BACKOFF: "48"}),
                                   "waiting-room-busy", ROOM_RETRY_S)
        assert upstreams["room"].count() == POLLS_BOUND + ROOM_BOUND
        upstreams["room"].release.set()
        assert [future.result()[0] for future in held] == [200] * POLLS_BOUND


def test_a_join_refused_again_at_the_edge_is_told_to_wait_longer(edge):
    """The edge keeps no place for a join it refuses: it tells it when to come back in Retry-After and Join-Backoff;
    a join that sends that Join-Backoff back is refused with twice as long (`refused_join_span`), at most a minute
    and a fifth; anything but plain digits: the first span. Polls are told no Join-Backoff."""
    intake_url, room_url, upstreams = edge
    place = f"/waiting-rooms/{uuid.uuid4()}/place"
    with ThreadPoolExecutor(POLLS_BOUND + ROOM_BOUND) as pool:
        held = hold(pool, room_url + place, "PUT", ROOM_BOUND, upstreams["room"])

        first = fetch(room_url + place, "PUT")
        assert_refused_by_the_edge(first, "waiting-room-busy", ROOM_RETRY_S)
        assert first[1][JOIN_BACKOFF] == first[1]["Retry-After"]
        again = [fetch(room_url + place, "PUT", headers={JOIN_BACKOFF: "17"}) for _ in range(30)]
        for answer in again:
            assert_refused_by_the_edge(answer, "waiting-room-busy", refused_join_span(17))
            assert answer[1][JOIN_BACKOFF] == answer[1]["Retry-After"]
        assert len({answer[1]["Retry-After"] for answer in again}) >= 3, "drawn per refusal"
        assert refused_join_span(17)[0] == 34
        longest = JoinBackoff().longest_seconds
        assert_refused_by_the_edge(fetch(intake_url + place, "PUT", headers={JOIN_BACKOFF: "86400"}),
                                   "waiting-room-busy", refused_join_span(longest))
        for sent in ("0", "017", "-5", "5s", " ", "4,4"):
            assert_refused_by_the_edge(fetch(room_url + place, "PUT", headers={JOIN_BACKOFF: sent}),
                                       "waiting-room-busy", ROOM_RETRY_S)
        # a poll: its own bound and span, whatever it sends, and no Join-Backoff told
        hold(pool, room_url + place, "GET", POLLS_BOUND, upstreams["room"])
        poll = fetch(room_url + place, "GET", headers={JOIN_BACKOFF: "17"})
        assert_refused_by_the_edge(poll, "waiting-room-busy", ROOM_POLL_RETRY_S)
        assert JOIN_BACKOFF not in poll[1]
        assert upstreams["room"].count() == POLLS_BOUND + ROOM_BOUND
        upstreams["room"].release.set()
        assert [future.result()[0] for future in held] == [200] * ROOM_BOUND


def test_the_edges_retry_after_is_drawn_per_refusal(edge):
    _, room_url, upstreams = edge
    place = f"/waiting-rooms/{uuid.uuid4()}/place"
    with ThreadPoolExecutor(ROOM_BOUND) as pool:
        hold(pool, room_url + place, "PUT", ROOM_BOUND, upstreams["room"])
        waits = {int(fetch(room_url + place, "PUT")[1]["Retry-After"]) for _ in range(60)}
        upstreams["room"].release.set()
    first, last = ROOM_RETRY_S
    assert len(waits) >= 3 and waits <= set(range(first, last + 1)), waits  # 60 draws: a few distinct at least


def test_beyond_intakes_bound_submissions_are_refused_at_the_edge_and_other_requests_pass(edge):
    intake_url, _, upstreams = edge
    intake = upstreams["intake"]
    with ThreadPoolExecutor(INTAKE_BOUND + 4) as pool:
        held = hold(pool, intake_url + "/applications", "POST", INTAKE_BOUND, intake)

        assert_refused_by_the_edge(fetch(intake_url + "/applications", "POST", b"{}"), "intake-saturated", SUBMISSION_RETRY_S)
        assert intake.count() == INTAKE_BOUND
        # only submissions are bounded: a family's list of its applications still reaches intake
        listing = pool.submit(fetch, intake_url + "/applications", "GET")
        wait_until(lambda: intake.count() == INTAKE_BOUND + 1, timeout=20, interval=0.05, what="the GET received")

        intake.release.set()
        assert listing.result()[0] == 200
        assert [future.result()[0] for future in held] == [200] * INTAKE_BOUND


def test_the_services_own_503_passes_unchanged(edge):
    intake_url, room_url, upstreams = edge
    for url in (room_url + "/own-503", intake_url + "/waiting-rooms/own-503"):
        status, headers, body = fetch(url, "PUT")
        assert status == 503 and json.loads(body) == OWN_503
        assert headers["Retry-After"] == "7" and SHED_BY not in headers
    assert upstreams["room"].count() == 2


def test_the_edge_keeps_a_connection_for_the_next_request_after_a_refusal(edge):
    """A refusal does not close the family's connection (a keep-alive client asks again on it)."""
    _, room_url, upstreams = edge
    host, port = room_url.removeprefix("http://").split(":")
    place = f"/waiting-rooms/{uuid.uuid4()}/place"
    with ThreadPoolExecutor(ROOM_BOUND) as pool:
        hold(pool, room_url + place, "PUT", ROOM_BOUND, upstreams["room"])
        with socket.create_connection((host, int(port)), timeout=10) as connection:
            request = f"PUT {place} HTTP/1.1\r\nHost: guichet\r\nContent-Length: 0\r\n\r\n".encode()
            connection.sendall(request + request)
            answers = b""
            while answers.count(b"HTTP/1.1 503") < 2:
                chunk = connection.recv(65536)
                assert chunk, answers
                answers += chunk
        upstreams["room"].release.set()
