"""The bench's pure helpers (bench/): the request mix, wrk's report and the Lua script's records,
the markdown sections, the metrics parser. No load is run here and nothing is timed."""
from __future__ import annotations

import json
import random
from collections import defaultdict
from dataclasses import replace
from datetime import date

import jwt
import pytest

from bench.cpu import busy_ticks, parse_stat, tree_ticks
from bench.report import replace_sections, sections
from bench.scenario import LedgerStats, cache_reads, cache_share, mint_parent_tokens, reads_between
from bench.shedding import (
    HALF_OF_CAPACITY_RUNS,
    Capacity,
    RunResult,
    ThreadTicks,
    capacity_from,
    half_of_capacity_section,
    parse_run,
    registrations_threads,
    thread_report,
)
from bench.shedding import parse_args as shedding_args
from bench.stack import GunicornConfig
from bench.submissions import (
    DOUBLE_CLICK,
    FIRST,
    RETRY,
    OfferAges,
    make_parents,
    mix,
    parse_request_line,
    plan_attempts,
    rekey,
    request_lines,
)
from bench.wrk import duration_to_us, parse_records, parse_wrk_output, percentile, submission_stats
from shared.auth import TokenVerifier
from shared.config import Settings
from shared.devtokens import issue_token
from shared.domain.ages import fits_age_range

WRK_OUTPUT = """\
Running 4m test @ http://127.0.0.1:8102
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     5.88ms    6.70ms  82.61ms   90.63%
    Req/Sec     1.52k   703.50     3.06k    85.00%
  Latency Distribution
     50%    3.92ms
     75%    8.00ms
     90%   12.18ms
     99%  834.35us
  3461 requests in 1.42s, 731.13KB read
  Socket errors: connect 0, read 2, write 0, timeout 5
  Non-2xx or 3xx responses: 104
Requests/sec:   2445.93
Transfer/sec:    516.70KB
bench-summary requests=3461 duration_us=1415002 connect=0 read=2 write=0 timeout=5 status=104 p50_us=3920 \
p95_us=20100 p99_us=34350 max_us=82610 status_200=3300 status_503=161
"""

OFFERS = [OfferAges("multisport", 7, 10), OfferAges("escalade", 11, 17), OfferAges("natation", 7, 12),
          OfferAges("theatre", 9, 13)]
REFERENCE = date(2026, 12, 27)


def test_wrk_report_is_read_with_its_errors_and_percentiles():
    report = parse_wrk_output(WRK_OUTPUT)
    assert report.requests == 3461
    assert report.duration_s == pytest.approx(1.42)
    assert report.requests_per_second == pytest.approx(2445.93)
    assert report.socket_errors == {"connect": 0, "read": 2, "write": 0, "timeout": 5}
    assert report.errors == 7
    assert report.non_2xx == 104
    assert report.percentiles_us[50.0] == pytest.approx(3920)
    assert report.percentiles_us[95.0] == pytest.approx(20100)  # only the script's summary line has p95
    assert report.percentiles_us[75.0] == pytest.approx(8000)
    assert report.statuses == {"200": 3300, "503": 161}


def test_wrk_durations_in_every_unit():
    assert duration_to_us("812.00us") == pytest.approx(812)
    assert duration_to_us("3.92ms") == pytest.approx(3920)
    assert duration_to_us("1.42s") == pytest.approx(1_420_000)
    assert duration_to_us("2.00m") == pytest.approx(120_000_000)
    with pytest.raises(ValueError):
        duration_to_us("fast")


def test_an_output_without_a_report_is_refused():
    with pytest.raises(ValueError):
        parse_wrk_output("unable to connect to 127.0.0.1:8102 Connection refused\n")


