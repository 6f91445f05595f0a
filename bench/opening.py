"""An opening through the waiting room (issue 15), open loop at a multiple of intake's capacity:
`python -m bench.opening` (`make bench` runs it with `--write`).

    python -m bench.opening --write                          # capacity, then 3× it for 60 s, then the poll's cost
    python -m bench.opening --factor 3 --seconds 60 --deadline 240 --config gthread:2x16 --in-flight 8
    python -m bench.opening --rate 900 --seconds 30 --deadline 120  # a fixed crowd: runs comparable across loads
    python -m bench.opening --room-config gthread:2x8        # the room's own processes sized otherwise
    python -m bench.opening --shared-room                    # the room's requests to intake's processes (before)
    python -m bench.opening --direct                         # the crowd straight to gunicorn, no edge (before)
    python -m bench.opening --rate 1100 --ceiling 18000      # a fixed room ceiling too: runs comparable across loads
    python -m bench.opening --client-nice -10                # a diagnostic row: the crowd and the edge favoured

On a stack of its own (bench/stack.py, in .local/bench-opening/: Kafka, PostgreSQL, Redis, the registrations and
campaigns workers, registrations under deploy/gunicorn.conf.py with `--config` and `INTAKE_MAX_IN_FLIGHT`, and the
waiting room's joins and polls on registrations processes of their own, sized as `make run` and the Kubernetes
manifests deploy them (deploy/local/run.py, WAITING_ROOM_GUNICORN_ENV; `--shared-room`: on intake's processes, as
before they were deployed). The crowd reaches them through the edge, as families do (`make run`'s nginx,
deploy/local/servers/nginx.py, with its shedding: beyond the room's threads and intake's, nginx answers 503 itself;
`--direct`: straight to gunicorn, as before the edge shed):

1. **Capacity**, closed loop: vegeta (`go install github.com/tsenart/vegeta/v12@v12.13.0`) sends submissions to
   an open copy of Paris Sport Vacances without a room from `--capacity-workers` connections for
   `--capacity-seconds`, each request a distinct family; capacity = 202s a second.
2. **The opening**: a second copy, with its waiting room on and its pace's ceiling set to that capacity, opens;
   `--factor` × capacity families a second arrive for `--seconds` (open loop: bench/crowd/main.go, built with
   `go build`), each takes its place, asks again after the `poll_after_seconds` the server gives, and once
   admitted submits with its admission token (a 503 retried after Retry-After with the same key); families still
   waiting `--deadline` s after the first arrival give up (counted). Every 202's application is then looked for
   in registrations' ledger; the room's pace and admissions are sampled every second from Redis.
3. **The poll's cost** next to hello-world's, same stack, same settings (bench/waiting_room_poll.py).

Prints the sections (`--write`: replaces "Opening through the waiting room (issue 15)" and "Waiting room poll" in
docs/PERFORMANCE.md). Figures, never pass/fail. Everything it started is stopped at the end.
"""
from __future__ import annotations

import argparse
import bisect
import dataclasses
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from bench import waiting_room_poll
from bench.cpu import CpuMeter
from bench.report import ms, replace_sections, table
from bench.scenario import (
    INTAKE_SOURCE,
    mint_parent_tokens,
    offer_ages,
    open_intake_campaign,
    publish,
    ready_parents,
    save_households,
    wait_for_ledger,
    wait_until_registrations_knows,
)
from bench.shedding import attack, write_targets
from bench.stack import BenchStack, GunicornConfig
from bench.submissions import make_parents, submission_body
from bench.wrk import percentile
from deploy.local.run import WAITING_ROOM_GUNICORN_ENV
from deploy.local.servers import REPO

