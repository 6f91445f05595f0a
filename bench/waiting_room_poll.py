"""The cost of one poll of a family's place in a waiting room (`GET /waiting-rooms/{campaign}/place`: bearer
check, one Lua script, the pace) next to hello-world's `GET /healthz` and registrations' own `GET /healthz` (the
service's middleware: request ids, JSON logs, metrics), same gunicorn settings, same run.

    python -m bench.waiting_room_poll                       # 2,000 families, gthread 2×16 (as `make run`), 15 s each
    python -m bench.waiting_room_poll --families 500 --seconds 10 --connections 16 --write

`make bench` measures it within `python -m bench.opening` (same stack, same run as the opening through the room).

Starts Kafka, PostgreSQL and Redis of its own (bench/stack.py, in .local/bench-waiting-room/), registrations
and bench/hello_app.py under deploy/gunicorn.conf.py, puts a campaign with a waiting room into registrations'
campaign directory (Redis), has every family take its place, then drives each endpoint for the same time from
`--connections` keep-alive connections (each poll by a family drawn at random) and prints, for each, the
responses per second, p50/p99 and the service's CPU per request (from /proc: the cost, whatever the client).
Prints a Markdown table (`--write`: replaces the section "Waiting room poll" of docs/PERFORMANCE.md); never
pass/fail. Everything it started is stopped at the end.
"""
from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import sys
import threading
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import redis

from bench.cpu import CpuMeter
from bench.report import ms, replace_sections, table
from bench.run import cpu_model, git_describe
from bench.scenario import mint_parent_tokens
from bench.stack import BenchStack, GunicornConfig
from deploy.local.servers import REPO
from shared.config import Settings

SECTION = "Waiting room poll"
JOINS_MINTED = 12_000  # more than a join row takes on this machine (a few hundred a second for its seconds)
PERFORMANCE = REPO / "docs" / "PERFORMANCE.md"


def room_campaign() -> dict:
    now = datetime.now(UTC)
    return {"campaign_id": str(uuid.uuid4()), "version": 1, "title": "Mercredis — bench", "kind": "centre_loisirs",
            "status": "open", "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "closes_at": (now + timedelta(hours=2)).isoformat(), "reference_date": "2026-09-01", "max_choices": 1,
            "policy": {"mode": "fcfs"}, "offers": [],
            "waiting_room": {"enabled": True, "opens_before_minutes": 30, "admissions_per_minute": 60}}