def test_parents_rank_only_offers_their_child_fits():
    parents = make_parents(500, OFFERS, REFERENCE, max_choices=3, rng=random.Random(1))
    ages = {offer.offer_id: offer for offer in OFFERS}
    assert len({parent.account for parent in parents}) == 500
    assert len({parent.child_id for parent in parents}) == 500
    for parent in parents:
        assert 1 <= len(parent.choices) <= 3
        assert len(set(parent.choices)) == len(parent.choices)
        for choice in parent.choices:
            offer = ages[choice]
            assert fits_age_range(parent.birth_date, REFERENCE, offer.min_age, offer.max_age)
    # Every age some offer takes is drawn: 7 to 17.
    assert {REFERENCE.year - p.birth_date.year - ((REFERENCE.month, REFERENCE.day) < (p.birth_date.month,
                                                                                         p.birth_date.day))
            for p in parents} == set(range(7, 18))


def test_the_mix_is_every_parent_once_plus_same_key_retries_and_new_key_double_clicks():
    attempts = plan_attempts(5000, random.Random(7), retry_share=0.10, double_click_share=0.05)
    counts = mix(attempts)
    assert counts[FIRST] == 5000
    assert 400 <= counts[RETRY] <= 600  # ~10 %
    assert 180 <= counts[DOUBLE_CLICK] <= 320  # ~5 %
    by_parent: dict[int, list[tuple[int, object]]] = defaultdict(list)
    for position, attempt in enumerate(attempts):
        by_parent[attempt.parent].append((position, attempt))
    assert set(by_parent) == set(range(5000))
    for placed in by_parent.values():
        (first_position, first), = [(p, a) for p, a in placed if a.kind == FIRST]
        for position, attempt in placed:
            if attempt.kind == RETRY:
                assert attempt.key == first.key and position > first_position
            elif attempt.kind == DOUBLE_CLICK:
                assert attempt.key != first.key and position > first_position
    assert len({a.key for a in attempts if a.kind != RETRY}) == counts[FIRST] + counts[DOUBLE_CLICK]
    # Arrivals are shuffled, not in account order.
    assert [a.parent for a in attempts if a.kind == FIRST][:50] != list(range(50))


def test_each_configuration_replays_the_same_crowd_with_its_own_keys():
    attempts = plan_attempts(400, random.Random(5), retry_share=0.3, double_click_share=0.3)
    first, second = rekey(attempts, "gthread-4x4"), rekey(attempts, "sync-4x1")
    assert [(a.parent, a.kind) for a in first] == [(a.parent, a.kind) for a in attempts]
    assert not {a.key for a in first} & {a.key for a in second}
    assert not {a.key for a in first} & {a.key for a in attempts}
    for derived in (first, second):
        keys = {(a.parent, a.kind): a.key for a in derived}
        for attempt in derived:
            if attempt.kind == RETRY:
                assert attempt.key == keys[(attempt.parent, FIRST)]
            elif attempt.kind == DOUBLE_CLICK:
                assert attempt.key != keys[(attempt.parent, FIRST)]
    assert rekey(attempts, "gthread-4x4") == first  # deterministic


def test_request_lines_repeat_the_exact_body_for_a_retry_and_map_choices_to_the_campaign():
    parents = make_parents(300, OFFERS, REFERENCE, 3, random.Random(3))
    attempts = plan_attempts(300, random.Random(4), retry_share=0.5, double_click_share=0.5)
    offer_ids = {offer.offer_id: f"id-{offer.offer_id}" for offer in OFFERS}
    tokens = [f"token-{n}" for n in range(300)]
    lines = request_lines(attempts, parents, tokens, "campaign-1", offer_ids)
    assert len(lines) == len(attempts)
    raw_by_key: dict[str, set[str]] = defaultdict(set)
    for attempt, line in zip(attempts, lines):
        token, key, body = parse_request_line(line)
        assert token == tokens[attempt.parent] and key == attempt.key
        assert body["campaign_id"] == "campaign-1" and body["sworn_statement"] is True
        assert body["child_id"] == str(parents[attempt.parent].child_id)
        assert body["choices"] == [offer_ids[c] for c in parents[attempt.parent].choices]
        raw_by_key[key].add(line.split("\t")[2])
    # Same key, same bytes: the idempotency fingerprint matches and the 202 is replayed.
    assert all(len(bodies) == 1 for bodies in raw_by_key.values())