SECTION = "Opening through the waiting room (issue 15)"
PERFORMANCE = REPO / "docs" / "PERFORMANCE.md"
FOLDER = REPO / ".local" / "bench-opening"
CROWD_SOURCE = REPO / "bench" / "crowd" / "main.go"
ROOM_PROCESSES = "registrations-room"  # the room's own processes (unless --shared-room)
EDGE = "edge"  # nginx in front of them (unless --direct)
WINDOW_S = 5  # intake's rate is compared with the room's pace over windows this long
BURST_S = 2.0  # the room releases at most this many seconds of its pace at once (usecases/waiting_room.py)
POLL_LAG_S = 60  # the longest poll interval the room gives (domain/waiting_room.py, PollBudget.longest_seconds)
# The room's own processes as `make run` and the Kubernetes manifests size them (one process's worth here).
DEPLOYED_ROOM_CONFIG = (f"gthread:{WAITING_ROOM_GUNICORN_ENV['GUICHET_WORKERS']}x"
                        f"{WAITING_ROOM_GUNICORN_ENV['GUICHET_THREADS']}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", default="gthread:2x16", help="registrations' gunicorn configuration (make run's)")
    parser.add_argument("--in-flight", type=int, default=8, help="INTAKE_MAX_IN_FLIGHT (make run's)")
    parser.add_argument("--room-config", default=DEPLOYED_ROOM_CONFIG,
                        help="the gunicorn configuration of the room's own processes (default: as deployed, "
                             f"{DEPLOYED_ROOM_CONFIG})")
    parser.add_argument("--shared-room", action="store_true",
                        help="serve the room's joins and polls from intake's processes, as before the room had "
                             "processes of its own")
    parser.add_argument("--room-in-flight", type=int, default=None,
                        help="WAITING_ROOM_MAX_IN_FLIGHT (unset: as deployed on the room's own processes, the "
                             "service's default with --shared-room)")
    parser.add_argument("--polls-per-second", type=float, default=None,
                        help="WAITING_ROOM_POLLS_PER_SECOND, the room's poll budget (unset: the service's default)")
    parser.add_argument("--direct", action="store_true",
                        help="the crowd straight to gunicorn's ports, without the edge (as before it shed)")
    parser.add_argument("--edge-room-in-flight", type=int, default=None,
                        help="the edge's bound on requests passed to the room's processes (default: their threads)")
    parser.add_argument("--edge-room-polls-in-flight", type=int, default=None,
                        help="the edge's bound on polls passed to the room's processes, counted apart from joins "
                             "(default: their processes × the room's in-flight bound)")
    parser.add_argument("--edge-intake-in-flight", type=int, default=None,
                        help="the edge's bound on submissions passed to intake's processes (default: their threads; "
                             "0: none)")
    parser.add_argument("--capacity-seconds", type=int, default=15)
    parser.add_argument("--capacity-workers", type=int, default=8,
                        help="closed-loop connections measuring capacity (no more than the in-flight bound takes)")
    parser.add_argument("--factor", type=float, default=3.0, help="arrivals a second, as a multiple of capacity")
    parser.add_argument("--rate", type=int, default=None,
                        help="arrivals a second, fixed (instead of --factor × the capacity measured at the start, "
                             "which moves with the machine's load: runs at one rate are comparable)")
    parser.add_argument("--ceiling", type=int, default=None,
                        help="the room's pace ceiling, admissions a minute, fixed (instead of the capacity measured "
                             "at the start × 60)")
    parser.add_argument("--client-nice", type=int, default=None,
                        help="start the crowd and the edge under `nice -n N` (negative: favoured by the kernel): a "
                             "diagnostic, never the default row. In production the crowd is the families' own "
                             "machines and the ingress has cores of its own; on the bench's 2 shared cores they wait "
                             "for a CPU like the services, and their wait is in every latency. With the kernel's "
                             "autogroup on (/proc/sys/kernel/sched_autogroup_enabled), a nice only weighs against "
                             "the bench's own processes, not other sessions' work")
    parser.add_argument("--seconds", type=int, default=60, help="how long families arrive")
    parser.add_argument("--deadline", type=int, default=240, help="families still waiting then give up (s)")
    parser.add_argument("--poll-families", type=int, default=1000)
    parser.add_argument("--poll-seconds", type=float, default=12)
    parser.add_argument("--poll-connections", type=int, default=4,
                        help="fewer than the room's in-flight bound per process: the cost of answers, not refusals")
    parser.add_argument("--vegeta", default=shutil.which("vegeta") or str(Path.home() / "go" / "bin" / "vegeta"))
    parser.add_argument("--go", default=shutil.which("go") or "/usr/local/go/bin/go")
    parser.add_argument("--folder", type=Path, default=FOLDER)
    parser.add_argument("--seed", type=int, default=15)
    parser.add_argument("--write", action="store_true", help="replace this bench's sections in docs/PERFORMANCE.md")
    args = parser.parse_args(argv)
    if args.shared_room:
        args.room_config = None
    return args


def service_env(args: argparse.Namespace) -> dict[str, str]:
    env = {"INTAKE_MAX_IN_FLIGHT": str(args.in_flight)}
    if args.room_in_flight is not None:
        env["WAITING_ROOM_MAX_IN_FLIGHT"] = str(args.room_in_flight)
    if args.polls_per_second is not None:
        env["WAITING_ROOM_POLLS_PER_SECOND"] = str(args.polls_per_second)
    return env