def drive(base_url: str, paths_and_headers, seconds: float, connections: int,
          method: str = "GET") -> tuple[int, list[float], int]:
    """Closed loop from `connections` keep-alive connections for `seconds`: (answers, latencies s, non-2xx)."""
    target = urlsplit(base_url)
    deadline = time.monotonic() + seconds
    latencies: list[float] = []
    failures = [0]
    lock = threading.Lock()

    def run() -> None:
        connection = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
        mine, bad = [], 0
        while time.monotonic() < deadline:
            request = paths_and_headers()
            if request is None:  # nothing left to send (the joins' new families)
                break
            path, headers = request
            started = time.perf_counter()
            connection.request(method, path, headers=headers)
            response = connection.getresponse()
            response.read()
            mine.append(time.perf_counter() - started)
            bad += response.status >= 300
        connection.close()
        with lock:
            latencies.extend(mine)
            failures[0] += bad

    threads = [threading.Thread(target=run) for _ in range(connections)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return len(latencies), sorted(latencies), failures[0]


def quantile(values: list[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] * 1000


@dataclass(frozen=True)
class PollRow:
    endpoint: str
    answers: int
    per_second: float
    p50_ms: float
    p99_ms: float
    cpu_ms: float  # the service's CPU per answer
    failures: int


@dataclass(frozen=True)
class PollFigures:
    config: GunicornConfig
    families: int
    seconds: float
    connections: int
    rows: list[PollRow]

    @property
    def poll_over_hello(self) -> float:
        return self.rows[2].cpu_ms / max(self.rows[0].cpu_ms, 1e-9)

    @property
    def join_over_hello(self) -> float:
        return self.rows[3].cpu_ms / max(self.rows[0].cpu_ms, 1e-9)

    @property
    def poll_over_healthz(self) -> float:
        return self.rows[2].cpu_ms / max(self.rows[1].cpu_ms, 1e-9)

    def table(self) -> str:
        return table(["endpoint", "answers", "answers/s", "p50 ms", "p99 ms", "service CPU ms/answer", "non-2xx"],
                     [(row.endpoint, row.answers, row.per_second, ms(row.p50_ms), ms(row.p99_ms), f"{row.cpu_ms:.2f}",
                       row.failures) for row in self.rows])


def measure(stack: BenchStack, env: dict[str, str], settings: Settings, config: GunicornConfig, registrations: str,
            families: int, seconds: float, connections: int) -> PollFigures:
    """On `stack`, whose registrations answers at `registrations`: a room of `families`, then hello-world's and
    registrations' /healthz and the poll, each driven for `seconds`; hello-world is stopped afterwards."""
    campaign = room_campaign()
    client = redis.Redis.from_url(env["REDIS_URL"])
    client.set(f"reg:campaign:{campaign['campaign_id']}", json.dumps({"snapshot": campaign, "closed_at": None}))
    hello = stack.start_hello(config)
    tokens = mint_parent_tokens(settings, [f"bench-room-family-{n}" for n in range(families)])
    place = f"/waiting-rooms/{campaign['campaign_id']}/place"
    target = urlsplit(registrations)
    joining = http.client.HTTPConnection(target.hostname, target.port, timeout=30)
    for token in tokens:
        joining.request("PUT", place, headers={"Authorization": f"Bearer {token}"})
        answer = joining.getresponse()
        answer.read()
        assert answer.status == 200, answer.status
    joining.close()

    def poll():
        return place, {"Authorization": f"Bearer {random.choice(tokens)}"}

    newcomers = iter(mint_parent_tokens(settings, [f"bench-room-newcomer-{n}" for n in range(JOINS_MINTED)]))

    def join():  # a family arriving: a token this process never verified, a new place
        token = next(newcomers, None)
        return None if token is None else (place, {"Authorization": f"Bearer {token}"})

    def healthz():
        return "/healthz", {}

    rows = []
    try:
        for name, url, request, method in (
                ("hello-world `GET /healthz`", hello, healthz, "GET"),
                ("registrations `GET /healthz`", registrations, healthz, "GET"),
                ("waiting room poll `GET /waiting-rooms/{campaign}/place`", registrations, poll, "GET"),
                ("waiting room join `PUT /waiting-rooms/{campaign}/place`", registrations, join, "PUT")):
            meter = CpuMeter(stack.process_roots)
            meter.start()
            started = time.monotonic()
            answers, latencies, failures = drive(url, request, seconds, connections, method)
            elapsed = time.monotonic() - started
            cores = meter.stop()
            service = "hello" if url == hello else "registrations"
            cpu_ms = cores.get(service, 0.0) * elapsed * 1000 / max(answers, 1)
            rows.append(PollRow(name, answers, answers / elapsed, quantile(latencies, 0.5), quantile(latencies, 0.99),
                                cpu_ms, failures))
    finally:
        stack.stop_process("hello")
    return PollFigures(config, families, seconds, connections, rows)


def section(figures: PollFigures, preface: str) -> str:
    return f"""{preface}

Registrations and `bench/hello_app.py` under `deploy/gunicorn.conf.py`, {figures.config.label}, on the bench's own
Kafka, PostgreSQL and Redis; {figures.families:,} families in one campaign's room (admitting 60 a minute, so they
wait); {figures.connections} keep-alive connections from a Python driver on the same machine, closed loop,
{figures.seconds:.0f} s per endpoint, one after the other; each poll by a family drawn at random, each join by a
new family (a token the service has not verified yet). CPU from /proc,
per process tree: the cost, whatever the client.

{figures.table()}

One poll costs **{figures.poll_over_hello:.1f}×** hello-world's CPU ({figures.poll_over_healthz:.1f}× the service's
own `/healthz`, which goes through Flask: request ids, hooks, metrics); one join (a token never seen by the
process, a new place) **{figures.join_over_hello:.1f}×**. Both are answered before Flask
(`services/registrations/web/parents/waiting_room_fast.py`): the bearer check by the service's verifier (cached
per token), one Lua script (a join: take the place and read it in one call; a poll: release places at the pace,
read the rank), the JSON written directly. Each process reads the room's pace once per 5 s window. Before
(2026-12-04 19:30, the poll through Flask and its schema): 1.15 ms a poll, 2.0× hello-world. Issue 15
asks for no more than about twice hello-world."""


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=4,
                        help="fewer than the room's in-flight bound per process: the cost of answers, not refusals")
    parser.add_argument("--config", default="gthread:2x16")
    parser.add_argument("--in-flight", type=int, default=8, help="INTAKE_MAX_IN_FLIGHT (as `make run`)")
    parser.add_argument("--write", action="store_true", help=f"replace the section '{SECTION}' of {PERFORMANCE}")
    options = parser.parse_args(argv)
    config = GunicornConfig.parse(options.config)
    command = "python -m bench.waiting_room_poll " + " ".join(argv if argv is not None else sys.argv[1:])
    stack = BenchStack(REPO / ".local" / "bench-waiting-room")
    try:
        load_before = os.getloadavg()[0]
        env = stack.start()
        settings = Settings.from_env("bench", env)
        registrations = stack.start_service("registrations", config, {"INTAKE_MAX_IN_FLIGHT": str(options.in_flight)})
        figures = measure(stack, env, settings, config, registrations, options.families, options.seconds,
                          options.connections)
        text = section(figures, run_preface(command.strip(), load_before))
        print(text)
        if options.write:
            PERFORMANCE.write_text(replace_sections(PERFORMANCE.read_text(), {SECTION: text}))
            print(f"wrote the section '{SECTION}' of {PERFORMANCE}")
    finally:
        stack.close()


def run_preface(command: str, load_before: float) -> str:
    """Command, machine, date, commit and load: every figure of a section is read against these."""
    return (f"`{command}` on {len(os.sched_getaffinity(0))} cores ({cpu_model()}), {datetime.now(UTC):%Y-%m-%d %H:%M} "
            f"UTC, commit `{git_describe()}`; load average (1 min) {load_before:.1f} before the run, "
            f"{os.getloadavg()[0]:.1f} after. The machine is shared with other engineers' work: figures are "
            "indicative, compare those of one run.")


if __name__ == "__main__":
    main()
