"""Intake's CPU per request under gunicorn, code variants side by side: `python -m bench.intake_gunicorn`.

    python -m bench.intake_gunicorn --variant before=/tmp/before --variant after=. --rounds 2
    python -m bench.intake_gunicorn --config gthread:4x4 --connections 1000 --parents 6000
    python -m bench.intake_gunicorn --py-spy .local/intake-gunicorn/profile   # where the CPU goes, sampled
    python -m bench.intake_gunicorn --threads-report   # registrations' CPU by thread: gunicorn, requests, Kafka

`bench.intake_cpu` measures intake through Flask's test client, one request at a time: it leaves out gunicorn, the
sockets, and what concurrent requests share (the producer's batches, the GIL). `bench.run` measures all of it, but
once per configuration and with hello-world and the listing around it. This one starts the isolated stack once
(`.local/intake-gunicorn/`, its own ports), then for each round and each variant (alternating, so that the load of
a shared machine falls on both): registrations under deploy/gunicorn.conf.py started from the variant's folder
(`gunicorn --chdir`: a copy of the tree, e.g. exported before a change), a warm-up, then a fresh crowd of parents
(the surge bench's mix: each parent once, 10 % retries with the same key, 5 % double clicks) sent by wrk. It
reports the CPU time of registrations' process tree per answered request and of the whole stack (registrations,
its worker, Kafka, PostgreSQL, Redis) per accepted application, from /proc: CPU time, not wall-clock time, is what
a shared machine disturbs least. With `--py-spy FOLDER` one more round per variant is sampled by py-spy (installed
apart: `pip install --target /tmp/pyspy py-spy`, `PY_SPY=/tmp/pyspy/bin/py-spy`), the folded stacks written there
and summarised by function.
"""
from __future__ import annotations

import argparse
import os
import random
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.cpu import CpuMeter
from bench.report import ms
from bench.scenario import (
    mint_parent_tokens,
    offer_ages,
    publish_intake_campaign,
    save_households,
    utc_stamp,
    wait_until_intake_ready,
    wait_until_registrations_knows,
)
from bench.shedding import THREADS_HEADER, registrations_threads, thread_report, threads_line
from bench.stack import BenchStack, GunicornConfig, url, wait_http
from bench.submissions import OfferAges, make_parents, plan_attempts, rekey, request_lines, write_request_file
from bench.wrk import (
    SubmissionStats,
    WrkReport,
    ensure_wrk,
    parse_wrk_output,
    read_records,
    run_submissions,
    submission_stats,
)
from deploy.local.servers import REPO

FOLDER = REPO / ".local" / "intake-gunicorn"
STACK_TREES = ("registrations", "registrations-worker", "kafka", "postgres", "redis")


@dataclass(frozen=True)
class Measure:
    variant: str
    round: int
    answered: int
    accepted: int
    span_s: float
    service_cpu_s: float
    stack_cpu_s: float
    broker_cpu_s: float
    other_cores: float
    p50_ms: float | None
    p99_ms: float | None
    by_category: dict[str, int]
    socket_errors: dict[str, int]

    @property
    def service_ms(self) -> float:
        return self.service_cpu_s / self.answered * 1000 if self.answered else float("nan")

    @property
    def stack_ms(self) -> float:
        return self.stack_cpu_s / self.accepted * 1000 if self.accepted else float("nan")

    @property
    def broker_ms(self) -> float:
        return self.broker_cpu_s / self.accepted * 1000 if self.accepted else float("nan")

    def line(self) -> str:
        return (f"| {self.variant} | {self.round} | {self.answered:,} | {self.answered / self.span_s:,.0f} | "
                f"{self.service_ms:.2f} | {self.stack_ms:.2f} | {self.broker_ms:.2f} | {ms(self.p50_ms)} | {ms(self.p99_ms)} | "
                f"{self.other_cores:.2f} | {sum(self.socket_errors.values())} | "
                f"{', '.join(f'{k} × {v:,}' for k, v in self.by_category.items())} |")


