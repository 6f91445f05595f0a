"""The floor of intake's libraries under gunicorn, beside hello-world and intake in the same run:
`python -m bench.intake_floor`.

    python -m bench.intake_floor --rounds 2
    python -m bench.intake_floor --rows hello wsgi-redis-kafka intake --configs gthread:2x8 --parents 3000

Issue 19 asks intake for a share of hello-world's rate and for a CPU budget per request and per accepted
application. This bench measures what the libraries the brief fixes cost with none of Guichet's logic, under the
same gunicorn settings file and worker shape, on the same machine, in the same run. Rows, each its own gunicorn
started one after the other (alternated round by round, so that a shared machine's load falls on all of them):

- `hello`: bench/hello_app.py (Flask: JSON body → 202), bench.run's baseline;
- `wsgi`: bench/floor_app.py, a plain WSGI callable (no Flask): the body parsed and 202 answered, gunicorn's floor;
- `wsgi-redis`: the same, then one EVALSHA of a script of intake's gate's
  shape, then a second after the "acknowledgement", through redis-py as the services configure it;
- `wsgi-redis-kafka`: the same, plus a record of `application.submitted`'s shape sent with intake's own producer
  (`Runtime.request_producer`) and waited for (`send(...).get()`) between the two scripts;
- `wsgi-redis-kafka-token`: the same, plus the parent's RS256 bearer token verified by shared/auth's verifier
  (one fresh token per parent, as bench.run sends them);
- `intake`: registrations itself (as bench.intake_gunicorn serves it).

Every row gets the same requests: a fresh crowd of parents per run (the surge bench's mix: each parent once, 10 %
retries with the same key, 5 % double clicks; the same bodies and tokens) sent by wrk with the same connections,
after a warm-up. Reported per run: answers/s and × hello's rate of the same round, the served process tree's CPU
per answer and by thread (gunicorn's main loop, the request threads, kafka-python's network thread; from /proc),
the broker's, Redis's, PostgreSQL's and the registrations worker's CPU per 202, 202 p50/p99, and the cores taken
outside the stack. Figures only: nothing here passes or fails.
"""
from __future__ import annotations

import argparse
import os
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.intake_gunicorn import Driven, drive_surge, intake_stack, start_registrations, warm_up
from bench.report import ms
from bench.scenario import utc_stamp
from bench.stack import GunicornConfig
from bench.wrk import ensure_wrk
from deploy.local.servers import REPO

FOLDER = REPO / ".local" / "intake-floor"
FLOOR_LAYERS = {"wsgi": "none", "wsgi-redis": "redis", "wsgi-redis-kafka": "redis,kafka", "wsgi-redis-kafka-token": "redis,kafka,token"}
ROWS = ("hello", *FLOOR_LAYERS, "intake")
# The stack's servers and the intake consumer: every row's CPU per 202 outside the served process.
STACK_PARTS = ("kafka", "redis", "postgres", "registrations-worker")


@dataclass(frozen=True)
class Run:
    row: str
    round: int
    answered: int
    accepted: int  # fresh 202s (every answer of the floor rows)
    span_s: float
    served_cpu_s: float
    part_cpu_s: dict[str, float]  # STACK_PARTS' CPU seconds over the surge
    by_thread: dict[str, float]  # ms per answer: main, request, sender, user, system, switches
    wrk_cpu_s: float
    other_cores: float
    p50_ms: float | None
    p99_ms: float | None
    load_before: float
    load_after: float
    not_202: int  # answers other than a fresh or replayed 202, and wrk's socket errors

    @property
    def rate(self) -> float:
        return self.answered / self.span_s if self.span_s else 0.0

    @property
    def accepted_rate(self) -> float:
        return self.accepted / self.span_s if self.span_s else 0.0

    @property
    def served_ms(self) -> float:
        return per(self.served_cpu_s, self.answered)

    def part_ms(self, part: str) -> float:
        return per(self.part_cpu_s.get(part, 0.0), self.accepted)

    @property
    def stack_ms(self) -> float:
        """The served process and every part of the stack, per 202 (issue 19's "whole stack per accepted")."""
        return per(self.served_cpu_s + sum(self.part_cpu_s.values()), self.accepted)


