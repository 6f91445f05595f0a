"""The fault tests' stack and surge (tests/faults/): registrations and allocation on private servers that a
test stops, kills and restarts, parents submitting and accepting during a surge, and the checks that
nothing was lost and nothing counted twice. The `fault_stack` fixture that builds it is in
tests/faults/conftest.py.

The registrations service, its worker and the allocation worker run as real processes (gunicorn,
python -m …, from the process catalogue), so a kill -9 is a real crash.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from sqlalchemy import create_engine, select

from deploy import catalogue
from deploy.catalogue import WebService
from deploy.local.run import gunicorn_argv, service_env, start_process
from deploy.local.servers import KafkaServer, PostgresServer, RedisServer
from services.allocation.store.tables import places
from services.registrations.domain.household import Child, Household
from services.registrations.store.households import save_household
from services.registrations.store.tables import applications, campaign_terms
from shared.config import Settings
from shared.devtokens import issue_token
from shared.events import make_event
from shared.kafka import Producer
from shared.topics import BILLING_FEED, CAMPAIGN_EVENTS
from tests.support.allocation import ACTIVITY_AHEAD
from tests.support.broker import events_on
from tests.support.registrations import campaign_snapshot, offer
from tests.support.workers import eventually


@dataclass
class FaultStack:
    kafka: KafkaServer
    postgres: PostgresServer
    redis: RedisServer
    settings: Settings
    env: dict
    service: WebService
    log_dir: Path
    processes: dict = field(default_factory=dict)

    def start_web(self):
        self.processes["web"] = start_process("registrations", gunicorn_argv(self.service),
                                              service_env(self.service, self.env), log_dir=self.log_dir)

    def start_worker(self, name: str = "registrations"):
        """`python -m services.<name>.worker`: the intake consumer and ledger, or the allocation worker."""
        process = catalogue.worker(name)
        self.processes[name] = start_process(process.name, process.argv(sys.executable), self.env,
                                             log_dir=self.log_dir)

    def kill_worker(self, name: str = "registrations"):
        os.killpg(self.processes[name].pid, signal.SIGKILL)
        self.processes[name].wait(timeout=10)

    def stop_all(self):
        for process in self.processes.values():
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout=30)
            except (ProcessLookupError, subprocess.TimeoutExpired):
                os.killpg(process.pid, signal.SIGKILL)

    def ready(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.service.url}/readyz", timeout=3) as response:
                return response.status == 200
        except (urllib.error.URLError, OSError):
            return False

    def ledger(self, campaign_id=None) -> dict[str, dict]:
        engine = create_engine(self.settings.database_url)
        query = select(applications.c.application_id, applications.c.child_id, applications.c.status,
                       applications.c.hold)
        if campaign_id is not None:
            query = query.where(applications.c.campaign_id == campaign_id)
        try:
            with engine.connect() as connection:
                return {str(r.application_id): {"status": r.status, "hold": r.hold, "child_id": r.child_id}
                        for r in connection.execute(query)}
        finally:
            engine.dispose()


@dataclass
class Surge:
    """Parents submitting while something breaks; each retries as the API tells it to (same key),
    then waits for the decision and accepts the place it is offered (again retrying as told)."""
    stack: FaultStack
    campaign: dict
    families: list
    outcomes: Counter = field(default_factory=Counter)
    accepted: dict = field(default_factory=dict)
    pointed_at: set = field(default_factory=set)  # applications a 409 already-applied named
    decided: Counter = field(default_factory=Counter)  # the statuses parents saw their applications reach
    confirmed: set = field(default_factory=set)  # applications whose acceptance was answered "confirmed"
    _lock: threading.Lock = field(default_factory=threading.Lock)

    unanswered: int = 0

    def run(self, threads: int = 6, deadline_seconds: float = 240.0) -> None:
        queue = list(self.families)
        deadline = time.monotonic() + deadline_seconds

        def parent_loop():
            while True:
                with self._lock:
                    if not queue:
                        return
                    account, child = queue.pop()
                self._submit_until_answered(account, child, deadline)

        workers = [threading.Thread(target=parent_loop) for _ in range(threads)]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()

    def _submit_until_answered(self, account: str, child, deadline: float) -> None:
        token = issue_token(self.stack.settings, account, ["parent"])
        key = uuid.uuid4().hex
        body = json.dumps({"campaign_id": str(self.campaign["campaign_id"]), "child_id": str(child),
                           "choices": [str(self.campaign["offers"][0]["offer_id"])],
                           "sworn_statement": True}).encode()
        while True:
            if time.monotonic() > deadline:
                with self._lock:
                    self.unanswered += 1
                return
            request = urllib.request.Request(f"{self.stack.service.url}/applications", data=body, method="POST",
                                             headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key,
                                                      "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=15) as response:
                    status, answer = response.status, json.loads(response.read())
            except urllib.error.HTTPError as error:
                status, answer = error.code, json.loads(error.read() or b"{}")
                retry_after = float(error.headers.get("Retry-After") or 0)
            except (urllib.error.URLError, OSError):
                status, answer, retry_after = 0, {}, 0.5
            with self._lock:
                self.outcomes[status] += 1
                if status == 202:
                    self.accepted[answer["application_id"]] = answer
                if answer.get("code") == "already-applied":
                    self.pointed_at.add(answer["existing_application"])
            if status == 202:
                return self._accept_when_offered(token, answer["application_id"], deadline)
            if answer.get("code") == "already-applied":
                return self._accept_when_offered(token, answer["existing_application"], deadline)
            if status in (202, 422) or (status == 409 and answer.get("code") != "idempotency-key-in-flight"):
                return
            time.sleep(min(max(retry_after, 0.2), 3.0))

    def _accept_when_offered(self, token: str, application_id: str, deadline: float) -> None:
        """Follow the application until allocation decides; accept an offered place."""
        headers = {"Authorization": f"Bearer {token}"}
        while True:
            if time.monotonic() > deadline:
                with self._lock:
                    self.unanswered += 1
                return
            status, answer, retry_after = self._call("GET", f"/applications/{application_id}", headers)
            if status == 200 and answer["status"] not in ("pending", "received"):
                break
            time.sleep(max(retry_after, 0.3))
        with self._lock:
            self.decided[answer["status"]] += 1
        if answer["status"] != "allocated":
            return
        headers["Idempotency-Key"] = uuid.uuid4().hex  # one answer, retried with the same key
        while time.monotonic() <= deadline:
            status, answer, retry_after = self._call("POST", f"/applications/{application_id}/accept", headers)
            if status == 200:
                assert answer["status"] == "confirmed", answer
                with self._lock:
                    self.confirmed.add(application_id)
                return
            if status not in (0, 409, 429, 503):
                raise AssertionError(f"accepting {application_id}: {status} {answer}")
            time.sleep(min(max(retry_after, 0.2), 3.0))
        with self._lock:
            self.unanswered += 1

    def _call(self, method: str, path: str, headers: dict) -> tuple[int, dict, float]:
        request = urllib.request.Request(f"{self.stack.service.url}{path}", method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=15) as response:
                return response.status, json.loads(response.read()), 0.0
        except urllib.error.HTTPError as error:
            return error.code, json.loads(error.read() or b"{}"), float(error.headers.get("Retry-After") or 0)
        except (urllib.error.URLError, OSError):
            return 0, {}, 0.5


def prepare_surge(stack: FaultStack, parents: int, capacity: int) -> Surge:
    snapshot = campaign_snapshot(mode="fcfs", offers=[offer(capacity=capacity, waitlist_limit=None, starts_on=ACTIVITY_AHEAD)],
                                 closes_in=timedelta(hours=2))
    producer = Producer(stack.settings)
    producer.send_event(CAMPAIGN_EVENTS.name, str(snapshot["campaign_id"]),
                        make_event("campaign.published", source="/tests/faults", subject="c", data=snapshot)).get(10)
    producer.close()
    engine = create_engine(stack.settings.database_url)
    families = []
    with engine.begin() as connection:
        for n in range(parents):
            account, child = f"family-{uuid.uuid4().hex[:10]}", Child(uuid.uuid4(), f"Enfant{n}", "Petit", date(2015, 1, 1))
            save_household(connection, Household(account, children=(child,)))
            families.append((account, child.child_id))
    engine.dispose()
    eventually(lambda: _campaign_known(stack, snapshot), timeout=60, what="campaign known to intake")
    return Surge(stack, snapshot, families)


def _campaign_known(stack: FaultStack, snapshot: dict) -> bool:
    engine = create_engine(stack.settings.database_url)
    try:
        with engine.connect() as connection:
            return connection.execute(select(campaign_terms.c.campaign_id).where(
                campaign_terms.c.campaign_id == snapshot["campaign_id"])).first() is not None
    finally:
        engine.dispose()


def assert_nothing_lost_nothing_twice(stack: FaultStack, surge: Surge, capacity: int) -> None:
    campaign_id = surge.campaign["campaign_id"]
    eventually(lambda: set(surge.accepted) <= set(stack.ledger(campaign_id)), timeout=120, interval=1,
               what="every 202 in the ledger")
    assert 500 not in surge.outcomes, f"a failure must be answered with 503/429 and Retry-After: {surge.outcomes}"
    assert surge.unanswered == 0, f"{surge.unanswered} parents still had no answer at the deadline"
    ledger = stack.ledger(campaign_id)
    # Nothing recorded that its parent cannot know of: each row was answered 202, or named by a 409.
    assert set(ledger) <= set(surge.accepted) | surge.pointed_at
    children = Counter(row["child_id"] for row in ledger.values())
    assert max(children.values()) == 1, "one application per child"
    assert {row["status"] for row in ledger.values()} <= {"allocated", "waitlisted", "confirmed"}
    held = sum(1 for row in ledger.values() if row["hold"]["kind"] == "held")
    assert held == min(capacity, len(surge.families)), "an fcfs offer must hold exactly its capacity"
    assert_places_confirmed_once(stack, surge, capacity)
    eventually(stack.ready, timeout=120, interval=1, what="the service ready again without a manual step")


def assert_places_confirmed_once(stack: FaultStack, surge: Surge, capacity: int) -> None:
    """Allocation gave exactly the offer's places, each accepted place is confirmed in the ledger and
    billed by exactly one registration.confirmed (a record relayed twice carries the same event id)."""
    campaign_id = surge.campaign["campaign_id"]
    assert surge.decided["allocated"] == min(capacity, len(surge.families)), surge.decided
    assert len(surge.confirmed) == surge.decided["allocated"]
    engine = create_engine(stack.settings.database_url)
    try:
        with engine.connect() as connection:
            live = connection.execute(select(places.c.application_id).where(
                places.c.campaign_id == campaign_id, places.c.state.in_(("offered", "accepted")))).scalars().all()
    finally:
        engine.dispose()
    assert {str(a) for a in live} == surge.confirmed, "the places allocation holds are the ones parents accepted"
    ledger = stack.ledger(campaign_id)
    assert {a for a, row in ledger.items() if row["status"] == "confirmed"} == surge.confirmed

    def confirmations() -> dict[str, set[str]] | None:
        event_ids: dict[str, set[str]] = {}
        for envelope in events_on(stack.settings, BILLING_FEED, "registration.confirmed"):
            if envelope["data"]["campaign_id"] == str(campaign_id):
                event_ids.setdefault(envelope["data"]["application_id"], set()).add(envelope["id"])
        return event_ids if set(event_ids) >= surge.confirmed else None

    event_ids = eventually(confirmations, timeout=120, interval=1, what="a registration.confirmed per accepted place")
    assert set(event_ids) == surge.confirmed
    assert all(len(ids) == 1 for ids in event_ids.values()), {a: ids for a, ids in event_ids.items() if len(ids) > 1}