HEADER = ("| variant | round | answered | responses/s | registrations CPU ms/request | stack CPU ms/202 | "
          "Kafka broker CPU ms/202 | 202 p50 ms | 202 p99 ms | cores taken outside the stack | wrk socket errors | "
          "answers |\n|---|---|---|---|---|---|---|---|---|---|---|---|")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--variant", action="append", default=[], metavar="NAME=FOLDER",
                        help="a copy of the tree to serve registrations from (repeat; default: this tree)")
    parser.add_argument("--variant-env", action="append", default=[], metavar="NAME:VAR=VALUE",
                        help="an environment variable for one variant's registrations only (repeat)")
    parser.add_argument("--variant-config", action="append", default=[], metavar="NAME:CONFIG",
                        help="one variant's gunicorn configuration (e.g. gevent:2x1), instead of --configs")
    parser.add_argument("--variant-connections", action="append", default=[], metavar="NAME:N",
                        help="one variant's wrk connections, instead of --connections")
    parser.add_argument("--configs", type=GunicornConfig.parse, nargs="+", default=[GunicornConfig.parse("gthread:4x4")],
                        help="gunicorn configurations, each run with every variant (default gthread:4x4)")
    parser.add_argument("--parents", type=int, default=3000, help="parents per measured run (default 3,000)")
    parser.add_argument("--warmup-parents", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2, help="measured runs per variant, alternated (default 2)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--cap-seconds", type=float, default=120)
    parser.add_argument("--service-env", nargs="*", default=[], metavar="NAME=VALUE")
    parser.add_argument("--py-spy", type=Path, help="sample one more run per variant with py-spy, write here")
    parser.add_argument("--threads-report", action="store_true",
                        help="registrations' CPU per answer by thread, user and system, context switches (as "
                             "bench.shedding --threads-report)")
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--folder", type=Path, default=FOLDER)
    return parser.parse_args(argv)


def start_registrations(stack: BenchStack, folder: Path, config: GunicornConfig, extra_env: dict[str, str]) -> str:
    """Registrations under the variant's deploy/gunicorn.conf.py, its code imported from the variant's folder
    (gunicorn puts --chdir first on sys.path, before this tree's editable install)."""
    from deploy.catalogue import web_service
    from deploy.local.run import service_env

    service = web_service("registrations").on_port(stack.ports["registrations"])
    env = service_env(service, {**stack.env, **config.env(), **extra_env})
    argv = [sys.executable, "-m", "gunicorn", "--chdir", str(folder), "-c", str(folder / "deploy" / "gunicorn.conf.py"),
            service.app]
    stack._start("registrations", argv, env)
    wait_http(f"{service.url}/readyz", what=f"registrations (log: {stack.logs / 'registrations'}.log)")
    return url(stack.ports["registrations"])


