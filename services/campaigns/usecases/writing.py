"""The one transaction every manager write runs in: load the campaign (locked), check the version the
manager read, apply a domain action, save, record the `campaign.*` event in the outbox. Each use case
module (create, edit, offers, publish, window, clone) says which action."""
from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from services.campaigns.domain import Campaign, CampaignNotFound, Offer, StaleVersion, status_at
from services.campaigns.domain.cloning import new_uuid
from services.campaigns.store import repository
from services.campaigns.store.audit import record_campaign_change
from services.campaigns.store.repository import StoredCampaign
from services.campaigns.store.snapshots import change_event
from services.campaigns.store.tables import outbox
from shared.audit import Actor
from shared.clock import Clock
from shared.db import transaction
from shared.outbox import record_event

# What a write does to a campaign: the next campaign, from the stored one and the time.
Action = Callable[[StoredCampaign, datetime], Campaign]

# Who a write is attributed to when its caller names nobody (the demo loader, a script): the service itself.
# The manager API names the principal, the worker's use cases `system:<worker>` (docs/audit.md).
SYSTEM = Actor.system("campaigns")


class CampaignWriter:
    def __init__(self, engine: Engine, clock: Clock, on_change: Callable[[], None] = lambda: None):
        self.engine = engine
        self.clock = clock
        # Called after each committed change (the public catalogue drops its cached copy).
        self.on_change = on_change

    def get(self, campaign_id: str) -> StoredCampaign:
        with self.engine.connect() as connection:
            return existing(connection, campaign_id)

    def find(self, now: datetime, kind: str | None = None, status: str | None = None) -> list[StoredCampaign]:
        with self.engine.connect() as connection:
            found = repository.list_campaigns(connection, kind=kind)
        # Status depends on the clock, so it is filtered here rather than in SQL; a city has tens of campaigns.
        return [stored for stored in found if status is None or status_at(stored.campaign, now) == status]

    def add(self, campaign: Campaign, *, actor: Actor = SYSTEM, what: str = "campaign.create") -> StoredCampaign | None:
        """Store a new campaign as it is (announced if already published); None if its id exists."""
        with transaction(self.engine) as connection:
            stored = repository.insert_campaign(connection, campaign)
            if stored is not None:
                now = self.clock()
                self._announce(connection, None, stored, now)
                record_campaign_change(connection, actor, what, campaign.id, None, campaign, now)
        if stored is not None:
            self.on_change()
        return stored

    def change(self, campaign_id: str, expected_version: int, action: Action, *, actor: Actor = SYSTEM,
               what: str = "campaign.change") -> StoredCampaign:
        with transaction(self.engine) as connection:
            # Locked, and the time read after the lock: the scheduler announcing a close and a
            # manager extending it take turns, so each sees what the other did.
            stored = existing(connection, campaign_id, lock=True)
            if stored.version != expected_version:
                raise StaleVersion(expected_version, stored.version)
            now = self.clock()
            changed = action(stored, now)
            if changed == stored.campaign:
                return stored
            saved = repository.save_campaign(connection, stored, changed)
            self._announce(connection, stored.campaign, saved, now)
            record_campaign_change(connection, actor, what, campaign_id, stored.campaign, changed, now)
        self.on_change()
        return saved

    def change_latest(self, campaign_id: str, action: Action, *, actor: Actor = SYSTEM,
                      what: str = "campaign.change") -> StoredCampaign:
        """`change` on whatever version is stored: for actions that do not depend on what a manager read
        (archiving, the draw's publication), and give the same campaign back when repeated."""
        with transaction(self.engine) as connection:
            version = existing(connection, campaign_id).version
        try:
            return self.change(campaign_id, version, action, actor=actor, what=what)
        except StaleVersion:
            # Another write came between the read and the lock: apply the action to the newer version.
            return self.change_latest(campaign_id, action, actor=actor, what=what)

    @staticmethod
    def _announce(connection: Connection, before: Campaign | None, after: StoredCampaign, now: datetime) -> None:
        event = change_event(before, after.campaign, after.version, now)
        if event is not None:
            record_event(connection, outbox, event, key=after.campaign.id)


def new_offer(fields: Mapping[str, Any]) -> Offer:
    return Offer(id=new_uuid(), **fields)


def existing(connection: Connection, campaign_id: str, lock: bool = False) -> StoredCampaign:
    stored = repository.get_campaign(connection, campaign_id, lock=lock)
    if stored is None:
        raise CampaignNotFound(campaign_id)
    return stored
