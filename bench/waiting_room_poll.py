"""The cost of one poll of a family's place in a waiting room (`GET /waiting-rooms/{campaign}/place`: bearer
check, one Lua script, the pace) next to hello-world's `GET /healthz` and registrations' own `GET /healthz` (the
service's middleware: request ids, JSON logs, metrics), same gunicorn settings, same run.

    python -m bench.waiting_room_poll                       # 2,000 families, gthread 2×4, 15 s each
    python -m bench.waiting_room_poll --families 500 --seconds 10 --connections 16

Starts Kafka, PostgreSQL and Redis of its own (bench/stack.py, in .local/bench-waiting-room/), registrations
and bench/hello_app.py under deploy/gunicorn.conf.py, puts a campaign with a waiting room into registrations'
campaign directory (Redis), has every family take its place, then drives each endpoint for the same time from
`--connections` keep-alive connections (each poll by a family drawn at random) and prints, for each, the
responses per second, p50/p99 and the service's CPU per request (from /proc: the cost, whatever the client).
Prints a Markdown table; never pass/fail. Everything it started is stopped at the end.
"""
from __future__ import annotations

import argparse
import http.client
import json
import random
import threading
import time
import uuid
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

import redis

from bench.cpu import CpuMeter
from bench.scenario import mint_parent_tokens
from bench.stack import BenchStack, GunicornConfig
from deploy.local.servers import REPO
from shared.config import Settings


def room_campaign() -> dict:
    now = datetime.now(UTC)
    return {"campaign_id": str(uuid.uuid4()), "version": 1, "title": "Mercredis — bench", "kind": "centre_loisirs",
            "status": "open", "opens_at": (now - timedelta(minutes=1)).isoformat(),
            "closes_at": (now + timedelta(hours=2)).isoformat(), "reference_date": "2026-09-01", "max_choices": 1,
            "policy": {"mode": "fcfs"}, "offers": [],
            "waiting_room": {"enabled": True, "opens_before_minutes": 30, "admissions_per_minute": 60}}


def drive(base_url: str, paths_and_headers, seconds: float, connections: int) -> tuple[int, list[float], int]:
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
            path, headers = paths_and_headers()
            started = time.perf_counter()
            connection.request("GET", path, headers=headers)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--families", type=int, default=2000)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--config", default="gthread:2x4")
    options = parser.parse_args()
    config = GunicornConfig.parse(options.config)
    stack = BenchStack(REPO / ".local" / "bench-waiting-room")
    try:
        env = stack.start()
        settings = Settings.from_env("bench", env)
        campaign = room_campaign()
        client = redis.Redis.from_url(env["REDIS_URL"])
        client.set(f"reg:campaign:{campaign['campaign_id']}", json.dumps({"snapshot": campaign, "closed_at": None}))
        registrations = stack.start_service("registrations", config)
        hello = stack.start_hello(config)
        accounts = [f"bench-family-{n}" for n in range(options.families)]
        tokens = mint_parent_tokens(settings, accounts)
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

        def healthz():
            return "/healthz", {}

        rows = []
        for name, url, request in (("hello-world `GET /healthz`", hello, healthz),
                                   ("registrations `GET /healthz`", registrations, healthz),
                                   ("waiting room `GET …/place`", registrations, poll)):
            meter = CpuMeter(stack.process_roots)
            meter.start()
            started = time.monotonic()
            answers, latencies, failures = drive(url, request, options.seconds, options.connections)
            elapsed = time.monotonic() - started
            cores = meter.stop()
            service = "hello" if url == hello else "registrations"
            cpu_ms = cores.get(service, 0.0) * elapsed * 1000 / max(answers, 1)
            rows.append((name, answers, answers / elapsed, quantile(latencies, 0.5), quantile(latencies, 0.99),
                         cpu_ms, failures))
        print(f"\n{config.label}, {options.connections} connections, {options.seconds:.0f} s each, "
              f"{options.families} families in the room, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC\n")
        print("| endpoint | answers | answers/s | p50 ms | p99 ms | service CPU ms/answer | non-2xx |")
        print("|---|---|---|---|---|---|---|")
        for name, answers, rate, p50, p99, cpu_ms, failures in rows:
            print(f"| {name} | {answers:,} | {rate:,.0f} | {p50:.1f} | {p99:.1f} | {cpu_ms:.2f} | {failures} |")
        print(f"\npoll / hello-world CPU per answer: {rows[2][5] / max(rows[0][5], 1e-9):.1f}×; poll / "
              f"registrations' own /healthz: {rows[2][5] / max(rows[1][5], 1e-9):.1f}×")
    finally:
        stack.close()


if __name__ == "__main__":
    main()
