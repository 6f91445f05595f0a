"""Intake under an open-loop crowd (a fixed arrival rate, whatever the answers' pace), with and without load
shedding: `python -m bench.shedding`.

    python -m bench.shedding --rate 300 --seconds 30 --runs gthread:2x4@0 gthread:2x16@0 gthread:2x16@4
    python -m bench.shedding --half-of .local/bench/results.json --write    # what `make bench` runs

With `--half-of`, the rate is half (`--fraction`) of the accepted submissions a second that `python -m bench.run`
just measured with gthread 2 × 8 (its results.json), and the runs default to that configuration as bench.run
runs it (no in-flight bound) and as `make run` and Kubernetes deploy it (16 threads, 8 in flight): issue 19's
"open loop at half of the measured capacity: 202 p99 <= 150 ms". `--write` replaces the section "Open loop at half
of the capacity (issue 19)" of docs/PERFORMANCE.md.

Starts Kafka, PostgreSQL and Redis of its own (bench/stack.py, in .local/bench-shedding/), the registrations and
campaigns workers, publishes an open copy of Paris Sport Vacances, saves one household per request and mints the
tokens; then, for each run (a gunicorn configuration @ INTAKE_MAX_IN_FLIGHT), starts registrations under
deploy/gunicorn.conf.py and has vegeta (`go install github.com/tsenart/vegeta/v12@v12.13.0`) send `--rate`
submissions a second for `--seconds`, each a distinct family with its own key, as a crowd at an opening does
(each run to a campaign of its own). Prints per run the answers by status, the 202s' and the 503s' latency
percentiles, the service's CPU per answer, the whole stack's CPU per 202 (registrations, its worker, Kafka,
PostgreSQL, Redis, until the ledger holds the run's 202s) and the 202 -> ledger lag. A shed request is not
retried here (a family would, after Retry-After). Never pass/fail.
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
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from bench.cpu import CpuMeter
from bench.report import ms, replace_sections, table
from bench.run import git_describe
from bench.scenario import (
    LedgerStats,
    ledger_stats,
    offer_ages,
    open_intake_campaign,
    publish_intake_campaign,
    ready_parents,
    wait_for_ledger,
    wait_until_registrations_knows,
)
from bench.stack import BenchStack, GunicornConfig
from bench.submissions import OfferAges, make_parents, submission_body
from bench.wrk import percentile
from deploy.local.servers import REPO

FOLDER = REPO / ".local" / "bench-shedding"
PERFORMANCE_MD = REPO / "docs" / "PERFORMANCE.md"
SECTION = "Open loop at half of the capacity (issue 19)"
# The configuration whose capacity bench.run measures first, as bench.run runs it (no bound), then as `make run`
# and Kubernetes deploy registrations (deploy/local/run.py: 16 threads, 8 submissions in flight).
CAPACITY_CONFIG = "gthread:2x8"
HALF_OF_CAPACITY_RUNS = ["gthread:2x8@0", "gthread:2x16@8"]
# The processes a 202 costs, as bench.run's "stack CPU ms/202" counts them.
STACK = ("registrations", "registrations-worker", "kafka", "postgres", "redis")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=int, default=300, help="submissions a second (default 300)")
    parser.add_argument("--half-of", type=Path, metavar="RESULTS_JSON",
                        help=f"bench.run's results.json: the rate is --fraction of its {CAPACITY_CONFIG} accepted/s "
                             "(replaces --rate)")
    parser.add_argument("--fraction", type=float, default=0.5, help="of the capacity, with --half-of (default 0.5)")
    parser.add_argument("--seconds", type=int, default=30)
    parser.add_argument("--warmup-seconds", type=int, default=5,
                        help="the same rate to another campaign before each run, untimed (default 5; 0: none)")
    parser.add_argument("--runs", nargs="+",
                        help="gunicorn configuration @ INTAKE_MAX_IN_FLIGHT (0: no bound), e.g. gthread:2x16@4, "
                             "optionally with environment variables for that run's registrations after commas "
                             "(gthread:2x8@0,KAFKA_LINGER_MS=2) "
                             f"(default gthread:2x4@0 gthread:2x16@4; with --half-of {' '.join(HALF_OF_CAPACITY_RUNS)})")
    parser.add_argument("--threads-report", action="store_true",
                        help="per run, where registrations' CPU went by thread (gunicorn's main loop, the request "
                             "threads, kafka-python's sender), user and system time, context switches per answer")
    parser.add_argument("--vegeta", default=shutil.which("vegeta") or str(Path.home() / "go" / "bin" / "vegeta"))
    parser.add_argument("--folder", type=Path, default=FOLDER)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--write", action="store_true", help=f"replace \"{SECTION}\" in docs/PERFORMANCE.md")
    args = parser.parse_args(argv)
    if args.write and not args.half_of:
        parser.error("--write records the open loop at half of the capacity: give --half-of")
    if args.runs is None:
        args.runs = HALF_OF_CAPACITY_RUNS if args.half_of else ["gthread:2x4@0", "gthread:2x16@4"]
    return args


def parse_run(text: str) -> tuple[GunicornConfig, int, dict[str, str]]:
    """`gthread:2x8@0,GUICHET_SWITCH_INTERVAL_MS=1` → the configuration, INTAKE_MAX_IN_FLIGHT, the run's own env."""
    shape, *assignments = text.split(",")
    config, _, bound = shape.partition("@")
    return GunicornConfig.parse(config), int(bound or 0), dict(a.split("=", 1) for a in assignments)