def test_records_of_the_lua_script_give_counts_latencies_and_rates():
    thread_0 = ["m first_sent 1000000", "m last_answered 3000000", "m planned 6", "m sent 6", "m answered 6",
                *(f"r 202 {ms * 1000}" for ms in (10, 20, 30, 40)), "r 202-replay 5000", "r 409:already-applied 3000"]
    thread_1 = ["m first_sent 1500000", "m last_answered 5000000", "m planned 6", "m sent 5", "m answered 4",
                *(f"r 202 {ms * 1000}" for ms in (50, 60)), "r 503:intake-unavailable 90000", "r 429:intake-busy 1000"]
    records = parse_records(thread_1, parse_records(thread_0))
    stats = submission_stats(records)
    assert (stats.planned, stats.sent, stats.answered) == (12, 11, 10)
    assert (stats.unanswered, stats.not_sent) == (1, 1)
    assert stats.span_s == pytest.approx(4.0)  # first sent by thread 0 → last answer of thread 1
    assert stats.accepted == 6 and stats.replayed == 1
    assert stats.accepted_per_second == pytest.approx(1.5)
    assert stats.responses_per_second == pytest.approx(2.5)
    assert (stats.p50_ms, stats.p99_ms) == (30, 60)
    assert (stats.count_status(409), stats.count_status(429), stats.count_status(503)) == (1, 1, 1)
    assert stats.by_category["409:already-applied"] == 1
    assert stats.shed_p99_ms is None  # a 503 intake-unavailable is not a shed request


def test_shed_answers_have_their_own_latency_percentile():
    lines = ["m first_sent 1000000", "m last_answered 2000000", "m planned 4", "m sent 4", "m answered 4",
             "r 202 40000", *(f"r 503:intake-saturated {ms * 1000}" for ms in (3, 4, 90))]
    stats = submission_stats(parse_records(lines))
    assert stats.shed_p99_ms == 90 and stats.p99_ms == 40 and stats.count_status(503) == 3


def test_nearest_rank_percentiles():
    values = list(range(1, 101))
    assert percentile(values, 50) == 50
    assert percentile(values, 95) == 95
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile([7], 99) == 7
    assert percentile([], 50) is None


PERFORMANCE = """# Performance

Intro kept as it is.

## Allocation core

| campaign | seconds |
|---|---|
| 100,000 applications | 4.2 |

## Intake

old intake table
"""


def test_only_the_bench_sections_of_performance_md_are_replaced():
    updated = replace_sections(PERFORMANCE, {"Intake": "new intake table", "Public listing": "listing table"})
    parts = dict(sections(updated))
    assert "## Allocation core\n\n| campaign | seconds |\n|---|---|\n| 100,000 applications | 4.2 |\n" in updated
    assert parts["Intake"] == "## Intake\n\nnew intake table\n\n"
    assert "old intake table" not in updated
    assert parts["Public listing"].startswith("## Public listing\n\nlisting table")
    assert updated.startswith("# Performance\n\nIntro kept as it is.\n")
    assert [h for h, _ in sections(updated)] == [None, "Allocation core", "Intake", "Public listing"]
    # Running the bench again changes nothing more.
    assert replace_sections(updated, {"Intake": "new intake table", "Public listing": "listing table"}) == updated


def test_a_missing_performance_md_gets_a_title():
    created = replace_sections("", {"Intake": "table"})
    assert created.startswith("# Performance\n")
    assert created.endswith("## Intake\n\ntable\n")


METRICS = """\
# HELP guichet_campaigns_cache_reads_total Cached documents read, by cache and by the layer that served them
# TYPE guichet_campaigns_cache_reads_total counter
guichet_campaigns_cache_reads_total{cache="campaigns:public-catalogue",served_from="memory"} 9973.0
guichet_campaigns_cache_reads_total{cache="campaigns:public-catalogue",served_from="redis"} 12.0
guichet_campaigns_cache_reads_total{cache="campaigns:public-catalogue",served_from="database"} 6.0
guichet_campaigns_cache_reads_total{cache="other",served_from="database"} 50.0
guichet_http_requests_total{endpoint="/public/campaigns",method="GET",service="campaigns",status="200"} 9942.0
"""


