"""A manager's client for the campaigns API, valid request bodies, a clock the test moves, and
reading back what reached the broker."""
from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import func, select

from services.campaigns.domain import parse_paris_datetime
from services.campaigns.store.tables import outbox
from shared.topics import CAMPAIGN_EVENTS
from tests.support.broker import events_on

BEFORE_OPENING = "2026-01-15T10:00"  # what the tests' clock says unless a test moves it
GRID = [100, 200, 300, 400, 500, 600, 700, 800, 900, 1000]


def paris(local: str) -> datetime:
    return parse_paris_datetime(local, "test")


class MovableClock:
    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, local: str) -> None:
        self.now = paris(local)

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def offer_body(**overrides) -> dict:
    return {"title": "Multisport", "site": "Gymnase Jean Dame", "arrondissement": 2, "starts_on": "2026-03-02",
            "ends_on": "2026-03-06", "min_age": 7, "max_age": 10, "capacity": 24, "waitlist_limit": 10,
            "tariffs_cents": GRID, **overrides}


def campaign_body(**overrides) -> dict:
    """A valid sport_vacances draft opening Monday 2 February 2026 at 00:01, Paris time."""
    return {"title": "Paris Sport Vacances — hiver 2026", "kind": "sport_vacances", "description": "Stages",
            "opens_at": "2026-02-02T00:01", "closes_at": "2026-02-27T23:59", "reference_date": "2026-03-02",
            "max_choices": 3, "policy": {"mode": "lottery"}, "offers": [offer_body()], **overrides}


@dataclass
class ManagerClient:
    client: object
    token: str

    def headers(self, etag: str | None = None, **extra: str) -> dict:
        headers = {"Authorization": f"Bearer {self.token}", **extra}
        if etag is not None:
            headers["If-Match"] = etag
        return headers

    def create(self, body: dict | None = None, key: str | None = None):
        return self.client.post("/campaigns", json=campaign_body() if body is None else body,
                                headers=self.headers(**{"Idempotency-Key": key or uuid.uuid4().hex}))

    def created(self, body: dict | None = None) -> dict:
        response = self.create(body)
        assert response.status_code == 201, response.json
        return response.json

    def get(self, campaign_id: str):
        return self.client.get(f"/campaigns/{campaign_id}", headers=self.headers())

    def write(self, method: str, path: str, etag: str | None, body: dict | None = None):
        return self.client.open(path, method=method, json=body, headers=self.headers(etag))

    def patch(self, campaign_id: str, etag: str | None, body: dict):
        return self.write("PATCH", f"/campaigns/{campaign_id}", etag, body)

    def act(self, campaign_id: str, action: str, etag: str | None, body: dict | None = None):
        return self.write("POST", f"/campaigns/{campaign_id}/{action}", etag, body)

    def published(self, body: dict | None = None) -> dict:
        draft = self.created(body)
        response = self.act(draft["id"], "publish", etag_of(draft))
        assert response.status_code == 200, response.json
        return response.json


def etag_of(campaign: dict) -> str:
    return f'"{campaign["version"]}"'


def outbox_events(engine, event_type: str | None = None) -> list[dict]:
    query = select(outbox.c.envelope).order_by(outbox.c.position)
    if event_type is not None:
        query = query.where(outbox.c.event_type == event_type)
    with engine.connect() as connection:
        return list(connection.execute(query).scalars())


def outbox_size(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(outbox)).scalar_one()


def campaign_events_on_broker(settings) -> list[dict]:
    """Every record on the campaign-events topic, read from the start up to its current end."""
    return events_on(settings, CAMPAIGN_EVENTS)
