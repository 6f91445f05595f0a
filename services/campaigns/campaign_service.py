"""Managers' use cases, one transaction each: load, check the version, apply the domain action,
save, record the event. A broken rule becomes a 422 here, and nowhere else."""
from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine

from services.campaigns import repository
from shared.clock import Clock
from services.campaigns.concurrency import stale_version
from services.campaigns.domain import Campaign, Offer, RuleViolation, clone_campaign, create_campaign, status_at
from services.campaigns.domain.cloning import new_uuid
from services.campaigns.repository import StoredCampaign
from services.campaigns.snapshots import change_event
from services.campaigns.tables import outbox
from shared.db import transaction
from shared.errors import NotFound, Unprocessable, field_error
from shared.outbox import record_event

# What a write does to a campaign: the next campaign, from the stored one and the time.
Action = Callable[[StoredCampaign, datetime], Campaign]


@contextmanager
def rules_as_problems() -> Iterator[None]:
    try:
        yield
    except RuleViolation as broken:
        raise Unprocessable(
            "The campaign would break the rules listed in errors; nothing was changed.",
            errors=[field_error(v.field, v.message, v.code) for v in broken.violations],
        ) from broken


class CampaignService:
    def __init__(self, engine: Engine, clock: Clock, on_change: Callable[[], None] = lambda: None):
        self.engine = engine
        self.clock = clock
        # Called after each committed change (the public listing drops its cached copy).
        self.on_change = on_change

    def get(self, campaign_id: str) -> StoredCampaign:
        with self.engine.connect() as connection:
            return _existing(connection, campaign_id)

    def find(self, now: datetime, kind: str | None = None, status: str | None = None) -> list[StoredCampaign]:
        with self.engine.connect() as connection:
            found = repository.list_campaigns(connection, kind=kind)
        # Status depends on the clock, so it is filtered here rather than in SQL; a city has tens of campaigns.
        return [stored for stored in found if status is None or status_at(stored.campaign, now) == status]

    def create(self, fields: Mapping[str, Any], offers: Sequence[Mapping[str, Any]]) -> StoredCampaign:
        with rules_as_problems():
            draft = create_campaign(id=new_uuid(), offers=tuple(new_offer(offer) for offer in offers), **fields)
        return self.add(draft)

    def clone(self, source_id: str, *, title: str | None = None, new_opens_at: datetime | None = None,
              shift_days: int | None = None, reference_date: date | None = None) -> StoredCampaign:
        source = self.get(source_id)
        with rules_as_problems():
            draft = clone_campaign(source.campaign, title=title, new_opens_at=new_opens_at,
                                   shift=None if shift_days is None else timedelta(days=shift_days),
                                   reference_date=reference_date)
        return self.add(draft)

    def add(self, campaign: Campaign) -> StoredCampaign | None:
        """Store a new campaign as it is (announced if already published); None if its id exists."""
        with transaction(self.engine) as connection:
            stored = repository.insert_campaign(connection, campaign)
            if stored is not None:
                self._announce(connection, None, stored, self.clock())
        if stored is not None:
            self.on_change()
        return stored

    def change(self, campaign_id: str, expected_version: int, action: Action) -> StoredCampaign:
        with transaction(self.engine) as connection:
            # Locked, and the time read after the lock: the scheduler announcing a close and a
            # manager extending it take turns, so each sees what the other did.
            stored = _existing(connection, campaign_id, lock=True)
            if stored.version != expected_version:
                raise stale_version(expected_version, stored.version)
            now = self.clock()
            with rules_as_problems():
                changed = action(stored, now)
            if changed == stored.campaign:
                return stored
            saved = repository.save_campaign(connection, stored, changed)
            self._announce(connection, stored.campaign, saved, now)
        self.on_change()
        return saved

    @staticmethod
    def _announce(connection: Connection, before: Campaign | None, after: StoredCampaign, now: datetime) -> None:
        event = change_event(before, after.campaign, after.version, now)
        if event is not None:
            record_event(connection, outbox, event, key=after.campaign.id)


def new_offer(fields: Mapping[str, Any]) -> Offer:
    return Offer(id=new_uuid(), **fields)


def _existing(connection: Connection, campaign_id: str, lock: bool = False) -> StoredCampaign:
    stored = repository.get_campaign(connection, campaign_id, lock=lock)
    if stored is None:
        raise NotFound(f"There is no campaign {campaign_id}.", code="campaign-not-found")
    return stored