def test_cache_counters_are_read_from_prometheus_text_and_give_the_share_served_from_cache():
    after = cache_reads(METRICS, "campaigns:public-catalogue")
    assert after == {"memory": 9973.0, "redis": 12.0, "database": 6.0}
    before = {"memory": 973.0, "database": 4.0}
    during = reads_between(before, after)
    assert during == {"database": 2.0, "memory": 9000.0, "redis": 12.0}
    assert cache_share(during) == pytest.approx(9012 / 9014)
    assert cache_share({}) is None


def test_gunicorn_configurations_are_parsed_and_a_threaded_sync_worker_refused():
    assert GunicornConfig.parse("gthread:4x4") == GunicornConfig("gthread", 4, 4)
    assert GunicornConfig.parse("sync:4").env() == {"GUICHET_WORKER_CLASS": "sync", "GUICHET_WORKERS": "4",
                                                    "GUICHET_THREADS": "1"}
    assert GunicornConfig.parse("gthread:2x8").label == "gthread, 2 workers × 8 threads"
    with pytest.raises(ValueError):
        GunicornConfig.parse("sync:4x4")  # gunicorn would silently run gthread
    with pytest.raises(ValueError):
        GunicornConfig.parse("gthread")


def test_bench_tokens_carry_the_dev_token_claims_and_verify(tmp_path):
    settings = replace(Settings.from_env("bench-test", {}), jwt_private_key_file=tmp_path / "private.pem",
                       jwt_public_key_file=tmp_path / "public.pem")
    tokens = mint_parent_tokens(settings, ["bench-family-000001", "bench-family-000002"])
    reference = jwt.decode(issue_token(settings, "family-x", ["parent"]), options={"verify_signature": False})
    verifier = TokenVerifier.from_file(settings.jwt_public_key_file, settings.jwt_issuer, settings.jwt_audience)
    for account, token in zip(["bench-family-000001", "bench-family-000002"], tokens):
        principal = verifier.verify(token)
        assert principal.subject == account and principal.roles == {"parent"}
        claims = jwt.decode(token, options={"verify_signature": False})
        assert claims.keys() == reference.keys()
        assert {k: claims[k] for k in ("iss", "aud", "roles")} == {k: reference[k] for k in ("iss", "aud", "roles")}
    assert len({jwt.decode(t, options={"verify_signature": False})["jti"] for t in tokens}) == 2


def test_cpu_accounting_from_proc_texts():
    # comm with spaces and parentheses, as /proc shows it
    stat = "4242 (gunicorn: worker (x)) S 4200 4242 4242 0 -1 4194560 1 0 0 0 150 30 0 0 20 0 1 0 100 0 0"
    assert parse_stat(stat) == (4200, 180)
    table = {1: (0, 5), 10: (1, 100), 11: (10, 40), 12: (11, 2), 20: (1, 7)}
    assert tree_ticks({"service": 10, "redis": 20, "gone": 99}, table) == {"service": 142, "redis": 7, "gone": 0}
    assert busy_ticks("cpu  100 5 50 1000 20 3 2 0 0 0\ncpu0 1 2 3 4\n") == 160



def test_the_open_loop_rate_is_half_of_what_bench_run_measured_for_gthread_2x8(tmp_path):
    results = tmp_path / "results.json"
    results.write_text(json.dumps([
        {"config": "gthread, 4 workers × 4 threads", "intake": {"accepted": 20000, "span_s": 20.0}},
        {"config": "gthread, 2 workers × 8 threads", "intake": {"accepted": 20000, "span_s": 40.0}},
    ]))
    capacity = capacity_from(results)
    assert capacity.config == "gthread, 2 workers × 8 threads"
    assert capacity.per_second == pytest.approx(500)
    args = shedding_args(["--half-of", str(results), "--write"])
    assert args.fraction == 0.5 and args.runs == HALF_OF_CAPACITY_RUNS
    with pytest.raises(ValueError, match="no run of sync, 4 workers"):
        capacity_from(results, "sync:4")
    with pytest.raises(SystemExit):
        shedding_args(["--rate", "100", "--write"])  # --write records only the figure at half of the capacity


