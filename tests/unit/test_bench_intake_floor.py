"""bench.intake_floor's pure parts: its arguments, the order of its runs, its table; and the floor app's WSGI answer
against a real Redis (REDIS_URL), the layer without the broker."""
from __future__ import annotations

import io
import json

import pytest

from bench.floor_app import FloorApp, enter_keys_and_args, parse_layers, submitted_record
from bench.intake_floor import ROWS, Run, hello_of, parse_args, run_line, run_order, summary_lines
from bench.stack import GunicornConfig
from shared.config import Settings
from shared.runtime import Runtime


def a_run(row: str, round_number: int, answered: int, span_s: float, served_cpu_s: float = 3.0, **parts) -> Run:
    return Run(row, round_number, answered, answered, span_s, served_cpu_s,
               {"kafka": 0.0, "redis": 0.0, "postgres": 0.0, "registrations-worker": 0.0, **parts},
               {"main": 0.1, "request": 1.2, "sender": 0.3, "voluntary": 12.0, "involuntary": 4.5}, 0.2, 0.05, 10.0, 30.0, 1.0, 2.0, 0)


def test_every_row_runs_by_default_under_bench_runs_best_configuration():
    args = parse_args([])
    assert args.rows == ["hello", "wsgi-redis", "wsgi-redis-kafka", "wsgi-redis-kafka-token", "intake"]
    assert "wsgi" in ROWS  # the bare WSGI call, on demand
    assert args.configs == [GunicornConfig("gthread", 2, 8)]
    assert (args.connections, args.rounds) == (64, 2)
    with pytest.raises(SystemExit):
        parse_args(["--rows", "flask"])
    with pytest.raises(SystemExit):
        parse_args(["--rounds", "0"])


def test_rows_alternate_round_by_round():
    order = run_order(["hello", "intake"], [GunicornConfig("gthread", 2, 8)], 3)
    assert [(r, row) for r, row, _ in order] == [(1, "hello"), (1, "intake"), (2, "intake"), (2, "hello"),
                                                (3, "hello"), (3, "intake")]


def test_a_row_is_compared_with_the_hello_world_of_its_round_and_configuration():
    assert hello_of("intake") == "hello"
    assert hello_of("intake gthread-2x8") == "hello gthread-2x8"
    runs = [a_run("hello", 1, 4000, 1.0), a_run("intake", 1, 500, 1.0, served_cpu_s=1.0, kafka=0.25),
            a_run("hello", 2, 2000, 1.0), a_run("intake", 2, 500, 1.0, served_cpu_s=1.5, kafka=0.25)]
    line = run_line(runs[1], 4000.0)
    cells = [cell.strip() for cell in line.strip("|").split("|")]
    assert cells[:7] == ["intake", "1", "500", "500", "500", "0.12", "2.00"]
    assert cells[10] == "12.0 / 4.5"  # context switches per answer
    assert cells[11] == "0.50" and cells[15] == "2.50"  # broker per 202; the served process and the stack per 202
    assert cells[16] == "0.40"  # wrk per answer
    summary = {line.split("|")[1].strip(): [c.strip() for c in line.strip("|").split("|")] for line in summary_lines(runs)}
    # Each round's own ratio (0.125 and 0.25), then the median of the two.
    assert summary["intake"][3] == "0.19"
    assert summary["intake"][4] == "2.50"  # median of 2.00 and 3.00 ms
    assert summary["hello"][3] == "1.00"


def test_layers_are_named_and_kafka_needs_redis():
    assert parse_layers("redis,kafka,token") == {"redis", "kafka", "token"}
    assert parse_layers("none") == frozenset()
    for wrong in ("", "flask", "kafka"):
        with pytest.raises(ValueError):
            parse_layers(wrong)


def test_the_floor_script_gets_as_many_keys_and_arguments_as_intakes_gate():
    choices = ["offer-a", "offer-b", "offer-c"]
    keys, args = enter_keys_and_args("family", "key", "campaign", "child", choices, "id")
    # intake's gate: 6 keys of its own, the guard's 3, two per choice; 8 arguments, the guard's 3, three per choice
    assert (len(keys), len(args)) == (6 + 3 + 2 * 3, 8 + 3 + 3 * 3)


def test_the_record_has_application_submitted_s_fields_and_size():
    body = {"campaign_id": "c" * 36, "child_id": "d" * 36, "choices": ["e" * 36] * 3, "sworn_statement": True}
    record = submitted_record("a" * 36, "family-000001", body, 7)
    assert record["type"] == "application.submitted"
    assert {"child", "household", "choices", "hold", "arrival_number", "acted_by_agent"} <= record["data"].keys()
    assert 800 < len(json.dumps(record, separators=(",", ":"))) < 1400


@pytest.fixture
def floor_redis(redis_url, redis_client):
    """The tests' own Redis (tests/conftest.py: the local stack's, or one started for the run), emptied first."""
    return redis_url, redis_client


def test_the_redis_floor_answers_202_with_the_request_id_and_runs_both_scripts(floor_redis):
    url, client = floor_redis
    runtime = Runtime(Settings(service_name="test", redis_url=url))
    app = FloorApp(parse_layers("redis"), runtime)
    body = json.dumps({"campaign_id": "c1", "child_id": "k1", "choices": ["o1", "o2"], "sworn_statement": True}).encode()
    answered = {}

    def start_response(status, headers):
        answered.update(status=status, headers=dict(headers))

    environ = {"PATH_INFO": "/applications", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": io.BytesIO(body), "HTTP_IDEMPOTENCY_KEY": "key-1", "HTTP_X_REQUEST_ID": "17"}
    answer = json.loads(b"".join(app(environ, start_response)))
    runtime.close()
    assert answered["status"] == "202 Accepted" and answered["headers"]["X-Request-ID"] == "17"
    assert client.get("floor:application:key-1:key-1") == answer["application_id"]
    assert client.get("floor:arrival:c1") == "1"
    assert client.get("floor:record:key-1") == '{"status":202}'  # the second script, after the "acknowledgement"
    assert client.exists(f"floor:pending:key-1:{answer['application_id']}")


def test_the_bare_floor_only_answers(floor_redis):
    url, client = floor_redis
    runtime = Runtime(Settings(service_name="test", redis_url=url))
    app = FloorApp(parse_layers("none"), runtime)
    body = json.dumps({"campaign_id": "c2", "child_id": "k2", "choices": ["o1"], "sworn_statement": True}).encode()
    environ = {"PATH_INFO": "/applications", "REQUEST_METHOD": "POST", "CONTENT_LENGTH": str(len(body)),
               "wsgi.input": io.BytesIO(body), "HTTP_IDEMPOTENCY_KEY": "key-2", "HTTP_X_REQUEST_ID": "3"}
    answered = {}
    b"".join(app(environ, lambda status, headers: answered.update(status=status)))
    runtime.close()
    assert answered["status"] == "202 Accepted"
    assert not list(client.scan_iter("floor:*"))  # no script ran