def per(cpu_s: float, count: int) -> float:
    return cpu_s / count * 1000 if count else float("nan")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", nargs="+", choices=ROWS, default=[row for row in ROWS if row != "wsgi"],
                        help="rows to run, in this order (default: all but the bare `wsgi`)")
    parser.add_argument("--configs", type=GunicornConfig.parse, nargs="+", default=[GunicornConfig.parse("gthread:2x8")],
                        help="gunicorn configurations, each run with every row (default gthread:2x8, bench.run's best)")
    parser.add_argument("--parents", type=int, default=3000, help="parents per measured run (default 3,000)")
    parser.add_argument("--warmup-parents", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2, help="measured runs per row, alternated (default 2)")
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--threads", type=int, default=2, help="wrk threads")
    parser.add_argument("--cap-seconds", type=float, default=120)
    parser.add_argument("--seed", type=int, default=19)
    parser.add_argument("--folder", type=Path, default=FOLDER)
    args = parser.parse_args(argv)
    if args.rounds < 1 or args.parents < 1:
        parser.error("--rounds and --parents must be at least 1")
    return args


def run_order(rows: list[str], configs: list[GunicornConfig], rounds: int) -> list[tuple[int, str, GunicornConfig]]:
    """Every (row, configuration) once per round, in order on odd rounds and reversed on even ones."""
    pairs = [(row, config) for config in configs for row in rows]
    return [(r, row, config) for r in range(1, rounds + 1) for row, config in (pairs if r % 2 else pairs[::-1])]


def label(row: str, config: GunicornConfig, configs: list[GunicornConfig]) -> str:
    return row if len(configs) == 1 else f"{row} {config.slug}"


def run_from(row: str, round_number: int, driven: Driven, served: str, load_before: float, load_after: float) -> Run:
    stats = driven.stats
    fine = stats.accepted + stats.replayed
    return Run(row, round_number, stats.answered, stats.accepted, stats.span_s, driven.cpu_s(served),
               {part: driven.cpu_s(part) for part in STACK_PARTS}, driven.by_thread or {},
               driven.cpu_s("wrk"), driven.cores.get("other", 0.0), stats.p50_ms, stats.p99_ms, load_before, load_after,
               stats.answered - fine + sum(driven.report.socket_errors.values()))


HEADER = ("| row | round | answers | answers/s | 202/s | 202/s × hello's answers/s | served CPU ms/answer | gunicorn main loop | "
          "request threads | kafka-python network thread | voluntary / involuntary switches/answer | broker ms/202 | Redis ms/202 | PostgreSQL ms/202 | "
          "registrations worker ms/202 | stack ms/202 | wrk ms/answer | 202 p50 ms | 202 p99 ms | cores taken outside | load before → after | "
          "not 202 |\n" + "|---" * 22 + "|")


def hello_of(row: str) -> str:
    """The hello-world row run with the same configuration: "hello" or "hello gthread-2x8"."""
    _, space, config = row.partition(" ")
    return "hello" + space + config


def hello_rate_of(runs: list[Run], row: str, round_number: int) -> float | None:
    for run in runs:
        if run.row == hello_of(row) and run.round == round_number:
            return run.rate
    return None


def run_line(run: Run, hello_rate: float | None) -> str:
    times = f"{run.accepted_rate / hello_rate:.2f}" if hello_rate else "–"
    thread = run.by_thread
    return (f"| {run.row} | {run.round} | {run.answered:,} | {run.rate:,.0f} | {run.accepted_rate:,.0f} | {times} | {run.served_ms:.2f} | "
            f"{thread.get('main', float('nan')):.2f} | {thread.get('request', float('nan')):.2f} | "
            f"{thread.get('sender', float('nan')):.2f} | "
            f"{thread.get('voluntary', float('nan')):.1f} / {thread.get('involuntary', float('nan')):.1f} | "
            f"{run.part_ms('kafka'):.2f} | {run.part_ms('redis'):.2f} | "
            f"{run.part_ms('postgres'):.2f} | {run.part_ms('registrations-worker'):.2f} | {run.stack_ms:.2f} | "
            f"{per(run.wrk_cpu_s, run.answered):.2f} | "
            f"{ms(run.p50_ms)} | {ms(run.p99_ms)} | {run.other_cores:.2f} | {run.load_before:.2f} → {run.load_after:.2f} | "
            f"{run.not_202} |")