def test_the_open_loop_section_gives_the_202_p99_and_the_stacks_cpu_per_202():
    results = [{"code": 202, "latency": (n + 1) * 1_000_000} for n in range(100)] + [{"code": 503, "latency": 1}]
    run = RunResult("gthread, 2 workers × 8 threads, INTAKE_MAX_IN_FLIGHT=none", results, service_cpu_s=0.2,
                    stack_cpu_s={"registrations": 0.2, "registrations-worker": 0.05, "kafka": 0.03, "postgres": 0.02,
                                 "redis": 0.01, "other": 0.5},
                    stack_seconds=10.0, ledger=LedgerStats(100, 50.0, 120.0, 130.0, 9.0))
    capacity = Capacity("gthread, 2 workers × 8 threads", 20000, 40.0, "2026-12-05 13:00 UTC")
    body = half_of_capacity_section([run], capacity, 250, shedding_args(["--half-of", "x.json"]),
                                    "python -m bench.shedding --half-of x.json", 0.5, 1.5, "abc1234")
    row = next(line for line in body.splitlines() if line.startswith("| gthread") and "**99.0**" in line)
    assert "| 100 | 1 |" in row and "50.0 / 120" in row  # 202s, 503s, the ledger's lag p50 / p99
    cpu_row = next(line for line in body.splitlines() if line.startswith("| gthread") and "**3.10**" in line)
    assert "| 2.00 | 0.50 | 0.30 | 0.20 | 0.10 |" in cpu_row and cpu_row.endswith("| 0.05 |")
    assert "250 submissions a second" in body and "500 a second" in body and "`abc1234`" in body


def test_shedding_run_names_its_bound_and_its_own_environment():
    config, bound, env = parse_run("gthread:2x8@0,GUICHET_SWITCH_INTERVAL_MS=1,KAFKA_LINGER_MS=2")
    assert (config.workers, config.threads, bound) == (2, 8, 0)
    assert env == {"GUICHET_SWITCH_INTERVAL_MS": "1", "KAFKA_LINGER_MS": "2"}
    assert parse_run("gthread:2x16@8")[1:] == (8, {})


def test_thread_report_splits_cpu_by_kind_of_thread_per_answer():
    from bench.cpu import CLOCK_TICKS

    before = {1: ThreadTicks(0, 0, 0, 0, "main"), 2: ThreadTicks(10, 0, 5, 1, "request")}
    after = {1: ThreadTicks(CLOCK_TICKS, 0, 100, 10, "main"), 2: ThreadTicks(10 + CLOCK_TICKS, CLOCK_TICKS, 105, 1, "request"),
             3: ThreadTicks(CLOCK_TICKS, 0, 50, 0, "sender")}  # a thread born during the run counts from zero
    per = thread_report(before, after, answered=1000)
    assert per["main"] == per["sender"] == 1.0 and per["request"] == 2.0
    assert (per["user"], per["system"]) == (3.0, 1.0)
    assert (per["voluntary"], per["involuntary"]) == (0.25, 0.01)


def test_registrations_threads_reads_every_thread_of_a_process_tree():
    import os
    import subprocess
    import sys
    import threading

    stop = threading.Event()
    waiting = threading.Thread(target=stop.wait)
    waiting.start()
    # a child of this process stands for a gunicorn worker (other tests' servers may be children too)
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        own = {int(task) for task in os.listdir(f"/proc/{os.getpid()}/task")}
        found = registrations_threads(os.getpid())
    finally:
        stop.set()
        waiting.join()
        worker.kill()
        worker.wait()
    assert os.getpid() in found and waiting.native_id in found
    assert {found[tid].kind for tid in own if tid in found} == {"master"}  # this process is the tree's root
    assert found[worker.pid].kind == "main"  # a worker's own main thread