def profile_summary(folded: Path, top: int = 45) -> str:
    """Share of the samples by function (self, and anywhere on the stack) from py-spy's folded output."""
    own, anywhere, total = Counter(), Counter(), 0
    for line in folded.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        if not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")[1:]  # the first is the process / thread name
        total += n
        if frames:
            own[frames[-1]] += n
        for frame in set(frames):
            anywhere[frame] += n
    lines = [f"{total:,} samples", "self:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in own.most_common(top)]
    lines += ["on the stack:"]
    lines += [f"  {n / total:6.1%}  {frame}" for frame, n in anywhere.most_common(top * 2)]
    return "\n".join(lines)


def interrupt(signum, frame):
    raise KeyboardInterrupt  # stop everything the bench started, as on Ctrl-C


@dataclass
class Crowd:
    """The isolated stack's two open campaigns (a warm-up one and the measured one), and enough parents, their
    households saved and their tokens minted, for every run: each run takes parents of its own."""
    runtime: Any
    settings: Any
    warmup_campaign: Any
    campaign: Any
    parents: list
    tokens: list[str]
    rng: random.Random

    def request_files(self, folder: Path, start: int, warmup_parents: int, parents: int) -> tuple[Path, Path]:
        """A run's warm-up (each parent once, to the warm-up campaign) and surge (the surge bench's mix: 10 % retries
        with the same key, 5 % double clicks) files, from parents `start` onwards."""
        def requests(path: Path, chosen_campaign, first: int, count: int, retries: bool) -> Path:
            plan = plan_attempts(count, self.rng) if retries else plan_attempts(count, self.rng, 0, 0)
            offer_ids = {str(n): str(offer.id) for n, offer in enumerate(chosen_campaign.offers)}
            lines = request_lines(rekey(plan, f"{path.parent.name}-{path.stem}"), self.parents[first:first + count],
                                  self.tokens[first:first + count], str(chosen_campaign.id), offer_ids)
            return write_request_file(path, lines)

        folder.mkdir(parents=True, exist_ok=True)
        return (requests(folder / "warmup.tsv", self.warmup_campaign, start, warmup_parents, retries=False),
                requests(folder / "surge.tsv", self.campaign, start + warmup_parents, parents, retries=True))


def prepare_crowd(stack: BenchStack, label: str, parents: int, seed: int) -> Crowd:
    """Start the stack and the workers intake needs, publish the campaigns, save `parents` households and mint
    their tokens, and wait until intake's guard is ready."""
    env = stack.start()
    from shared.config import Settings
    from shared.runtime import Runtime

    settings = Settings.from_env("bench", env)
    runtime = Runtime(settings)
    stack.start_worker("registrations")
    stack.start_worker("campaigns")
    warmup_campaign = publish_intake_campaign(runtime, f"{label} warm-up")
    campaign = publish_intake_campaign(runtime, label)
    for known in (warmup_campaign, campaign):
        wait_until_registrations_knows(runtime, str(known.id))
    rng = random.Random(seed)
    slots = [OfferAges(str(n), a.min_age, a.max_age) for n, a in enumerate(offer_ages(campaign))]
    everyone = make_parents(parents, slots, campaign.reference_date, campaign.max_choices, rng)
    print(f"saving {len(everyone):,} households, minting tokens …", flush=True)
    save_households(runtime, everyone)
    tokens = mint_parent_tokens(settings, [parent.account for parent in everyone])
    wait_until_intake_ready(runtime)
    return Crowd(runtime, settings, warmup_campaign, campaign, everyone, tokens, rng)


@contextmanager
def intake_stack(folder: Path, label: str, parents: int, seed: int) -> Iterator[tuple[BenchStack, Crowd]]:
    """The isolated stack with its crowd (prepare_crowd), stopped on the way out, SIGTERM included."""
    stack = BenchStack(folder)
    signal.signal(signal.SIGTERM, interrupt)
    crowd = None
    try:
        crowd = prepare_crowd(stack, label, parents, seed)
        yield stack, crowd
    finally:
        if crowd is not None:
            crowd.runtime.close()
        stack.close()


@dataclass(frozen=True)
class Driven:
    """One measured surge: what wrk recorded, the cores each process tree took, and (if asked) the served
    process's CPU by thread per answer."""
    stats: SubmissionStats
    report: WrkReport
    cores: dict[str, float]
    elapsed_s: float
    by_thread: dict[str, float] | None

    def cpu_s(self, *trees: str) -> float:
        return sum(self.cores.get(tree, 0.0) for tree in trees) * self.elapsed_s


def warm_up(wrk: str, base: str, warmup: Path, folder: Path, *, connections: int, threads: int, parents: int) -> None:
    run_submissions(wrk, base, warmup, folder / "warmup", threads=threads, connections=min(connections, parents),
                    cap_seconds=60, log=folder / "warmup.log")


def drive_surge(stack: BenchStack, wrk: str, served: str, base: str, surge: Path, folder: Path, *, connections: int,
                threads: int, cap_seconds: float, threads_report: bool) -> Driven:
    """Send the surge file once with wrk; the CPU of every process tree of the stack over it from /proc, and the
    served process's (gunicorn master `served`) by thread."""
    master = stack.processes[served].pid
    threads_before = registrations_threads(master) if threads_report else {}
    meter = CpuMeter(stack.process_roots)
    meter.start()
    began = time.monotonic()
    output = run_submissions(wrk, base, surge, folder / "surge", threads=threads, connections=connections,
                             cap_seconds=cap_seconds, log=folder / "surge.log")
    cores = meter.stop()
    elapsed = time.monotonic() - began
    stats = submission_stats(read_records(folder / "surge"))
    by_thread = (thread_report(threads_before, registrations_threads(master), stats.answered)
                 if threads_report else None)
    return Driven(stats, parse_wrk_output(output), cores, elapsed, by_thread)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    variants = dict(v.split("=", 1) for v in args.variant) or {"tree": str(REPO)}
    folders = {name: Path(folder).resolve() for name, folder in variants.items()}
    own_env: dict[str, dict[str, str]] = {}
    for item in args.variant_env:
        name, _, assignment = item.partition(":")
        own_env.setdefault(name, {}).update([assignment.split("=", 1)])
    own_connections = {name: int(n) for name, _, n in (item.partition(":") for item in args.variant_connections)}
    own_config = {name: GunicornConfig.parse(config) for name, _, config in
                  (item.partition(":") for item in args.variant_config)}
    # Each (variant, configuration) pair, named for the tables: "after" or "after gthread-2x8".
    variants = {(f"{name} {config.slug}" if len(args.configs) > 1 and name not in own_config else name):
                (folder, config, own_env.get(name, {}))
                for name, folder in folders.items() for config in ([own_config[name]] if name in own_config
                                                                   else args.configs)}
    extra_env = dict(item.split("=", 1) for item in args.service_env)
    wrk = ensure_wrk()
    load_before = os.getloadavg()[0]
    measures: list[Measure] = []
    threads_lines: list[str] = []
    runs = [(r, name) for r in range(1, args.rounds + 1)
            for name in (list(variants) if r % 2 else list(reversed(variants)))]
    if args.py_spy:
        runs += [(0, name) for name in variants]
    per_run = args.parents + args.warmup_parents
    with intake_stack(args.folder, "intake-gunicorn", per_run * len(runs), args.seed) as (stack, crowd):
        for index, (round_number, name) in enumerate(runs):
            folder = args.folder / f"{name.replace(' ', '-').replace(',', '')}-{round_number}"
            warmup, surge = crowd.request_files(folder, index * per_run, args.warmup_parents, args.parents)
            folder_of_code, config, variant_env = variants[name]
            base = start_registrations(stack, folder_of_code, config, {**extra_env, **variant_env})
            connections = own_connections.get(name.split(" ")[0], args.connections)
            warm_up(wrk, base, warmup, folder, connections=connections, threads=args.threads,
                    parents=args.warmup_parents)
            spy = None
            if round_number == 0:
                args.py_spy.mkdir(parents=True, exist_ok=True)
                pid = stack.processes["registrations"].pid
                spy = subprocess.Popen([os.environ.get("PY_SPY", "py-spy"), "record", "--pid", str(pid),
                                        "--subprocesses", "--gil", "--rate", "250", "--format", "raw",
                                        "-o", str(args.py_spy / f"{name}.folded")],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(1)
            driven = drive_surge(stack, wrk, "registrations", base, surge, folder, connections=connections,
                                 threads=args.threads, cap_seconds=args.cap_seconds,
                                 threads_report=args.threads_report and round_number > 0)
            if spy is not None:
                spy.send_signal(signal.SIGINT)
                spy.wait(timeout=60)
            stats = driven.stats
            if driven.by_thread is not None:
                threads_lines.append(threads_line(f"{name}, round {round_number}", stats.answered, driven.by_thread))
                print(threads_lines[-1], flush=True)
            stack.stop_process("registrations")
            if round_number == 0:
                folded = args.py_spy / f"{name}.folded"
                (args.py_spy / f"{name}.txt").write_text(profile_summary(folded))
                print(f"py-spy {name}: {args.py_spy / name}.txt", flush=True)
                continue
            measure = Measure(f"{name}, {connections} connections", round_number, stats.answered, stats.accepted, stats.span_s,
                              driven.cpu_s("registrations"), driven.cpu_s(*STACK_TREES), driven.cpu_s("kafka"),
                              driven.cores.get("other", 0.0), stats.p50_ms, stats.p99_ms, stats.by_category,
                              dict(driven.report.socket_errors))
            measures.append(measure)
            print(measure.line(), flush=True)

        print(f"\n`python -m bench.intake_gunicorn {' '.join(argv if argv is not None else sys.argv[1:])}` on "
              f"{len(os.sched_getaffinity(0))} cores, {utc_stamp()}, wrk {args.connections} "
              f"connections unless named; load average (1 min) before {load_before:.2f}, after {os.getloadavg()[0]:.2f}\n")
        print(HEADER)
        for measure in measures:
            print(measure.line())
        if threads_lines:
            print("\nRegistrations' CPU by thread, from /proc/<pid>/task (ms per answer; switches per answer):\n")
            print(THREADS_HEADER)
            print("\n".join(threads_lines))
        return 0


if __name__ == "__main__":
    sys.exit(main())