SUMMARY_HEADER = ("| row | rounds | 202/s (median) | × hello's answers/s (median of the rounds' ratios) | served CPU ms/answer | "
                  "request threads | network thread | broker ms/202 | Redis ms/202 | stack ms/202 |\n" + "|---" * 10 + "|")


def summary_lines(runs: list[Run]) -> list[str]:
    """Per row, the median over its rounds (× hello: each round's ratio to that round's hello, then the median)."""
    lines = []
    for row in dict.fromkeys(run.row for run in runs):
        mine = [run for run in runs if run.row == row]
        ratios = [run.accepted_rate / hello for run in mine if (hello := hello_rate_of(runs, row, run.round))]

        def median(values: list[float]) -> str:
            return f"{statistics.median(values):.2f}" if values else "–"

        lines.append(
            f"| {row} | {len(mine)} | {statistics.median(run.accepted_rate for run in mine):,.0f} | {median(ratios)} | "
            f"{median([run.served_ms for run in mine])} | {median([run.by_thread.get('request', 0.0) for run in mine])} | "
            f"{median([run.by_thread.get('sender', 0.0) for run in mine])} | "
            f"{median([run.part_ms('kafka') for run in mine])} | {median([run.part_ms('redis') for run in mine])} | "
            f"{median([run.stack_ms for run in mine])} |")
    return lines


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = ensure_wrk()
    load_at_start = os.getloadavg()[0]
    runs: list[Run] = []
    order = run_order(args.rows, args.configs, args.rounds)
    per_run = args.parents + args.warmup_parents
    with intake_stack(args.folder, "intake-floor", per_run * len(order), args.seed) as (stack, crowd):
        from bench.floor_app import FLOOR_TOPIC
        from shared.kafka import ensure_topics

        ensure_topics(crowd.settings, [FLOOR_TOPIC], with_dead_letters=False)
        for index, (round_number, row, config) in enumerate(order):
            name = label(row, config, args.configs)
            folder = args.folder / f"{name.replace(' ', '-')}-{round_number}"
            warmup, surge = crowd.request_files(folder, index * per_run, args.warmup_parents, args.parents)
            served = "registrations" if row == "intake" else row
            if row == "intake":
                base = start_registrations(stack, REPO, config, {})
            elif row == "hello":
                base = stack.start_hello(config)
            else:
                base = stack.start_app(row, "bench.floor_app:app", config, {"FLOOR_LAYERS": FLOOR_LAYERS[row]})
            warm_up(wrk, base, warmup, folder, connections=args.connections, threads=args.threads,
                    parents=args.warmup_parents)
            load_before = os.getloadavg()[0]
            driven = drive_surge(stack, wrk, served, base, surge, folder, connections=args.connections,
                                 threads=args.threads, cap_seconds=args.cap_seconds, threads_report=True)
            stack.stop_process(served)
            run = run_from(name, round_number, driven, served, load_before, os.getloadavg()[0])
            runs.append(run)
            print(run_line(run, hello_rate_of(runs, name, round_number)), flush=True)

        print(f"\n`python -m bench.intake_floor {' '.join(argv if argv is not None else sys.argv[1:])}` on "
              f"{len(os.sched_getaffinity(0))} cores, {utc_stamp()}, wrk {args.connections} connections, "
              f"{args.parents:,} parents a run; load average (1 min) at the start {load_at_start:.2f}, at the end "
              f"{os.getloadavg()[0]:.2f}\n")
        print(HEADER)
        for run in runs:
            print(run_line(run, hello_rate_of(runs, run.row, run.round)))
        print("\nMedians over the rounds:\n")
        print(SUMMARY_HEADER)
        print("\n".join(summary_lines(runs)))
        return 0


if __name__ == "__main__":
    sys.exit(main())