def room_env(args: argparse.Namespace) -> dict[str, str]:
    """The room's own processes' environment: intake's, the room's in-flight bound as deployed (or `--room-in-flight`)."""
    bound = args.room_in_flight if args.room_in_flight is not None else \
        int(WAITING_ROOM_GUNICORN_ENV["WAITING_ROOM_MAX_IN_FLIGHT"])
    return {**service_env(args), "WAITING_ROOM_MAX_IN_FLIGHT": str(bound)}


def start_room_processes(stack: BenchStack, config: GunicornConfig, extra_env: dict[str, str]) -> str:
    """Registrations once more, on a port of its own, for the room's requests only (as the edge and the Ingress
    route them); its URL."""
    from bench.stack import wait_http
    from deploy.local.run import gunicorn_argv, waiting_room_service
    from deploy.local.run import service_env as run_env
    from deploy.local.servers import free_port

    service = waiting_room_service(free_port())
    stack._start(ROOM_PROCESSES, gunicorn_argv(service), run_env(service, {**stack.env, **config.env(), **extra_env}))
    wait_http(f"{service.url}/readyz", what=f"{ROOM_PROCESSES} (log: {stack.logs / ROOM_PROCESSES}.log)")
    return service.url


def start_edge(stack: BenchStack, args: argparse.Namespace, url: str, room_url: str) -> tuple[str, str]:
    """nginx in front of intake's and the room's processes, configured as `make run`'s edge (its shedding bounds at
    the processes' threads unless told otherwise); the URLs the crowd then uses: intake's and the room's ports."""
    from bench.stack import wait_http
    from deploy.local.run import WAITING_ROOM, WAITING_ROOM_PATHS
    from deploy.local.servers import free_port
    from deploy.local.servers.nginx import Route, nginx_argv, submissions_shedding, waiting_room_shedding, write_config

    intake_config = GunicornConfig.parse(args.config)
    room_config = GunicornConfig.parse(args.room_config) if args.room_config else intake_config
    room_bound = args.edge_room_in_flight or room_config.workers * room_config.threads
    intake_bound = args.edge_intake_in_flight
    if intake_bound is None:
        intake_bound = intake_config.workers * intake_config.threads
    intake_port, room_port = free_port(), free_port()
    polls_bound = args.edge_room_polls_in_flight or room_config.workers * room_settings(args)[0]
    room_shedding = waiting_room_shedding(room_bound, polls_bound)
    routes = [Route("registrations", intake_port, url.removeprefix("http://"), ((WAITING_ROOM_PATHS, WAITING_ROOM),),
                    shedding=submissions_shedding(intake_bound) if intake_bound else None),
              Route(WAITING_ROOM, room_port, room_url.removeprefix("http://"), shedding=room_shedding)]
    config = write_config(routes, args.folder / "edge", stack.logs)
    stack._start(EDGE, niced(args, nginx_argv(config)), stack.env)
    wait_http(f"http://127.0.0.1:{room_port}/readyz", what=f"the edge (log: {stack.logs / 'edge.log'})")
    return f"http://127.0.0.1:{intake_port}", f"http://127.0.0.1:{room_port}"


def niced(args: argparse.Namespace, argv: list[str]) -> list[str]:
    """`argv` under `nice -n --client-nice` when it is set (the crowd and the edge only)."""
    return argv if args.client_nice is None else ["nice", "-n", str(args.client_nice), *argv]


def room_settings(args: argparse.Namespace) -> tuple[int, float]:
    """The room's in-flight bound and poll budget the service runs with."""
    from services.registrations.settings import RegistrationsSettings

    defaults = RegistrationsSettings
    bound = int((room_env(args) if args.room_config else service_env(args)).get(
        "WAITING_ROOM_MAX_IN_FLIGHT", defaults.waiting_room_max_in_flight))
    return (bound,
            args.polls_per_second if args.polls_per_second is not None else defaults.waiting_room_polls_per_second)


def say(message: str) -> None:
    print(f"[opening {time.strftime('%H:%M:%S')}] {message}", flush=True)


# -- 1. capacity -----------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Capacity:
    per_second: float
    accepted: int
    answers: int
    shed: int
    p50_ms: float | None
    p99_ms: float | None
    seconds: float


def capacity_of(results: list[dict]) -> Capacity:
    """202s a second over the span from the first request to the last answer."""
    def at(result: dict) -> float:
        return datetime.fromisoformat(result["timestamp"]).timestamp()

    begin = min(at(r) for r in results)
    end = max(at(r) + r["latency"] / 1e9 for r in results)
    accepted = [r["latency"] / 1e6 for r in results if r["code"] == 202]
    span = max(end - begin, 1e-9)
    return Capacity(len(accepted) / span, len(accepted), len(results), sum(r["code"] == 503 for r in results),
                    percentile(accepted, 50), percentile(accepted, 99), span)


