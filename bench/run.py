"""`make bench` (`python -m bench.run`): the intake 202 path against a hello-world Flask app under
the same gunicorn settings, and the public listing under a refresh storm, on an isolated stack.

    python -m bench.run                         # 20,000 parents, gthread 2×8, gthread 4×4, then sync 4
    python -m bench.run --parents 5000 --configs gthread:2x8
    python -m bench.run --no-write              # print the tables, leave docs/PERFORMANCE.md alone

Starts Kafka, PostgreSQL and Redis in .local/bench/ on their own ports, the registrations and
campaigns services under deploy/gunicorn.conf.py with their workers, creates the campaigns,
households and tokens, drives the load with wrk, prints the tables and writes them to
docs/PERFORMANCE.md ("Intake", "Hello-world baseline", "Public listing"). Everything it started
is stopped at the end, also on failure. What is measured, and how: docs/benchmarks.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import signal
import subprocess
import sys
import time
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import report
from bench.cpu import CpuMeter
from bench.report import RunContext, ms, ratio, table
from bench.scenario import (
    LedgerStats,
    cache_reads,
    cache_share,
    ledger_stats,
    mint_parent_tokens,
    offer_ages,
    publish_intake_campaign,
    publish_upcoming_campaigns,
    reads_between,
    save_households,
    server_time,
    utc_stamp,
    wait_for_ledger,
    wait_until_intake_ready,
    wait_until_registrations_knows,
)
from bench.stack import BENCH_DIR, BenchStack, GunicornConfig
from bench.submissions import (
    Attempt,
    OfferAges,
    Parent,
    make_parents,
    mix,
    plan_attempts,
    rekey,
    request_lines,
    write_request_file,
)
from bench.wrk import (
    LISTING_SCRIPT,
    SubmissionStats,
    ensure_wrk,
    parse_wrk_output,
    read_records,
    run_for,
    run_submissions,
    submission_stats,
)
from deploy.local.servers import REPO
from services.campaigns.domain import Campaign
from services.campaigns.usecases.public_catalogue import CACHE_KEY

# 2 workers first, as make run and Kubernetes run registrations (their 16 threads with 8 submissions in flight
# would shed most of wrk's 64 connections: 8 threads measure the same processes unshed); 4 × 4 and sync 4 keep
# the earlier runs comparable.
DEFAULT_CONFIGS = ("gthread:2x8", "gthread:4x4", "sync:4")
PERFORMANCE_MD = REPO / "docs" / "PERFORMANCE.md"
# Families filtering the listing for their children, and the bare page.
LISTING_QUERIES = ("", "?age=8", "?age=12&arrondissement=15", "?kind=sport_vacances", "?arrondissement=19",
                   "?birth_date=2017-05-14", "?kind=centre_loisirs_mercredi&age=5", "?age=10")


@dataclass
class ConfigResult:
    config: GunicornConfig
    intake: SubmissionStats
    intake_wrk: dict
    ledger: LedgerStats
    hello: SubmissionStats
    hello_wrk: dict
    listing: dict
    cpu: dict[str, dict[str, float]]  # by run (intake, hello, listing): cores busy by process tree


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown CPU"


def git_describe() -> str:
    result = subprocess.run(["git", "describe", "--always", "--dirty"], cwd=REPO, capture_output=True, text=True)
    return result.stdout.strip() or "unknown"


def wrk_version(binary: str) -> str:
    result = subprocess.run([binary, "--version"], capture_output=True, text=True)
    first = (result.stdout or result.stderr).splitlines()[0] if (result.stdout or result.stderr) else "wrk"
    return " ".join(first.split()[:2])


def fetch(url: str) -> str:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read().decode()


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--parents", type=int, default=20_000, help="parents in the surge (default 20,000)")
    parser.add_argument("--warmup-parents", type=int, default=300,
                        help="parents submitting to a separate campaign before each measured run (default 300)")
    parser.add_argument("--configs", nargs="+", default=list(DEFAULT_CONFIGS),
                        help="gunicorn configurations, class:workers[xthreads] (default: gthread:2x8 gthread:4x4 sync:4)")
    parser.add_argument("--connections", type=int, default=64, help="wrk connections (default 64)")
    parser.add_argument("--threads", type=int, default=2, help="wrk threads (default 2)")
    parser.add_argument("--listing-seconds", type=float, default=10, help="refresh storm duration (default 10)")
    parser.add_argument("--retry-share", type=float, default=0.10, help="parents retrying with the same key")
    parser.add_argument("--double-click-share", type=float, default=0.05, help="parents double-clicking (new key)")
    parser.add_argument("--seed", type=int, default=20260209)
    parser.add_argument("--cap-seconds", type=float, default=90,
                        help="longest a surge may run; what is not sent by then is reported as not sent (default 90)")
    parser.add_argument("--output", type=Path, default=PERFORMANCE_MD, help="markdown file to update")
    parser.add_argument("--no-write", action="store_true", help="print the tables only")
    parser.add_argument("--folder", type=Path, default=BENCH_DIR, help="the bench's own state (default .local/bench)")
    parser.add_argument("--service-env", nargs="*", default=[], metavar="NAME=VALUE",
                        help="extra settings for the two services, e.g. KAFKA_LINGER_MS=1 DB_POOL_SIZE=10 (tuning)")
    args = parser.parse_args(argv)
    args.configs = [GunicornConfig.parse(text) for text in args.configs]
    try:
        args.service_env = dict(pair.split("=", 1) for pair in args.service_env)
    except ValueError:
        parser.error("--service-env takes NAME=VALUE pairs")
    return args


def _interrupt(signum, frame):
    raise KeyboardInterrupt(f"signal {signum}")


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = ensure_wrk()
    # `make` or a CI runner stopping the bench sends SIGTERM: stop everything as on Ctrl-C.
    signal.signal(signal.SIGTERM, _interrupt)
    load_before = os.getloadavg()[0]
    started = time.monotonic()
    stack = BenchStack(args.folder)
    runtime = None
    try:
        log(f"starting an isolated stack in {stack.folder} …")
        env = stack.start()
        from shared.config import Settings
        from shared.runtime import Runtime

        settings = Settings.from_env("bench", env)
        runtime = Runtime(settings)
        stack.start_worker("registrations")
        stack.start_worker("campaigns")

        # Every campaign is published before any measurement, so each listing run sees the same catalogue.
        publish_upcoming_campaigns(runtime)
        campaigns = {config: (publish_intake_campaign(runtime, f"{config.slug} warm-up"),
                              publish_intake_campaign(runtime, config.slug)) for config in args.configs}
        for warmup, measured in campaigns.values():
            wait_until_registrations_knows(runtime, str(warmup.id))
            wait_until_registrations_knows(runtime, str(measured.id))

        rng = random.Random(args.seed)
        template = next(iter(campaigns.values()))[1]
        slots = [OfferAges(str(n), a.min_age, a.max_age) for n, a in enumerate(offer_ages(template))]
        everyone = make_parents(args.parents + args.warmup_parents, slots, template.reference_date,
                                template.max_choices, rng)
        parents, warmup_parents = everyone[:args.parents], everyone[args.parents:]
        log(f"saving {len(everyone):,} households …")
        save_households(runtime, everyone)
        log("minting parent tokens …")
        tokens = mint_parent_tokens(settings, [parent.account for parent in everyone])
        wait_until_intake_ready(runtime)
        queries = args.folder / "listing-queries.txt"
        queries.write_text("\n".join(LISTING_QUERIES) + "\n")

        # One crowd, one arrival order, replayed for every configuration (with its own keys).
        plan = plan_attempts(len(parents), rng, args.retry_share, args.double_click_share)
        warmup_plan = plan_attempts(len(warmup_parents), rng, 0, 0)
        results = []
        for config in args.configs:
            warmup_campaign, campaign = campaigns[config]
            results.append(run_config(args, config, stack, runtime, wrk, (parents, plan, campaign),
                                      (warmup_parents, warmup_plan, warmup_campaign), tokens, queries))
            log(f"{config.label}: done")

        context = RunContext(
            command=" ".join(["python -m bench.run", *(sys.argv[1:] if argv is None else argv)]),
            cores=len(os.sched_getaffinity(0)), cpu=cpu_model(), date=utc_stamp(),
            wrk=f"{wrk_version(wrk)}, {args.threads} threads, {args.connections} connections, on the same machine",
            commit=git_describe(),
            note=f"Load average (1 min) before the run: {load_before:.2f}; total bench time "
                 f"{(time.monotonic() - started) / 60:.1f} min.")
        sections = render(context, args, results)
        for heading, body in sections.items():
            print(f"\n## {heading}\n\n{body}")
        if not args.no_write:
            current = args.output.read_text() if args.output.exists() else ""
            args.output.write_text(report.replace_sections(current, sections))
            log(f"written to {args.output}")
        (args.folder / "results.json").write_text(json.dumps(
            [{"config": r.config.label, "intake_wrk": r.intake_wrk, "hello_wrk": r.hello_wrk, "listing": r.listing,
              "intake": r.intake.__dict__, "hello": r.hello.__dict__, "ledger": r.ledger.__dict__, "cpu": r.cpu}
             for r in results],
            indent=2, default=str))
        return 0
    finally:
        log("stopping everything the bench started …")
        if runtime is not None:
            runtime.close()
        stack.close()


def request_file(path: Path, crowd: tuple[list[Parent], list[Attempt], Campaign], tokens: list[str],
                 salt: str) -> Path:
    parents, plan, campaign = crowd
    offer_ids = {str(n): str(offer.id) for n, offer in enumerate(campaign.offers)}
    return write_request_file(path, request_lines(rekey(plan, salt), parents, tokens, str(campaign.id), offer_ids))


def run_config(args, config: GunicornConfig, stack: BenchStack, runtime, wrk: str, crowd, warmup_crowd,
               tokens: list[str], queries: Path) -> ConfigResult:
    folder = args.folder / config.slug
    folder.mkdir(parents=True, exist_ok=True)
    parents, plan, campaign = crowd
    surge = request_file(folder / "surge.tsv", crowd, tokens, config.slug)
    warmup = request_file(folder / "warmup.tsv", warmup_crowd, tokens[len(parents):], config.slug)
    log(f"{config.label}: {dict(mix(plan))} submissions of {len(parents):,} parents")

    cpu: dict[str, dict[str, float]] = {}

    def drive(base_url: str, name: str, server_metrics: bool) -> tuple[SubmissionStats, dict]:
        run_submissions(wrk, f"{base_url}", warmup, folder / f"{name}-warmup", threads=args.threads,
                        connections=args.connections, cap_seconds=60, log=folder / f"{name}-warmup.log")
        before = server_time(fetch(f"{base_url}/metrics"), "/applications", "POST") if server_metrics else None
        meter = CpuMeter(stack.process_roots)
        meter.start()
        output = run_submissions(wrk, f"{base_url}", surge, folder / name, threads=args.threads,
                                 connections=args.connections, cap_seconds=args.cap_seconds,
                                 log=folder / f"{name}.log")
        cpu[name] = meter.stop()
        stats = submission_stats(read_records(folder / name))
        wrk_report = parse_wrk_output(output)
        extra = {"requests": wrk_report.requests, "socket_errors": wrk_report.socket_errors,
                 "percentiles_us": wrk_report.percentiles_us}
        if before is not None:
            # The service's own view (every POST, from its first to its last line of code): the rest of
            # wrk's latency is queueing for a worker, the network stack, and the client.
            count, seconds = server_time(fetch(f"{base_url}/metrics"), "/applications", "POST")
            handled = count - before[0]
            extra["server_mean_ms"] = (seconds - before[1]) / handled * 1000 if handled else None
        log(f"{config.label} {name}: {stats.answered:,}/{stats.planned:,} answered in {stats.span_s:.1f}s, "
            f"{stats.responses_per_second:,.0f} responses/s, 202 p99 {ms(stats.p99_ms)} ms, "
            f"shed 503 p99 {ms(stats.shed_p99_ms)} ms, {stats.by_category}")
        return stats, extra

    registrations = stack.start_service("registrations", config, args.service_env)
    intake, intake_wrk = drive(registrations, "intake", server_metrics=True)
    log(f"{config.label}: waiting for the intake consumer to write {intake.accepted:,} applications …")
    wait_for_ledger(runtime, str(campaign.id), intake.accepted)
    ledger = ledger_stats(runtime, str(campaign.id))
    log(f"{config.label}: ledger {ledger.applications:,}, lag p99 {ms(ledger.lag_p99_ms)} ms")
    stack.stop_process("registrations")

    hello_url = stack.start_hello(config)
    hello, hello_wrk = drive(hello_url, "hello", server_metrics=False)
    stack.stop_process("hello")

    campaigns_url = stack.start_service("campaigns", config, args.service_env)
    fetch(f"{campaigns_url}/public/campaigns")  # one read to build the catalogue, like the first visitor
    before = cache_reads(fetch(f"{campaigns_url}/metrics"), CACHE_KEY)
    meter = CpuMeter(stack.process_roots)
    meter.start()
    output = run_for(wrk, LISTING_SCRIPT, f"{campaigns_url}/public/campaigns", {"BENCH_QUERIES": str(queries)},
                     threads=args.threads, connections=args.connections, duration_s=args.listing_seconds,
                     log=folder / "listing.log")
    cpu["listing"] = meter.stop()
    after = cache_reads(fetch(f"{campaigns_url}/metrics"), CACHE_KEY)
    stack.stop_process("campaigns")
    listing_report = parse_wrk_output(output)
    reads = reads_between(before, after)
    listing = {"requests": listing_report.requests, "duration_s": listing_report.duration_s,
               "requests_per_second": listing_report.requests / listing_report.duration_s,
               "percentiles_us": listing_report.percentiles_us, "statuses": listing_report.statuses,
               "socket_errors": listing_report.socket_errors, "reads": reads, "cache_share": cache_share(reads)}
    log(f"{config.label} listing: {listing['requests_per_second']:,.0f} requests/s, reads {reads}")
    died = stack.check_alive()
    if died:
        raise RuntimeError(f"exited during the bench: {', '.join(died)} (logs in {stack.logs})")
    return ConfigResult(config, intake, intake_wrk, ledger, hello, hello_wrk, listing, cpu)


CPU_COLUMNS = ("kafka", "postgres", "redis", "wrk", "other")


def cpu_table(results: list[ConfigResult], run: str, service: str, workers: Sequence[str]) -> str:
    """Cores busy on average during the run, by process tree."""
    rows = []
    for r in results:
        used = r.cpu.get(run, {})
        rows.append([r.config.label, *(f"{used.get(name, 0):.2f}" for name in (service, *workers, *CPU_COLUMNS)),
                     f"{sum(used.values()):.2f}"])
    return table(["gunicorn", f"{service} (gunicorn)", *workers, *CPU_COLUMNS, "all"], rows)


def lost(stats: SubmissionStats) -> int:
    """Requests sent and never answered: errors, unless the run was stopped at its cap (then in flight)."""
    return 0 if stats.not_sent else stats.unanswered


def per_request_ms(cores: float, per_second: float) -> str:
    """CPU milliseconds per request, from cores busy on average and requests per second."""
    return ms(cores / per_second * 1000) if per_second else "–"


def _us_to_ms(value: float | None) -> str:
    return ms(None if value is None else value / 1000)


def contention_note(results: list[ConfigResult], runs: Sequence[str], limit: float = 0.25) -> str:
    """A warning when other work on the machine took a noticeable share of it during these runs."""
    busy = [(r.config.label, run, r.cpu.get(run, {}).get("other", 0.0)) for r in results for run in runs]
    loaded = [f"{label} {run}: {other:.2f}" for label, run, other in busy if other > limit]
    if not loaded:
        return ""
    return ("**The machine was shared during this run**: work outside the bench took cores on average ("
            + "; ".join(loaded) + "). Absolute figures are depressed, and runs taken minutes apart may have "
            "met different loads: prefer a run on a quiet machine before drawing conclusions.")


def render(context: RunContext, args, results: list[ConfigResult]) -> dict[str, str]:
    first = results[0].intake if results else None
    headline, counts, hello_rows, listing_rows = [], [], [], []
    for r in results:
        s, h, led = r.intake, r.hello, r.ledger
        other = sum(n for category, n in s.by_category.items()
                    if category.split(":")[0] not in ("202", "202-replay", "409", "429", "503"))
        headline.append([
            r.config.label, s.accepted, round(s.accepted_per_second), ms(s.p50_ms), ms(s.p95_ms), ms(s.p99_ms),
            ratio(s.responses_per_second, h.responses_per_second), ratio(s.p99_ms, h.p99_ms), ms(led.lag_p99_ms)])
        used = r.cpu.get("intake", {})
        service_cpu = used.get("registrations", 0.0)
        stack_cpu = sum(v for k, v in used.items() if k not in ("wrk", "other"))
        counts.append([
            r.config.label, s.sent, round(s.responses_per_second), ms(r.intake_wrk.get("server_mean_ms")),
            per_request_ms(service_cpu, s.responses_per_second), per_request_ms(stack_cpu, s.accepted_per_second),
            per_request_ms(used.get("kafka", 0.0), s.accepted_per_second), s.replayed, s.count_status(409), s.count_status(429), s.count_status(503),
            other + lost(s) + sum(r.intake_wrk["socket_errors"].values()), led.applications,
            round(led.applications / led.written_over_s) if led.written_over_s else "–",
            f"{ms(led.lag_p50_ms)} / {ms(led.lag_p99_ms)} / {ms(led.lag_max_ms)}"])
        hello_rows.append([
            r.config.label, h.planned, round(h.responses_per_second), ms(h.p50_ms), ms(h.p95_ms), ms(h.p99_ms),
            per_request_ms(r.cpu.get("hello", {}).get("hello", 0.0), h.responses_per_second),
            h.answered - h.by_category.get("202", 0) + lost(h) + sum(r.hello_wrk["socket_errors"].values())])
        listing = r.listing
        pct = listing["percentiles_us"]
        reads = listing["reads"]
        non_200 = listing["requests"] - listing["statuses"].get("200", 0)
        share = listing["cache_share"]
        listing_rows.append([
            r.config.label, f"{listing['duration_s']:.0f}", listing["requests"], round(listing["requests_per_second"]),
            _us_to_ms(pct.get(50.0)), _us_to_ms(pct.get(95.0)), _us_to_ms(pct.get(99.0)), non_200,
            " / ".join(f"{reads.get(layer, 0):,.0f}" for layer in ("memory", "redis", "database")),
            "–" if share is None else f"{share:.4%}"])

    refused = sorted({c for r in results for c in r.intake.by_category if c[0] in "45"})
    code_note = "; ".join(f"{r.config.label}: " + (", ".join(f"`{c}` × {r.intake.by_category[c]:,}" for c in refused
                                                           if c in r.intake.by_category) or "none")
                          for r in results)
    tuning = (" Services' extra settings: " + ", ".join(f"`{k}={v}`" for k, v in args.service_env.items()) + "."
              if args.service_env else "")
    capped = [f"{r.config.label}: {r.intake.not_sent:,} of {r.intake.planned:,} not sent, {r.intake.unanswered} in "
              f"flight when wrk was stopped" for r in results if r.intake.not_sent]
    cap_note = (f"**The surge hit its time cap** (`--cap-seconds {args.cap_seconds:g}`) — " + "; ".join(capped)
                + ". Rates and latencies stand for what was answered; the ledger also holds the 202s of requests "
                "in flight at the stop.") if capped else ""
    intake = "\n\n".join(part for part in [
        context.preface(),
        contention_note(results, ("intake", "hello")),
        cap_note,
        (f"{args.parents:,} parents, one child each, submit `POST /applications` to an open copy of Paris Sport "
         f"Vacances (priority lottery: every valid first submission is a 202 \"received\"). Every request is a "
         f"distinct submission: each parent once, {args.retry_share:.0%} retry with the same Idempotency-Key "
         f"(200–2,000 requests later: a replayed 202), {args.double_click_share:.0%} double-click with a new key "
         f"(right after: a 409 `already-applied`); {first.planned if first else 0:,} requests, after "
         f"{args.warmup_parents} warm-up submissions to another campaign. Registrations runs under "
         f"`deploy/gunicorn.conf.py` with its worker, Kafka, PostgreSQL and Redis on the same machine; admission "
         f"limits are raised (`INTAKE_*`) so that a 429 would be the service's own.{tuning}"),
        table(["gunicorn", "202 accepted", "accepted/s", "p50 ms", "p95 ms", "p99 ms", "× hello responses/s",
               "× hello p99", "202→ledger p99 ms"], headline),
        table(["gunicorn", "requests sent", "responses/s", "server mean ms", "service CPU ms/request",
               "stack CPU ms/202", "Kafka CPU ms/202", "202 replayed", "409", "429", "503", "other/errors", "in ledger",
               "ledger rows/s", "202→ledger p50 / p99 / max ms"], counts),
        ("p50/p95/p99 are those of the fresh 202s (the 202 path), from wrk sending the request to its answer; "
         "`server mean` is the service's own mean time for every POST (`guichet_http_request_duration_seconds`), "
         "the rest is waiting for a worker. `service CPU ms/request` is the registrations processes' CPU time per "
         "answer; `stack CPU ms/202` adds its worker, Kafka, PostgreSQL and Redis, per accepted application, "
         "`Kafka CPU ms/202` is the broker's share of it. "
         "`ledger rows/s` is the intake consumer's pace (rows ÷ first-to-last `recorded_at`). Rates count from the first request to the last answer; the ratios "
         "divide by the hello-world run with the same requests and settings. The ledger lag compares each "
         "application's `submitted_at` (the 202) with its `recorded_at` in `registrations.applications`, read once "
         "the intake consumer had caught up. Refusals by problem code: " + code_note + "."),
        "Cores busy on average during the surge, by process tree (`other`: the rest of the machine):",
        cpu_table(results, "intake", "registrations", ["registrations-worker"]),
    ] if part)
    hello = "\n\n".join(part for part in [
        context.preface(),
        contention_note(results, ("hello",)),
        ("`bench/hello_app.py` (Flask: JSON POST → 202 JSON) under the same `deploy/gunicorn.conf.py` and gunicorn "
         "configuration, driven by the same wrk script with the same request file, right after the intake run; "
         "the ratios are in the Intake section."),
        table(["gunicorn", "requests", "responses/s", "p50 ms", "p95 ms", "p99 ms", "service CPU ms/request",
               "non-202/errors"], hello_rows),
        "Cores busy on average during the run, by process tree:",
        cpu_table(results, "hello", "hello", []),
    ] if part)
    listing = "\n\n".join(part for part in [
        context.preface(),
        contention_note(results, ("listing",)),
        (f"A refresh storm: wrk GETs `/public/campaigns` (no token) for {args.listing_seconds:g} s, cycling through "
         f"{len(LISTING_QUERIES)} filter combinations (age, arrondissement, kind, birth date, none), against the "
         f"campaigns service alone; the catalogue holds the {2 * len(results) + 2} bench campaigns (copies of the "
         f"winter 2026 demo, open and upcoming). Reads by layer are the difference of "
         f"`guichet_campaigns_cache_reads_total` on `/metrics` over the storm; served from cache = (memory + "
         f"Redis) / all reads.{tuning}"),
        table(["gunicorn", "s", "requests", "requests/s", "p50 ms", "p95 ms", "p99 ms", "non-200",
               "reads memory / Redis / database", "served from cache"], listing_rows),
        "Cores busy on average during the storm, by process tree:",
        cpu_table(results, "listing", "campaigns", []),
    ] if part)
    return {report.INTAKE: intake, report.HELLO: hello, report.LISTING: listing}


if __name__ == "__main__":
    sys.exit(main())
