"""Intake under an open-loop crowd (a fixed arrival rate, whatever the answers' pace), with and without load
shedding: `python -m bench.shedding`.

    python -m bench.shedding --rate 300 --seconds 30 --runs gthread:2x4@0 gthread:2x16@0 gthread:2x16@4

Starts Kafka, PostgreSQL and Redis of its own (bench/stack.py, in .local/bench-shedding/), the registrations and
campaigns workers, publishes an open copy of Paris Sport Vacances, saves one household per request and mints the
tokens; then, for each run (a gunicorn configuration @ INTAKE_MAX_IN_FLIGHT), starts registrations under
deploy/gunicorn.conf.py and has vegeta (`go install github.com/tsenart/vegeta/v12@v12.13.0`) send `--rate`
submissions a second for `--seconds`, each a distinct family with its own key, as a crowd at an opening does.
Prints per run the answers by status, the 202s' and the 503s' latency percentiles, and the service's CPU per
answer. A shed request is not retried here (a family would, after Retry-After). Never pass/fail.
"""
from __future__ import annotations

import argparse
import base64
import json
import os
import random
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

from bench.cpu import CpuMeter
from bench.scenario import offer_ages, open_intake_campaign, ready_parents
from bench.stack import BenchStack, GunicornConfig
from bench.submissions import make_parents, submission_body
from bench.wrk import percentile
from deploy.local.servers import REPO

FOLDER = REPO / ".local" / "bench-shedding"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=300, help="submissions a second (default 300)")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--runs", nargs="+", default=["gthread:2x4@0", "gthread:2x16@4"],
                        help="gunicorn configuration @ INTAKE_MAX_IN_FLIGHT (0: no bound), e.g. gthread:2x16@4")
    parser.add_argument("--vegeta", default=shutil.which("vegeta") or str(Path.home() / "go" / "bin" / "vegeta"))
    parser.add_argument("--folder", type=Path, default=FOLDER)
    parser.add_argument("--seed", type=int, default=15)
    return parser.parse_args(argv)


def write_targets(path: Path, url: str, campaign_id: str, parents, tokens: list[str], label: str) -> Path:
    with path.open("w") as targets:
        for number, (parent, token) in enumerate(zip(parents, tokens, strict=True)):
            body = submission_body(campaign_id, parent).encode()
            targets.write(json.dumps({
                "method": "POST", "url": f"{url}/applications", "body": base64.b64encode(body).decode(),
                "header": {"Authorization": [f"Bearer {token}"], "Content-Type": ["application/json"],
                           "Idempotency-Key": [f"{label}-{number}"]}}) + "\n")
    return path


def attack(vegeta: str, targets: Path, rate: int, seconds: float, out: Path, max_workers: int = 2000) -> list[dict]:
    """Every answer as vegeta encodes it: code, timestamp, latency (ns), body (base64). `rate` 0 is a closed
    loop: `max_workers` connections, each sending its next request as soon as the last is answered."""
    pace = f"-rate={rate}/s" if rate else "-rate=0"
    attack = subprocess.Popen([vegeta, "attack", "-format=json", f"-targets={targets}", pace,
                               f"-duration={seconds}s", "-timeout=60s", f"-max-workers={max_workers}",
                               *([f"-workers={max_workers}"] if not rate else []), "-keepalive=true"],
                              stdout=subprocess.PIPE)
    with out.open("wb") as encoded:
        subprocess.run([vegeta, "encode", "-to=json"], stdin=attack.stdout, stdout=encoded, check=True)
    attack.wait()
    return [json.loads(line) for line in out.read_text().splitlines() if line.strip()]


def summary(label: str, results: list[dict], cpu_s: float) -> str:
    statuses = Counter(r["code"] for r in results)
    by_code: dict[int, list[float]] = {}
    for r in results:
        by_code.setdefault(r["code"], []).append(r["latency"] / 1e6)

    def pct(code: int, q: float) -> str:
        value = percentile(by_code.get(code, []), q)
        return "–" if value is None else f"{value:.0f}"

    answered = sum(n for code, n in statuses.items() if code)
    return (f"| {label} | {len(results):,} | {statuses.get(202, 0):,} | {statuses.get(503, 0):,} | "
            f"{sum(n for code, n in statuses.items() if code not in (202, 503)):,} | {pct(202, 50)} | {pct(202, 99)} | "
            f"{pct(503, 50)} | {pct(503, 99)} | {cpu_s / answered * 1000 if answered else 0:.1f} |")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    runs = [(GunicornConfig.parse(config), int(bound)) for config, _, bound in (run.partition("@") for run in args.runs)]
    stack = BenchStack(args.folder)
    runtime = None
    rows = []
    try:
        env = stack.start()
        from shared.config import Settings
        from shared.runtime import Runtime

        settings = Settings.from_env("bench", env)
        runtime = Runtime(settings)
        campaign = open_intake_campaign(stack, runtime, "shedding")
        per_run = args.rate * args.seconds
        everyone = make_parents(per_run * len(runs), offer_ages(campaign), campaign.reference_date,
                                campaign.max_choices, random.Random(args.seed))
        tokens = ready_parents(runtime, settings, everyone)
        for number, (config, bound) in enumerate(runs):
            label = f"{config.label}, INTAKE_MAX_IN_FLIGHT={bound or 'none'}"
            url = stack.start_service("registrations", config, {"INTAKE_MAX_IN_FLIGHT": str(bound)})
            chunk = slice(number * per_run, (number + 1) * per_run)
            targets = write_targets(args.folder / f"targets-{number}.jsonl", url, str(campaign.id),
                                    everyone[chunk], tokens[chunk], f"run{number}")
            meter = CpuMeter(stack.process_roots)
            meter.start()
            started = time.monotonic()
            results = attack(args.vegeta, targets, args.rate, args.seconds, args.folder / f"results-{number}.jsonl")
            service_cpu_s = meter.stop().get("registrations", 0.0) * (time.monotonic() - started)
            stack.stop_process("registrations")
            rows.append(summary(label, results, service_cpu_s))
            print(rows[-1], flush=True)
        print(f"\n`python -m bench.shedding {' '.join(argv if argv is not None else sys.argv[1:])}` on "
              f"{len(os.sched_getaffinity(0))} cores, load average (1 min) after: {os.getloadavg()[0]:.1f}\n")
        print("| run | sent | 202 | 503 | other | 202 p50 ms | 202 p99 ms | 503 p50 ms | 503 p99 ms | "
              "service CPU ms/answer |")
        print("|---|---|---|---|---|---|---|---|---|---|")
        print("\n".join(rows))
    finally:
        if runtime is not None:
            runtime.close()
        stack.close()


if __name__ == "__main__":
    main()