@dataclass(frozen=True)
class ThreadTicks:
    """One thread's counters from /proc: CPU (user, system, clock ticks) and context switches."""
    user: int
    system: int
    voluntary: int
    involuntary: int
    kind: str  # "main" (gunicorn's loop), "sender" (kafka-python's), "request" (the pool's), "master"


# x86-64 numbers of the calls an idle thread waits in: the pool's threads in futex (their queue), gunicorn's main
# loop and kafka-python's sender in epoll (selectors). Read once the attack is over, when every thread is idle.
_EPOLL_CALLS = {"232", "281", "441"}


def registrations_threads(master: int) -> dict[int, ThreadTicks]:
    """Every thread of gunicorn's master and workers, by thread id; a worker's non-main thread idle in epoll is
    kafka-python's sender (the request producer's, or the outbox's if any: registrations' web process has one)."""
    found: dict[int, ThreadTicks] = {}
    workers = [master]
    children = Path(f"/proc/{master}/task/{master}/children")
    try:
        workers += [int(pid) for pid in children.read_text().split()]
    except OSError:
        pass
    for pid in workers:
        for task in Path(f"/proc/{pid}/task").glob("*"):
            try:
                stat = (task / "stat").read_text()
                status = (task / "status").read_text()
                call = (task / "syscall").read_text().split()[0]
            except (OSError, IndexError):
                continue
            fields = stat[stat.rindex(")") + 2:].split()
            switches = dict(line.split(":\t") for line in status.splitlines() if "ctxt_switches" in line)
            tid = int(task.name)
            kind = ("master" if pid == master else "main" if tid == pid else
                    "sender" if call in _EPOLL_CALLS else "request")
            found[tid] = ThreadTicks(int(fields[11]), int(fields[12]), int(switches["voluntary_ctxt_switches"]),
                                     int(switches["nonvoluntary_ctxt_switches"]), kind)
    return found


def thread_report(before: dict[int, ThreadTicks], after: dict[int, ThreadTicks], answered: int) -> dict[str, float]:
    """Per answer: CPU ms by kind of thread, user and system ms, voluntary and involuntary context switches."""
    from bench.cpu import CLOCK_TICKS

    per = {"main": 0.0, "request": 0.0, "sender": 0.0, "master": 0.0, "user": 0.0, "system": 0.0,
           "voluntary": 0.0, "involuntary": 0.0}
    if not answered:
        return per
    for tid, end in after.items():
        start = before.get(tid, ThreadTicks(0, 0, 0, 0, end.kind))
        user, system = end.user - start.user, end.system - start.system
        per[end.kind] += (user + system) / CLOCK_TICKS * 1000 / answered
        per["user"] += user / CLOCK_TICKS * 1000 / answered
        per["system"] += system / CLOCK_TICKS * 1000 / answered
        per["voluntary"] += (end.voluntary - start.voluntary) / answered
        per["involuntary"] += (end.involuntary - start.involuntary) / answered
    return per


