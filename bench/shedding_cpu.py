"""The CPU one shed submission costs registrations' process, refused before Flask (web/parents/shedding.py) or by
the view's decorator after Flask's hooks (as before): `python -m bench.shedding_cpu`.

    python -m bench.shedding_cpu --requests 3000 --rounds 5

Builds registrations' app in this process (`create_app`, from the environment: the servers are only connected
to, a shed request touches none of them), fills its `InFlight` bound, and sends prepared WSGI environs of a
parent's `POST /applications` (token, Idempotency-Key, a real body) straight to the app, alternating the two
paths round by round. CPU time of the sending thread per answer (`time.thread_time`): what the refusal takes
from the interpreter the submissions being served need, whatever else runs on the machine. Never pass/fail.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import time
import uuid

from werkzeug.test import EnvironBuilder

from services.registrations.app import create_app
from services.registrations.bootstrap import RegistrationsComponents


def environs(count: int) -> list[dict]:
    body = json.dumps({"campaign_id": str(uuid.uuid4()), "child_id": str(uuid.uuid4()),
                       "choices": [str(uuid.uuid4()), str(uuid.uuid4())], "sworn_statement": True})
    headers = {"Authorization": "Bearer " + "x" * 900, "Content-Type": "application/json",
               "Idempotency-Key": uuid.uuid4().hex, "X-Request-ID": uuid.uuid4().hex}
    return [EnvironBuilder(path="/applications", method="POST", data=body, headers=headers).get_environ()
            for _ in range(count)]


def cpu_per_answer(wsgi, prepared: list[dict]) -> float:
    statuses = set()

    def start_response(status, headers, exc_info=None):
        statuses.add(status[:3])

    started = time.thread_time()
    for environ in prepared:
        b"".join(wsgi(environ, start_response))
    spent = time.thread_time() - started
    assert statuses == {"503"}, statuses
    return spent / len(prepared) * 1e6


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    options = parser.parse_args(argv)
    app = create_app()
    in_flight = app.extensions[RegistrationsComponents.extension].intake.in_flight
    in_flight.limit = 1
    in_flight.enter()  # the bound is full: every submission below is shed
    paths = {"before Flask (WSGI middleware)": app.wsgi_app, "in the view's decorator (after Flask's hooks)":
             app.wsgi_app.app}
    for wsgi in paths.values():
        cpu_per_answer(wsgi, environs(200))  # warm-up
    results: dict[str, list[float]] = {name: [] for name in paths}
    for _ in range(options.rounds):
        for name, wsgi in paths.items():
            results[name].append(cpu_per_answer(wsgi, environs(options.requests)))
    print(f"\n{options.rounds} rounds of {options.requests} shed submissions each, alternated; load average (1 min) "
          f"{os.getloadavg()[0]:.1f} at the end\n")
    print("| shed where | CPU µs per answer, median of the rounds (least) |")
    print("|---|---|")
    for name, values in results.items():
        print(f"| {name} | {statistics.median(values):.0f} ({min(values):.0f}) |")


if __name__ == "__main__":
    main()
