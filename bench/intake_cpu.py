"""CPU time of intake per request: `python -m bench.intake_cpu`.

Starts an isolated Kafka, PostgreSQL and Redis (`BenchStack` in `.local/intake-cpu/`, not the
surge bench's folder), the registrations and campaigns workers, publishes an open copy of Paris
Sport Vacances as `make bench` does, saves the households and mints the tokens, then sends the
surge bench's request mix (each parent once, 10 % retries with the same key, 5 % double clicks)
to `POST /applications` through the registrations app *in this process* (Flask's test client),
against the real servers.

It reports this process's CPU time (`time.process_time`: every thread, the Kafka producer's
sender included) per request, not wall-clock time: the machine is shared and its load varies;
CPU time varies much less. The same loop on `bench/hello_app.py` gives the floor the test client
and Flask cost by themselves. Several rounds, each with parents of its own; the least CPU per
request is the figure least disturbed by other work (a noisy neighbour only ever adds).

`--profile FILE` runs one more round under cProfile (this thread's CPU time) and writes its stats
(`python -m pstats FILE`).
"""
from __future__ import annotations

import argparse
import cProfile
import os
import random
import statistics
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.scenario import offer_ages, open_intake_campaign, ready_parents
from bench.stack import BenchStack
from bench.submissions import make_parents, mix, plan_attempts, rekey, submission_body
from deploy.local.servers import REPO

FOLDER = REPO / ".local" / "intake-cpu"


@dataclass(frozen=True)
class Request:
    token: str
    key: str
    body: str


@dataclass(frozen=True)
class Round:
    requests: int
    cpu_s: float
    thread_cpu_s: float  # the requests' own thread; the rest is the Kafka producer's sender and others
    wall_s: float
    statuses: dict[int, int]

    @property
    def cpu_ms(self) -> float:
        return self.cpu_s / self.requests * 1000

    @property
    def thread_cpu_ms(self) -> float:
        return self.thread_cpu_s / self.requests * 1000


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parents", type=int, default=1000, help="parents per round (default 1000)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=200, help="parents of the warm-up round, not counted")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--profile", type=Path, help="profile one more round, write its pstats here")
    parser.add_argument("--folder", type=Path, default=FOLDER)
    return parser.parse_args(argv)


def run_round(client, requests: list[Request]) -> Round:
    statuses: dict[int, int] = {}
    wall, cpu, thread_cpu = time.perf_counter(), time.process_time(), time.thread_time()
    for request in requests:
        response = client.post("/applications", data=request.body, content_type="application/json",
                               headers={"Authorization": f"Bearer {request.token}", "Idempotency-Key": request.key})
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    return Round(len(requests), time.process_time() - cpu, time.thread_time() - thread_cpu,
                 time.perf_counter() - wall, statuses)


def summary(name: str, rounds: list[Round]) -> str:
    cpu = [r.cpu_ms for r in rounds]
    statuses: dict[int, int] = {}
    for r in rounds:
        for status, count in r.statuses.items():
            statuses[status] = statuses.get(status, 0) + count
    return (f"{name}: CPU ms/request min {min(cpu):.2f}, median {statistics.median(cpu):.2f} "
            f"(rounds: {', '.join(f'{c:.2f}' for c in cpu)}), of which the requests' thread "
            f"{statistics.median(r.thread_cpu_ms for r in rounds):.2f}; wall ms/request "
            f"{statistics.median(r.wall_s / r.requests * 1000 for r in rounds):.2f}; statuses {dict(sorted(statuses.items()))}")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    load_before = os.getloadavg()[0]
    stack = BenchStack(args.folder)
    runtime = None
    try:
        env = stack.start()
        from services.registrations.app import create_app
        from services.registrations.settings import RegistrationsSettings
        from shared.runtime import Runtime

        settings = RegistrationsSettings.from_env("registrations", env)
        runtime = Runtime(settings)
        campaign = open_intake_campaign(stack, runtime, "intake-cpu")

        rng = random.Random(args.seed)
        sizes = [args.warmup] + [args.parents] * (args.rounds + (1 if args.profile else 0))
        everyone = make_parents(sum(sizes), offer_ages(campaign), campaign.reference_date, campaign.max_choices, rng)
        tokens = ready_parents(runtime, settings, everyone)

        batches: list[list[Request]] = []
        start = 0
        for number, size in enumerate(sizes):
            parents = everyone[start:start + size]
            plan = rekey(plan_attempts(size, rng) if number else plan_attempts(size, rng, 0, 0), f"round-{number}")
            batches.append([Request(tokens[start + a.parent], a.key,
                                    submission_body(str(campaign.id), parents[a.parent])) for a in plan])
            if number == 1:
                print(f"mix per round: {dict(mix(plan))}")
            start += size

        app = create_app(settings)
        client = app.test_client()
        run_round(client, batches[0])
        measured = [run_round(client, batch) for batch in batches[1:1 + args.rounds]]
        if args.profile:
            # This thread's CPU only: a wall-clock profile would charge the wait for the broker to `get`.
            profiler = cProfile.Profile(time.thread_time)
            profiler.enable()
            run_round(client, batches[-1])
            profiler.disable()
            profiler.dump_stats(args.profile)

        from bench.hello_app import app as hello
        hello_client = hello.test_client()
        run_round(hello_client, batches[0])
        floor = [run_round(hello_client, batch) for batch in batches[1:1 + args.rounds]]
        app.extensions["guichet.runtime"].close()

        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO, capture_output=True,
                                text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "services/registrations", "shared"], cwd=REPO,
                               capture_output=True, text=True).stdout.strip()
        print(f"`python -m bench.intake_cpu {' '.join(argv if argv is not None else sys.argv[1:])}` "
              f"on {len(os.sched_getaffinity(0))} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit {commit}"
              f"{' (with uncommitted changes)' if dirty else ''}; load average (1 min) before: {load_before:.2f}, "
              f"after: {os.getloadavg()[0]:.2f}")
        print(summary("intake", measured))
        print(summary("hello (test client + Flask floor)", floor))
    finally:
        if runtime is not None:
            runtime.close()
        stack.close()


if __name__ == "__main__":
    main()
