"""bench/opening.py's pure helpers (no load, no timing): capacity from vegeta's answers, intake against the room,
the room's shape."""
from bench.opening import Opening, capacity_of, intake_against_room, parse_args, room_env, room_settings
from deploy.local.run import WAITING_ROOM_GUNICORN_ENV


def opening(answers, samples, ceiling=600) -> Opening:
    return Opening(offered_per_second=30, families=100, answers=answers, started=1000.0, samples=samples, cores={},
                   elapsed=60, ceiling_per_minute=ceiling, in_ledger=0, lost=0)


def submit(at_ms: float, status: int = 202) -> dict:
    return {"f": 0, "k": "submit", "t": at_ms, "ms": 10.0, "s": status}


def test_capacity_counts_202s_over_the_span_from_the_first_request_to_the_last_answer():
    results = [{"code": 202, "timestamp": "2026-12-04T18:00:00+00:00", "latency": 500_000_000},
               {"code": 202, "timestamp": "2026-12-04T18:00:01+00:00", "latency": 1_000_000_000},
               {"code": 503, "timestamp": "2026-12-04T18:00:01.500000+00:00", "latency": 1_000_000}]

    capacity = capacity_of(results)

    assert capacity.accepted == 2 and capacity.shed == 1 and capacity.answers == 3
    assert capacity.seconds == 2.0 and capacity.per_second == 1.0


def test_202s_within_the_places_released_and_the_pace_are_never_ahead():
    # 10 a second released (600 a minute), intake's 202s a little behind them.
    samples = [(1000.0 + s, 600.0, 10 * s) for s in range(1, 31)]
    answers = [submit(100 * n + 150) for n in range(240)]  # 10 a second from 0.15 s to 24.05 s

    check = intake_against_room(opening(answers, samples))

    assert check.ahead_of_room == 0 and check.above == 0
    assert check.worst_202 == 1.0 and check.windows == 5


def test_202s_beyond_the_places_released_and_the_burst_are_counted():
    samples = [(1000.0 + s, 120.0, 2 * s) for s in range(1, 31)]  # 2 a second released
    answers = [submit(50 * n) for n in range(100)] + [submit(1000, status=503)]  # 20 a second accepted

    check = intake_against_room(opening(answers, samples))

    assert check.ahead_of_room > 0 and check.above == check.windows == 1
    assert check.worst_202 == 10.0 and check.worst_requests > check.worst_202


def test_the_room_runs_on_processes_of_its_own_sized_as_deployed_unless_asked_to_share_intakes():
    deployed = parse_args([])
    assert deployed.room_config == (f"gthread:{WAITING_ROOM_GUNICORN_ENV['GUICHET_WORKERS']}x"
                                    f"{WAITING_ROOM_GUNICORN_ENV['GUICHET_THREADS']}")
    bound = int(WAITING_ROOM_GUNICORN_ENV["WAITING_ROOM_MAX_IN_FLIGHT"])
    assert room_env(deployed)["WAITING_ROOM_MAX_IN_FLIGHT"] == str(bound) and room_settings(deployed)[0] == bound
    assert room_settings(parse_args(["--room-in-flight", "6"]))[0] == 6
    assert parse_args(["--shared-room"]).room_config is None


def test_only_a_diagnostic_run_favours_the_crowd_and_the_edge_and_a_ceiling_is_fixed_only_when_asked():
    from bench.opening import niced

    assert niced(parse_args([]), ["crowd", "-rate", "1"]) == ["crowd", "-rate", "1"]
    assert niced(parse_args(["--client-nice", "-10"]), ["nginx"]) == ["nice", "-n", "-10", "nginx"]
    assert parse_args([]).ceiling is None and parse_args(["--ceiling", "18000"]).ceiling == 18000