THREADS_HEADER = ("| run | answered | CPU ms/answer | user | system | gunicorn main loop | request threads | "
                  "kafka-python sender | voluntary switches/answer | involuntary switches/answer |\n"
                  "|---|---|---|---|---|---|---|---|---|---|")


def threads_line(label: str, answered: int, per: dict[str, float]) -> str:
    return (f"| {label} | {answered:,} | {per['user'] + per['system']:.2f} | {per['user']:.2f} | {per['system']:.2f} | "
            f"{per['main']:.2f} | {per['request']:.2f} | {per['sender']:.2f} | {per['voluntary']:.1f} | "
            f"{per['involuntary']:.2f} |")


@dataclass(frozen=True)
class Capacity:
    """What bench.run measured for one configuration: 202s a second over its surge."""
    config: str
    accepted: int
    span_s: float
    measured_at: str  # the results file's modification time, UTC

    @property
    def per_second(self) -> float:
        return self.accepted / self.span_s


def capacity_from(results_json: Path, config: str = CAPACITY_CONFIG) -> Capacity:
    """`config`'s capacity in bench.run's results.json (a list of configurations, each with its intake's
    `accepted` and `span_s`: first request to last answer)."""
    label = GunicornConfig.parse(config).label
    for result in json.loads(results_json.read_text()):
        if result["config"] == label:
            stamp = datetime.fromtimestamp(results_json.stat().st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
            return Capacity(label, int(result["intake"]["accepted"]), float(result["intake"]["span_s"]), stamp)
    raise ValueError(f"{results_json} has no run of {label}: run `python -m bench.run` with it first")


def write_targets(path: Path, url: str, campaign_id: str, parents, tokens: list[str], label: str,
                  offer_ids: dict[str, str] | None = None) -> Path:
    with path.open("w") as targets:
        for number, (parent, token) in enumerate(zip(parents, tokens, strict=True)):
            body = submission_body(campaign_id, parent, offer_ids).encode()
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


@dataclass(frozen=True)
class RunResult:
    label: str
    results: list[dict]
    service_cpu_s: float  # registrations' processes during the attack
    stack_cpu_s: dict[str, float]  # each process tree's, from the attack's start until the ledger held its 202s
    stack_seconds: float  # that interval
    ledger: LedgerStats

    def statuses(self) -> Counter:
        return Counter(r["code"] for r in self.results)

    def latency_ms(self, code: int, q: float) -> float | None:
        return percentile([r["latency"] / 1e6 for r in self.results if r["code"] == code], q)

    @property
    def answered(self) -> int:
        return sum(n for code, n in self.statuses().items() if code)

    @property
    def accepted(self) -> int:
        return self.statuses().get(202, 0)

    def per_202_ms(self, *names: str) -> float | None:
        return 1000 * sum(self.stack_cpu_s.get(name, 0.0) for name in names) / self.accepted if self.accepted else None


def summary(run: RunResult) -> str:
    statuses = run.statuses()

    def pct(code: int, q: float) -> str:
        value = run.latency_ms(code, q)
        return "–" if value is None else f"{value:.0f}"

    stack = run.per_202_ms(*STACK)
    return (f"| {run.label} | {len(run.results):,} | {run.accepted:,} | {statuses.get(503, 0):,} | "
            f"{sum(n for code, n in statuses.items() if code not in (202, 503)):,} | {pct(202, 50)} | {pct(202, 99)} | "
            f"{pct(503, 50)} | {pct(503, 99)} | "
            f"{run.service_cpu_s / run.answered * 1000 if run.answered else 0:.1f} | "
            f"{'–' if stack is None else f'{stack:.2f}'} | {ms(run.ledger.lag_p99_ms)} |")


SUMMARY_HEADER = ("| run | sent | 202 | 503 | other | 202 p50 ms | 202 p99 ms | 503 p50 ms | 503 p99 ms | "
                  "service CPU ms/answer | stack CPU ms/202 | 202→ledger p99 ms |\n"
                  "|---|---|---|---|---|---|---|---|---|---|---|---|")


def half_of_capacity_section(runs: list[RunResult], capacity: Capacity, rate: int, args: argparse.Namespace,
                             command: str, load_before: float, load_after: float, commit: str) -> str:
    """The section `--write` puts in docs/PERFORMANCE.md: one row per run, then where each 202's CPU went."""
    answers = table(
        ["run", "sent", "202", "503", "other", "202 p50 ms", "202 p95 ms", "**202 p99 ms**", "503 p99 ms",
         "202→ledger p50 / p99 ms", "errors"],
        [(run.label, len(run.results), run.accepted, run.statuses().get(503, 0),
          sum(n for code, n in run.statuses().items() if code not in (0, 202, 503)),
          ms(run.latency_ms(202, 50)), ms(run.latency_ms(202, 95)), f"**{ms(run.latency_ms(202, 99))}**",
          ms(run.latency_ms(503, 99)), f"{ms(run.ledger.lag_p50_ms)} / {ms(run.ledger.lag_p99_ms)}",
          run.statuses().get(0, 0)) for run in runs])

    def per_202(run: RunResult, *names: str) -> str:
        value = run.per_202_ms(*names)
        return "–" if value is None else f"{value:.2f}"

    cpu = table(["run", *(f"{name} CPU ms/202" for name in STACK), "stack CPU ms/202", "other cores"],
                [(run.label, *(per_202(run, name) for name in STACK), f"**{per_202(run, *STACK)}**",
                  f"{run.stack_cpu_s.get('other', 0.0) / run.stack_seconds:.2f}")
                 for run in runs])
    return "\n".join([
        f"`{command}` on {len(os.sched_getaffinity(0))} cores, {datetime.now(UTC):%Y-%m-%d %H:%M} UTC, commit "
        f"`{commit}`; load average (1 min) {load_before:.2f} before, {load_after:.2f} after.",
        "",
        f"Issue 19's \"open loop at half of the measured capacity: 202 p99 ≤ 150 ms\". The capacity is what "
        f"`python -m bench.run` measured just before with {capacity.config} ({capacity.accepted:,} accepted in "
        f"{capacity.span_s:.1f} s = {capacity.per_second:.0f} a second, its results.json of {capacity.measured_at}); "
        f"vegeta sends {args.fraction:g} of it, **{rate} submissions a second** for {args.seconds} s, each a distinct "
        "family with its own key, whatever the answers' pace (bench/shedding.py), to a campaign of its own per run "
        f"(after {args.warmup_seconds} s at the same rate to another, untimed, once the ledger caught up), "
        "on a stack of the bench's own on the same machine. Runs: the configuration measured, as bench.run runs it "
        "(no in-flight bound), then as deployed (`INTAKE_MAX_IN_FLIGHT`; a shed request is a 503 not retried "
        "here). Latency from vegeta sending the request to its answer; the ledger's lag from each 202 "
        "(`submitted_at`) to its row (`recorded_at`).",
        "",
        answers,
        "",
        "CPU from /proc by process tree, from the attack's start until the ledger held the run's 202s, per 202 "
        "(`other cores`: the rest of the machine, the bench's driver and vegeta included, cores on average):",
        "",
        cpu,
    ]) + "\n"


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    command = "python -m bench.shedding " + " ".join(argv if argv is not None else sys.argv[1:])
    capacity = capacity_from(args.half_of) if args.half_of else None
    rate = max(1, round(args.fraction * capacity.per_second)) if capacity else args.rate
    runs = [parse_run(run) for run in args.runs]
    load_before = os.getloadavg()[0]
    stack = BenchStack(args.folder)
    runtime = None
    done: list[RunResult] = []
    try:
        env = stack.start()
        from shared.config import Settings
        from shared.runtime import Runtime

        settings = Settings.from_env("bench", env)
        runtime = Runtime(settings)
        template = open_intake_campaign(stack, runtime, "shedding")
        # Parents rank the template's offers by number; each run's campaign is a copy with offers of its own.
        slots = [OfferAges(str(n), a.min_age, a.max_age) for n, a in enumerate(offer_ages(template))]
        per_run, per_warmup = rate * args.seconds, rate * args.warmup_seconds
        everyone = make_parents((per_warmup + per_run) * len(runs), slots, template.reference_date,
                                template.max_choices, random.Random(args.seed))
        tokens = ready_parents(runtime, settings, everyone)
        first = 0
        threads_lines = []
        for number, (config, bound, run_env) in enumerate(runs):
            label = f"{config.label}, INTAKE_MAX_IN_FLIGHT={bound or 'none'}" + "".join(
                f", {name}={value}" for name, value in run_env.items())
            url = stack.start_service("registrations", config, {"INTAKE_MAX_IN_FLIGHT": str(bound), **run_env})
            prepared = {}
            for name, count in (("warm-up", per_warmup), ("run", per_run)):
                campaign = publish_intake_campaign(runtime, f"shedding {number} {name}")
                wait_until_registrations_knows(runtime, str(campaign.id))
                offer_ids = {str(n): a.offer_id for n, a in enumerate(offer_ages(campaign))}
                chunk = slice(first, first + count)
                first += count
                prepared[name] = campaign, write_targets(args.folder / f"targets-{number}-{name}.jsonl", url,
                                                        str(campaign.id), everyone[chunk], tokens[chunk],
                                                        f"run{number}-{name}", offer_ids)
            if per_warmup:
                # Fresh processes (gunicorn's, and the stack's on the first run) at the same rate, untimed; the
                # ledger catches up before the run.
                warm, warm_targets = prepared["warm-up"]
                warmed = attack(args.vegeta, warm_targets, rate, args.warmup_seconds,
                                args.folder / f"results-{number}-warm-up.jsonl")
                wait_for_ledger(runtime, str(warm.id), sum(1 for r in warmed if r["code"] == 202))
            campaign, targets = prepared["run"]
            master = stack.processes["registrations"].pid
            threads_before = registrations_threads(master) if args.threads_report else {}
            meter = CpuMeter(stack.process_roots)
            meter.start()
            started = time.monotonic()
            results = attack(args.vegeta, targets, rate, args.seconds, args.folder / f"results-{number}.jsonl")
            attack_s = time.monotonic() - started
            service_cpu_s = meter.stop().get("registrations", 0.0) * attack_s
            if args.threads_report:
                answered = sum(1 for r in results if r["code"])
                threads_lines.append(threads_line(label, answered, thread_report(
                    threads_before, registrations_threads(master), answered)))
                print(threads_lines[-1], flush=True)
            # The stack's CPU again from the same start, until the ledger holds every 202 of the run.
            wait_for_ledger(runtime, str(campaign.id), sum(1 for r in results if r["code"] == 202))
            elapsed = time.monotonic() - started
            stack_cpu_s = {name: cores * elapsed for name, cores in meter.stop().items()}
            stack.stop_process("registrations")
            done.append(RunResult(label, results, service_cpu_s, stack_cpu_s, elapsed,
                                  ledger_stats(runtime, str(campaign.id))))
            print(summary(done[-1]), flush=True)
        load_after = os.getloadavg()[0]
        print(f"\n`{command}` on {len(os.sched_getaffinity(0))} cores, {rate} a second"
              f"{f' ({args.fraction:g} of {capacity.per_second:.0f})' if capacity else ''}, load average (1 min) "
              f"{load_before:.1f} before, {load_after:.1f} after\n")
        print(SUMMARY_HEADER)
        print("\n".join(summary(run) for run in done))
        if threads_lines:
            print("\nRegistrations' CPU by thread, from /proc/<pid>/task (ms per answer; switches per answer):\n")
            print(THREADS_HEADER)
            print("\n".join(threads_lines))
        if capacity is not None:
            body = half_of_capacity_section(done, capacity, rate, args, command.strip(), load_before, load_after,
                                            git_describe())
            print(f"\n## {SECTION}\n\n{body}")
            if args.write:
                PERFORMANCE_MD.write_text(replace_sections(PERFORMANCE_MD.read_text(encoding="utf-8"),
                                                           {SECTION: body}), encoding="utf-8")
                print(f"written to {PERFORMANCE_MD}")
    finally:
        if runtime is not None:
            runtime.close()
        stack.close()


if __name__ == "__main__":
    main()
