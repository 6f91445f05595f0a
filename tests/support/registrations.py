"""Helpers for tests that need registrations: campaign snapshots as campaigns publishes them, and a running
registrations service (its app and worker loops) with the calls a parent makes."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from services.registrations.domain.household import Child, Household
from services.registrations.store.households import save_household
from services.registrations.store.tables import applications, campaign_terms
from shared.events import make_event
from shared.kafka import Producer
from shared.runtime import Runtime
from shared.topics import CAMPAIGN_EVENTS
from shared.waiting import wait_until


def campaign_snapshot(mode: str = "lottery", opens_in: timedelta = timedelta(hours=-1),
                      closes_in: timedelta = timedelta(hours=1), offers: list[dict] | None = None) -> dict:
    now = datetime.now(UTC)
    return {
        "campaign_id": uuid.uuid4(), "version": 1, "title": "Paris Sport Vacances — test", "kind": "sport_vacances",
        "status": "open", "opens_at": now + opens_in, "closes_at": now + closes_in,
        "reference_date": date(2026, 2, 21), "max_choices": 3,
        "policy": {"mode": mode, "criteria": [], "reserved_shares": [], "lottery_weight_per_unsuccessful_year": 0,
                   "keep_siblings_together": False, "acceptance_delay_hours": 72},
        "offers": offers or [offer()],
    }


def offer(capacity: int = 16, waitlist_limit: int | None = 30, min_age: int = 7, max_age: int = 17,
          title: str = "Escalade — initiation", starts_on: date = date(2026, 3, 2)) -> dict:
    """Tests whose workers read the real clock pass `starts_on=ACTIVITY_AHEAD` (tests/support/allocation.py):
    deadlines and waitlists close before the activity starts."""
    return {"offer_id": uuid.uuid4(), "title": title, "site": "Centre sportif Jean Dame", "arrondissement": 2,
            "starts_on": starts_on, "ends_on": starts_on + timedelta(days=4), "min_age": min_age, "max_age": max_age,
            "capacity": capacity, "waitlist_limit": waitlist_limit, "tariffs_cents": [400 + 100 * n for n in range(10)]}


@dataclass
class RegistrationsUnderTest:
    settings: object
    runtime: Runtime
    client: object
    token_for: object

    def publish_campaign(self, snapshot: dict) -> dict:
        producer = Producer(self.settings)
        event = make_event("campaign.published", source="/tests", subject=f"campaigns/{snapshot['campaign_id']}",
                           data=snapshot)
        producer.send_event(CAMPAIGN_EVENTS.name, str(snapshot["campaign_id"]), event).get(timeout=10)
        producer.close()
        # 60 s: the first campaign of a test waits for the directory consumer to join its group, which a
        # loaded 2-core CI machine has been seen to take past 30 s.
        wait_until(lambda: self._has_terms(snapshot["campaign_id"]), timeout=60,
                   what="campaign terms in the directory")
        return snapshot

    def _has_terms(self, campaign_id) -> bool:
        with self.runtime.engine.connect() as connection:
            return connection.execute(select(campaign_terms.c.campaign_id)
                                      .where(campaign_terms.c.campaign_id == campaign_id)).first() is not None

    def family(self, birth_dates=(date(2015, 6, 1),), **facts) -> tuple[str, list[uuid.UUID]]:
        account = f"family-{uuid.uuid4().hex[:8]}"
        children = tuple(Child(uuid.uuid4(), f"Enfant{n}", "Durand", born) for n, born in enumerate(birth_dates))
        with self.runtime.engine.begin() as connection:
            save_household(connection, Household(account, children=children, **facts))
        return account, [c.child_id for c in children]

    def submit(self, account: str, campaign: dict, child_id, choices=None, key: str | None = "auto",
               headers_extra: dict | None = None, **extra):
        body = {"campaign_id": str(campaign["campaign_id"]), "child_id": str(child_id),
                "choices": [str(c) for c in (choices or [campaign["offers"][0]["offer_id"]])],
                "sworn_statement": True, **extra}
        headers = {"Authorization": f"Bearer {self.token_for('parent', account)}", **(headers_extra or {})}
        if key is not None:
            headers["Idempotency-Key"] = uuid.uuid4().hex if key == "auto" else key
        return self.client.post("/applications", json=body, headers=headers)

    def get(self, account: str, path: str):
        return self.client.get(path, headers={"Authorization": f"Bearer {self.token_for('parent', account)}"})

    def ledger(self) -> dict[str, str]:
        with self.runtime.engine.connect() as connection:
            return {str(r.application_id): r.status for r in connection.execute(select(applications))}
