"""Helpers for the waiting room's tests: a campaign with a room (as intake's directory gives it, or as campaigns
publishes it), the rooms' use cases on a test's Redis, and Spearman's rank correlation."""
from __future__ import annotations

import random
import uuid
from datetime import date, datetime, timedelta

from services.registrations.domain.applications import CampaignTerms
from services.registrations.domain.waiting_room import RoomTerms
from services.registrations.store.waiting_room import IntakeLatency, RoomStore
from services.registrations.usecases.waiting_room import WaitingRooms


def room_terms(opens_at: datetime, per_minute: int = 60, opens_before: timedelta = timedelta(minutes=30),
               closes_in: timedelta = timedelta(hours=4)) -> CampaignTerms:
    return CampaignTerms(campaign_id=uuid.uuid4(), version=1, mode="fcfs", opens_at=opens_at,
                         closes_at=opens_at + closes_in, reference_date=date(2026, 2, 21), max_choices=3,
                         waiting_room=RoomTerms(True, opens_before, per_minute))


class Directory:
    """Intake's campaign directory reduced to what the room reads (the terms are the test's own)."""

    def __init__(self, *campaigns: CampaignTerms):
        self.campaigns = {c.campaign_id: c for c in campaigns}

    def get(self, campaign_id):
        return self.campaigns.get(campaign_id)


def rooms_on(redis_client, clock, *campaigns: CampaignTerms, **options) -> WaitingRooms:
    return WaitingRooms(Directory(*campaigns), RoomStore(redis_client), IntakeLatency(redis_client), clock,
                        secret=b"test-secret", rng=random.Random(7), **options)


def room_snapshot(per_minute: int = 6000, opens_before_minutes: int = 30) -> dict:
    """The `waiting_room` field of a campaign snapshot, as campaigns publishes it."""
    return {"enabled": True, "opens_before_minutes": opens_before_minutes, "admissions_per_minute": per_minute}


def spearman(xs: list[float], ys: list[float]) -> float:
    """Spearman's ρ of two samples without ties (ranks are permutations)."""
    n = len(xs)

    def ranks(values: list[float]) -> list[int]:
        order = sorted(range(n), key=values.__getitem__)
        result = [0] * n
        for rank, index in enumerate(order):
            result[index] = rank
        return result

    rx, ry = ranks(xs), ranks(ys)
    squared = sum((a - b) ** 2 for a, b in zip(rx, ry, strict=True))
    return 1 - 6 * squared / (n * (n * n - 1))