# -- 2. the opening --------------------------------------------------------------------------------------------

def publish_room_campaign(runtime, label: str, admissions_per_minute: int):
    """An open copy of Paris Sport Vacances with its waiting room on, admitting at most `admissions_per_minute`."""
    from services.campaigns.domain.cloning import clone_campaign
    from shared.clock import utc_now

    now = utc_now()
    draft = clone_campaign(INTAKE_SOURCE, new_opens_at=now.replace(microsecond=0),
                           title=f"{INTAKE_SOURCE.title} — bench {label}")
    draft = dataclasses.replace(draft, waiting_room=True, waiting_room_admissions_per_minute=admissions_per_minute)
    return publish(runtime, draft, now)


class RoomSampler(threading.Thread):
    """Every second: the room's pace (per minute) and its released places, read from Redis."""

    def __init__(self, client, campaign_id: str):
        super().__init__(daemon=True)
        from services.registrations.store.waiting_room import RoomStore

        self.client, self.key = client, RoomStore.keys(campaign_id)["room"]
        self.samples: list[tuple[float, float | None, int]] = []  # (epoch s, pace, released)
        self.halt = threading.Event()

    def run(self) -> None:
        while not self.halt.wait(1.0):
            pace, released = self.client.hmget(self.key, "pace", "released")
            self.samples.append((time.time(), float(pace) if pace is not None else None, int(released or 0)))


@dataclass(frozen=True)
class Opening:
    offered_per_second: float
    families: int
    answers: list[dict]
    started: float  # epoch s of the first arrival
    samples: list[tuple[float, float | None, int]]
    cores: dict[str, float]
    elapsed: float
    ceiling_per_minute: int
    in_ledger: int
    lost: int


def build_crowd(go: str, folder: Path) -> Path:
    binary = folder / "crowd"
    subprocess.run([go, "build", "-o", str(binary), str(CROWD_SOURCE)], check=True, cwd=REPO,
                   env={**os.environ, "CGO_ENABLED": "0"})
    return binary


def write_families(path: Path, campaign_id: str, parents, tokens: list[str], offer_ids: dict[str, str]) -> Path:
    with path.open("w") as out:
        for parent, token in zip(parents, tokens, strict=True):
            out.write(json.dumps({"token": token, "key": uuid.uuid4().hex,
                                  "body": submission_body(campaign_id, parent, offer_ids)}) + "\n")
    return path


def ledger_ids(runtime, campaign_id: str) -> set[str]:
    from services.registrations.store.tables import applications

    with runtime.engine.connect() as connection:
        rows = connection.execute(select(applications.c.application_id)
                                  .where(applications.c.campaign_id == uuid.UUID(campaign_id)))
        return {str(row[0]) for row in rows}


# -- the section -----------------------------------------------------------------------------------------------

def quantiles(values: list[float]) -> tuple[str, str, str]:
    return ms(percentile(values, 50)), ms(percentile(values, 99)), ms(max(values) if values else None)


@dataclass(frozen=True)
class AgainstRoom:
    ahead_of_room: int  # the most 202s ever counted beyond the places the room had released (0: never ahead)
    worst_202: float | None  # 202s in a window ÷ the room's pace over it (see below)
    worst_requests: float | None  # every submission intake received (retries after a 503 too), likewise
    windows: int
    above: int  # windows whose 202s exceed the tolerance


def intake_against_room(opening: Opening) -> AgainstRoom:
    """Intake's arrivals against the room. Cumulative: at each second's sample, the 202s of requests sent so far
    beside the places released so far (a family is admitted before it submits: never ahead). Over windows of
    WINDOW_S s from the first arrival: the submissions sent in the window ÷ the pace over it, the pace being the
    highest of the window and of the POLL_LAG_S before (an admitted family learns of it at its next poll, at
    most 60 s later); the tolerance is the room's burst (BURST_S of its pace released at once)."""
    started = opening.started
    submits = [r for r in opening.answers if r["k"] == "submit"]
    sent_202 = sorted(started + r["t"] / 1000 for r in submits if r["s"] == 202)
    ahead = max((bisect.bisect_right(sent_202, at) - released for at, _, released in opening.samples), default=0)
    accepted = Counter(int((r["t"] / 1000) // WINDOW_S) for r in submits if r["s"] == 202)
    received = Counter(int((r["t"] / 1000) // WINDOW_S) for r in submits)
    worst_202 = worst_requests = None
    above = 0
    for window in sorted(received):
        begin, end = started + window * WINDOW_S, started + (window + 1) * WINDOW_S
        paces = [pace for at, pace, _ in opening.samples if begin - POLL_LAG_S <= at < end and pace is not None]
        per_window = max(paces, default=float(opening.ceiling_per_minute)) / 60 * WINDOW_S
        worst_202 = max(worst_202 or 0.0, accepted[window] / per_window)
        worst_requests = max(worst_requests or 0.0, received[window] / per_window)
        above += accepted[window] > per_window * (1 + BURST_S / WINDOW_S)
    return AgainstRoom(max(ahead, 0), worst_202, worst_requests, len(received), above)


@dataclass(frozen=True)
class Learning:
    """How soon admitted families learned of it, from their answers: from a family's last "waiting" answer to its
    first "admitted" one; and from its release (the first of the room's per-second samples whose released cursor
    passed its rank, its rank being the cursor at its last waiting answer plus its position less one: ±1 s, and
    arrival tickets placed ahead of it since make it early, never late) to that answer."""
    waiting_to_admitted: list[float]  # seconds, one per family
    release_to_admitted: list[float]
    waited: int  # families told "waiting" at least once
    poll_refused_by_edge: int  # of them, with at least one poll refused by the edge


def learning(opening: Opening) -> Learning:
    started, samples = opening.started, opening.samples
    times = [at for at, _, _ in samples]
    by_family: dict[int, list[dict]] = {}
    for answer in sorted((r for r in opening.answers if r["k"] in ("join", "poll")), key=lambda r: r["t"]):
        by_family.setdefault(answer["f"], []).append(answer)
    late, lag, waited, refused = [], [], 0, 0
    for answers in by_family.values():
        waiting = [r for r in answers if r["s"] == 200 and r.get("state") == "waiting"]
        if not waiting:
            continue
        waited += 1
        refused += any(r["k"] == "poll" and r["s"] == 503 and r.get("edge") for r in answers)
        admitted = next((r for r in answers if r["s"] == 200 and r.get("state") == "admitted"), None)
        before = [r for r in waiting if admitted is not None and r["t"] < admitted["t"]]
        if not before:
            continue
        last = before[-1]
        late.append((admitted["t"] - last["t"]) / 1000)
        at = bisect.bisect_right(times, started + last["t"] / 1000) - 1
        if at < 0:
            continue
        rank = samples[at][2] + (last.get("pos") or 1) - 1
        released_at = next((when for when, _, released in samples[at:] if released > rank), None)
        if released_at is not None:
            lag.append(started + admitted["t"] / 1000 - released_at)
    return Learning(late, lag, waited, refused)


def seconds_quantiles(values: list[float]) -> str:
    return " / ".join("–" if v is None else f"{v:.1f}" for v in (percentile(values, q) for q in (50, 90, 99)))


def goal(text: str, value: float | None, bound: float) -> str:
    """The goal, and whether this run met it."""
    if value is None:
        return text
    return f"{text}: {'met' if value <= bound else '**not met**'}"


def offered_as(args: argparse.Namespace, capacity: Capacity) -> str:
    if args.rate is None:
        return f"{args.factor:g}× capacity"
    return f"a fixed `--rate`, {args.rate / max(capacity.per_second, 1e-9):.1f}× capacity"


def opening_section(preface: str, capacity: Capacity, opening: Opening, args: argparse.Namespace) -> str:
    answers = opening.answers
    by_kind: dict[str, list[dict]] = {}
    for answer in answers:
        by_kind.setdefault(answer["k"], []).append(answer)
    joins, polls, submits = by_kind.get("join", []), by_kind.get("poll", []), by_kind.get("submit", [])
    gave_up = len(by_kind.get("gave_up", []))
    fresh_202 = [r for r in submits if r["s"] == 202]
    admitted_families = len({r["f"] for r in submits})
    placed = [r for r in joins + polls if r["s"] == 200]
    shed = [r for r in answers if r["s"] == 503]
    beyond = placed + shed  # every answer that was a position (or an admission) or a refusal
    statuses = Counter((r["k"], r["s"]) for r in answers if r["k"] in ("join", "poll", "submit"))
    others = {f"{kind} {status or 'error'}": n for (kind, status), n in sorted(statuses.items())
              if not (status == 200 and kind in ("join", "poll")) and not (kind == "submit" and status in (202, 503))}
    arrivals_span = args.seconds
    last_answer = max((r["t"] + r["ms"] for r in answers if "ms" in r), default=0) / 1000
    paces = [s[1] for s in opening.samples if s[1] is not None]
    room_check = intake_against_room(opening)
    learned = learning(opening)
    poll_rate = len(polls) / max(last_answer, 1e-9)
    peak_polls = max(Counter(int(r["t"] // 1000) for r in polls).values(), default=0)
    cores = opening.cores
    room_bound, budget = room_settings(args)
    rows = [
        ("capacity, closed loop (step 1)", f"{capacity.per_second:.0f} 202s/s ({capacity.accepted:,} in "
         f"{capacity.seconds:.0f} s, {args.capacity_workers} connections; p50 {ms(capacity.p50_ms)} ms, p99 "
         f"{ms(capacity.p99_ms)} ms; {capacity.shed:,} shed)", ""),
        ("offered", f"{opening.offered_per_second:.0f} families/s for {arrivals_span} s = {opening.families:,} "
         f"families ({offered_as(args, capacity)}); room's ceiling {opening.ceiling_per_minute:,}/min", ""),
        ("the room's settings", f"poll budget {budget:g}/s (`WAITING_ROOM_POLLS_PER_SECOND`), joins and polls "
         f"served at once per process {room_bound} (`WAITING_ROOM_MAX_IN_FLIGHT`); joins and polls served by "
         + (f"processes of their own ({GunicornConfig.parse(args.room_config).label})" if args.room_config
            else "the same processes as intake"), ""),
        ("admitted submissions: 202 p50 / p99 / max ms", "{} / {} / {}".format(*quantiles([r["ms"] for r in fresh_202])),
         goal("p99 ≤ 300 ms", percentile([r["ms"] for r in fresh_202], 99), 300)),
        ("a position (join or poll) or a 503: p50 / p99 / max ms",
         "{} / {} / {}".format(*quantiles([r["ms"] for r in beyond])),
         goal("p99 ≤ 100 ms", percentile([r["ms"] for r in beyond], 99), 100)),
        ("  joins: p50 / p99 ms", "{} / {} ({:,})".format(*quantiles([r["ms"] for r in joins])[:2], len(joins)), ""),
        ("  polls: p50 / p99 ms", "{} / {} ({:,}; {:.0f}/s on average, {:,} in the busiest second)".format(
            *quantiles([r["ms"] for r in polls])[:2], len(polls), poll_rate, peak_polls), ""),
        ("  by who answered: room's 200s / edge's 503s / the processes' 503s, p50 / p99 ms", " ; ".join(
            "{} / {} ({:,})".format(*quantiles([r["ms"] for r in group])[:2], len(group)) for group in (
                placed, [r for r in beyond if r["s"] == 503 and r.get("edge")],
                [r for r in beyond if r["s"] == 503 and not r.get("edge")])), ""),
        ("  503s (any kind): p50 / p99 ms", "{} / {} ({:,}: {})".format(
            *quantiles([r["ms"] for r in shed])[:2], len(shed),
            ", ".join(f"{kind} {n:,}" for kind, n in sorted(Counter(r["k"] for r in shed).items())) or "none"), ""),
        ("admitted families learned of it after their last waiting answer: p50 / p90 / p99 s",
         f"{seconds_quantiles(learned.waiting_to_admitted)} ({len(learned.waiting_to_admitted):,} families; "
         f"{learned.poll_refused_by_edge:,} of the {learned.waited:,} that waited had a poll refused by the edge)", ""),
        ("  after their place's release (±1 s): p50 / p90 / p99 s", seconds_quantiles(learned.release_to_admitted),
         ""),
        ("202s", f"{len(fresh_202):,} (of {admitted_families:,} admitted families; {gave_up:,} families still "
         f"waiting at {args.deadline} s gave up)", ""),
        ("202s not in the ledger afterwards", f"**{opening.lost}** ({opening.in_ledger:,} rows)",
         goal("0", opening.lost, 0)),
        ("202s ever ahead of the places the room released", f"{room_check.ahead_of_room}", goal("0", room_check.ahead_of_room, 0)),
        ("intake's 202s ÷ the room's pace, worst 5 s window",
         f"{room_check.worst_202:.2f} ({room_check.above} of {room_check.windows} windows above "
         f"{1 + BURST_S / WINDOW_S:.1f})" if room_check.worst_202 is not None else "–",
         goal(f"≤ {1 + BURST_S / WINDOW_S:.1f} (the 2 s burst)", room_check.worst_202, 1 + BURST_S / WINDOW_S)),
        ("every submission intake received (503s' retries too) ÷ the room's pace, worst 5 s window",
         f"{room_check.worst_requests:.2f}" if room_check.worst_requests is not None else "–", ""),
        ("room's pace (per minute): min / median / last",
         f"{min(paces):.0f} / {sorted(paces)[len(paces) // 2]:.0f} / {paces[-1]:.0f}" if paces else "–", ""),
        ("other answers", ", ".join(f"{name} × {n:,}" for name, n in others.items()) or "none", ""),
        ("  503s answered by the edge (nginx) / by the processes",
         f"{sum(1 for r in shed if r.get('edge')):,} / {sum(1 for r in shed if not r.get('edge')):,}", ""),
        ("cores busy (registrations [+ the room's processes] / its worker / edge / crowd / Kafka+PostgreSQL+Redis / "
         "rest of the machine)",
         f"{cores.get('registrations', 0):.2f}"
         + (f" + {cores.get(ROOM_PROCESSES, 0):.2f}" if ROOM_PROCESSES in cores else "")
         + f" / {cores.get('registrations-worker', 0):.2f} / {cores.get(EDGE, 0):.2f} / "
         f"{cores.get('crowd', 0):.2f} / "
         f"{sum(cores.get(n, 0) for n in ('kafka', 'postgres', 'redis')):.2f} / {cores.get('other', 0):.2f}", ""),
    ]
    room_shape = (f"the room's joins and polls go to registrations processes of their own, "
                  f"{GunicornConfig.parse(args.room_config).label} (as deployed: deploy/local/run.py, "
                  "deploy/kubernetes/base/registrations-room.yaml)" if args.room_config
                  else "the room's joins and polls go to the same processes as the submissions (`--shared-room`)")
    edge = ("The crowd goes through the edge, as families do: nginx as `make run` configures it "
            "(deploy/local/servers/nginx.py), which answers 503 itself beyond "
            f"{args.edge_room_in_flight or 'the threads of'} the room's processes' requests in flight and "
            f"{args.edge_intake_in_flight if args.edge_intake_in_flight is not None else 'the threads of'} intake's "
            "submissions'." if not args.direct else "The crowd goes straight to gunicorn's ports (`--direct`), no edge.")
    if args.client_nice is not None:
        edge += (f" **A diagnostic run: the crowd and the edge ran under `nice -n {args.client_nice}`** (`--client-nice`), "
                 "so that the kernel gave them a CPU before the services: in production the crowd is the families' own "
                 "machines and the ingress has cores of its own; never the default row.")
    ceiling_source = (f"the pace's ceiling fixed at {args.ceiling:,} a minute (`--ceiling`)" if args.ceiling
                      else "the pace's ceiling set to that capacity")
    return f"""{preface}

{edge} Issue 15's crowd, open loop. Registrations runs under `deploy/gunicorn.conf.py`, {GunicornConfig.parse(args.config).label},
`INTAKE_MAX_IN_FLIGHT={args.in_flight}` (as `make run`), with its worker, Kafka, PostgreSQL and Redis of the bench's
own on the same machine; {room_shape}. First intake's capacity is measured (vegeta, closed loop, a campaign without a room).
Then a copy of Paris Sport Vacances with its waiting room on, {ceiling_source}, opens and
families arrive at {offered_as(args, capacity)} for {args.seconds} s, whatever the answers' pace (bench/crowd/main.go,
a Go program: one goroutine per family, at most 512 connections, as an ingress's upstream pool). Each family takes its place, asks
again after the `poll_after_seconds` the server gives, and once admitted submits with its admission token and its
own Idempotency-Key (a 503 is retried after its Retry-After with the same key). Latencies are the client's, from
sending the request to the whole answer. Every 202's application id is then looked for in registrations' ledger
(`registrations.applications`). The room's pace and released places are read from Redis every second. Intake's
202s are compared with them twice: cumulatively (never more 202s than places released), and over 5 s windows
against the room's highest pace in the window and the 60 s before it (an admitted family learns of it at its next
poll, at most 60 s later), the tolerance being the room's burst (it releases at most 2 s of its pace at once).

{table(["measure", "this run", "goal"], rows)}

The poll's cost next to hello-world's, same stack and settings, is in "Waiting room poll" (same run); the runs
before and after the room's fast path and poll budget, and with the room on processes of its own, are compared in
"Load shedding", "Through the waiting room (issue 15)"."""


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    command = "python -m bench.opening " + " ".join(argv if argv is not None else sys.argv[1:])
    config = GunicornConfig.parse(args.config)
    stack = BenchStack(args.folder)
    runtime = None
    load_before = os.getloadavg()[0]
    try:
        env = stack.start()
        from shared.config import Settings
        from shared.runtime import Runtime

        settings = Settings.from_env("bench", env)
        runtime = Runtime(settings)
        crowd_binary = build_crowd(args.go, args.folder)
        first = open_intake_campaign(stack, runtime, "capacity")
        rng_seed = args.seed
        capacity_families = args.capacity_seconds * 400
        parents = make_parents(capacity_families, offer_ages(first), first.reference_date, first.max_choices,
                               random.Random(rng_seed))
        tokens = ready_parents(runtime, settings, parents)
        url = stack.start_service("registrations", config, service_env(args))

        say(f"capacity: closed loop, {args.capacity_workers} connections, {args.capacity_seconds} s")
        targets = write_targets(args.folder / "capacity-targets.jsonl", url, str(first.id), parents, tokens, "cap")
        capacity = capacity_of(attack(args.vegeta, targets, 0, args.capacity_seconds,
                                      args.folder / "capacity-results.jsonl", max_workers=args.capacity_workers))
        say(f"capacity {capacity.per_second:.0f}/s (p99 {ms(capacity.p99_ms)} ms)")

        rate = args.rate if args.rate is not None else round(args.factor * capacity.per_second)
        families = rate * args.seconds
        ceiling = args.ceiling or max(1, round(capacity.per_second * 60))
        room = publish_room_campaign(runtime, "opening", ceiling)
        wait_until_registrations_knows(runtime, str(room.id))
        everyone = make_parents(capacity_families + families, offer_ages(first), first.reference_date,
                                first.max_choices, random.Random(rng_seed))[capacity_families:]
        say(f"{families:,} families: households and tokens")
        save_households(runtime, everyone)
        room_tokens = mint_parent_tokens(settings, [parent.account for parent in everyone])
        offer_ids = {str(a.id): str(b.id) for a, b in zip(first.offers, room.offers, strict=True)}
        family_file = write_families(args.folder / "families.jsonl", str(room.id), everyone, room_tokens, offer_ids)

        room_url = url
        if args.room_config:
            room_url = start_room_processes(stack, GunicornConfig.parse(args.room_config), room_env(args))
        crowd_url, crowd_room_url = (url, room_url) if args.direct else start_edge(stack, args, url, room_url)
        say(f"opening: {rate}/s for {args.seconds} s, ceiling {ceiling}/min, the room at {room_url}, the crowd to "
            f"{crowd_url} and {crowd_room_url}")
        sampler = RoomSampler(runtime.redis, str(room.id))
        sampler.start()
        answers_file = args.folder / "crowd-answers.jsonl"
        children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
        with answers_file.open("wb") as out:
            crowd = subprocess.Popen(niced(args, [
                str(crowd_binary), "-url", crowd_url, "-room-url", crowd_room_url, "-campaign", str(room.id),
                "-families", str(family_file), "-rate", str(rate), "-seconds", str(args.seconds),
                "-deadline", str(args.deadline)]), stdout=out)
            meter = CpuMeter(stack.process_roots)
            meter.start()
            started = time.monotonic()
            crowd.wait()
            elapsed = time.monotonic() - started
            cores = meter.stop()
        # The crowd has exited when the meter stops (its /proc entry is gone): its CPU is the children's reaped since.
        children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
        crowd_cores = ((children_after.ru_utime + children_after.ru_stime) -
                       (children_before.ru_utime + children_before.ru_stime)) / elapsed
        cores = {**cores, "crowd": crowd_cores, "other": max(0.0, cores.get("other", 0.0) - crowd_cores)}
        sampler.halt.set()
        sampler.join()
        (args.folder / "room-samples.json").write_text(json.dumps(sampler.samples))
        lines = [json.loads(line) for line in answers_file.read_text().splitlines() if line.strip()]
        start = next(line for line in lines if line["k"] == "start")
        answers = [line for line in lines if line["k"] != "start"]
        accepted = {r["app"] for r in answers if r["k"] == "submit" and r["s"] == 202}
        say(f"{len(accepted):,} 202s; waiting for the ledger")
        wait_for_ledger(runtime, str(room.id), len(accepted), timeout=180)
        in_ledger = ledger_ids(runtime, str(room.id))
        opening = Opening(rate, families, answers, start["t"] / 1000, sampler.samples, cores, elapsed, ceiling,
                          len(in_ledger), len(accepted - in_ledger))

        say("the poll's cost next to hello-world's")
        poll = waiting_room_poll.measure(stack, env, settings, config, url, args.poll_families, args.poll_seconds,
                                         args.poll_connections)
        preface = waiting_room_poll.run_preface(command.strip(), load_before)
        texts = {SECTION: opening_section(preface, capacity, opening, args),
                 waiting_room_poll.SECTION: waiting_room_poll.section(poll, preface)}
        for heading, text in texts.items():
            print(f"\n## {heading}\n\n{text}")
        if args.write:
            PERFORMANCE.write_text(replace_sections(PERFORMANCE.read_text(), texts))
            say(f"wrote {', '.join(texts)} in {PERFORMANCE}")
    finally:
        if runtime is not None:
            runtime.close()
        stack.close()


if __name__ == "__main__":
    main()
