"""Campaigns and their offers in PostgreSQL, as domain values with their version.

Writes are optimistic: an update names the version it was computed from and changes nothing if
another write got there first. Functions take the caller's connection, so a change and its
outbox event share one transaction.
"""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import UTC, datetime

from sqlalchemy import Connection, Row, delete, exists, func, select, update
from sqlalchemy.dialects.postgresql import insert

from services.campaigns.domain import Campaign, Offer, StaleVersion, Transition
from services.campaigns.store.policy_codec import policy_from_json, policy_to_json
from services.campaigns.store.tables import campaigns, emitted_transitions, offers

# Columns that hold the domain's fields under the same names.
CAMPAIGN_FIELDS = tuple(f.name for f in fields(Campaign) if f.name not in ("id", "offers", "policy"))
OFFER_FIELDS = tuple(f.name for f in fields(Offer) if f.name != "id")
INSTANT_FIELDS = ("opens_at", "closes_at", "published_at", "closed_early_at", "allocated_at", "archived_at",
                  "waitlist_closes_at", "free_withdrawal_until")


@dataclass(frozen=True)
class StoredCampaign:
    campaign: Campaign
    version: int
    # Places already given per offer id, as the allocation feed reports them (0 until it does).
    places_given: Mapping[str, int]

    def places_given_for(self, offer_id: str) -> int:
        return self.places_given.get(offer_id, 0)


def get_campaign(connection: Connection, campaign_id: str, *, lock: bool = False) -> StoredCampaign | None:
    """`lock`: hold the row until the transaction ends, so writers on one campaign take turns."""
    query = select(campaigns).where(campaigns.c.id == campaign_id)
    found = _with_offers(connection, connection.execute(query.with_for_update() if lock else query).all())
    return found[0] if found else None


def list_campaigns(connection: Connection, *, kind: str | None = None) -> list[StoredCampaign]:
    query = select(campaigns).order_by(campaigns.c.opens_at.desc(), campaigns.c.id)
    if kind is not None:
        query = query.where(campaigns.c.kind == kind)
    return _with_offers(connection, connection.execute(query).all())


def published_campaigns_closing_after(connection: Connection, instant: datetime) -> list[StoredCampaign]:
    """Published, not archived, planned close after `instant`: a superset of what is still
    scheduled or open then (status_at decides)."""
    query = (select(campaigns)
             .where(campaigns.c.published_at.is_not(None), campaigns.c.archived_at.is_(None),
                    campaigns.c.closes_at > instant)
             .order_by(campaigns.c.opens_at, campaigns.c.id))
    return _with_offers(connection, connection.execute(query).all())


def insert_campaign(connection: Connection, campaign: Campaign) -> StoredCampaign | None:
    """Version 1 of a new campaign; None, and nothing written, if a campaign has this id already."""
    inserted = connection.execute(
        insert(campaigns).values(id=campaign.id, version=1, **_campaign_values(campaign))
        .on_conflict_do_nothing(index_elements=[campaigns.c.id]).returning(campaigns.c.id)).first()
    if inserted is None:
        return None
    _save_offers(connection, campaign)
    return StoredCampaign(campaign, 1, {})


def save_campaign(connection: Connection, stored: StoredCampaign, changed: Campaign) -> StoredCampaign:
    """Write `changed` over the version `stored` was read at; StaleVersion if another write committed since."""
    updated = connection.execute(
        update(campaigns)
        .where(campaigns.c.id == changed.id, campaigns.c.version == stored.version)
        .values(version=campaigns.c.version + 1, updated_at=func.now(), **_campaign_values(changed))
        .returning(campaigns.c.version)).first()
    if updated is None:
        current = connection.execute(select(campaigns.c.version).where(campaigns.c.id == changed.id)).scalar_one()
        raise StaleVersion(stored.version, current)
    _save_offers(connection, changed)
    return StoredCampaign(changed, updated.version, stored.places_given)


def campaign_ids_with_pending_transitions(connection: Connection, now: datetime) -> list[str]:
    """Published campaigns whose window has started and whose close is not yet announced: a close
    is final (a closed window never reopens), so nothing is left to announce after it."""
    closed_announced = exists().where(emitted_transitions.c.campaign_id == campaigns.c.id,
                                      emitted_transitions.c.kind == "closed")
    query = (select(campaigns.c.id)
             .where(campaigns.c.published_at.is_not(None), campaigns.c.archived_at.is_(None),
                    campaigns.c.opens_at <= now, ~closed_announced)
             .order_by(campaigns.c.opens_at))
    return list(connection.execute(query).scalars())


def emitted_transition_keys(connection: Connection, campaign_id: str) -> set[str]:
    query = select(emitted_transitions.c.transition_key).where(emitted_transitions.c.campaign_id == campaign_id)
    return set(connection.execute(query).scalars())


def record_transition(connection: Connection, transition: Transition, event_id: str) -> None:
    """A plain insert: a second announcement of the same key fails on the primary key, rolling
    back its outbox row with it."""
    connection.execute(emitted_transitions.insert().values(
        transition_key=transition.key, campaign_id=transition.campaign_id, kind=transition.kind,
        at=transition.at, event_id=event_id))


def record_places_given(connection: Connection, campaign_id: str, offer_id: str, places_given: int,
                        revision: int) -> bool:
    """Keep an offer's count of places given if `revision` is newer than the one kept; True when it was."""
    updated = connection.execute(
        update(offers)
        .where(offers.c.id == offer_id, offers.c.campaign_id == campaign_id, offers.c.places_given_revision < revision)
        .values(places_given=places_given, places_given_revision=revision))
    return updated.rowcount == 1


def _campaign_values(campaign: Campaign) -> dict[str, object]:
    return {**{name: getattr(campaign, name) for name in CAMPAIGN_FIELDS}, "policy": policy_to_json(campaign.policy)}


def _save_offers(connection: Connection, campaign: Campaign) -> None:
    """Make the stored offers those of `campaign`, in its order; `places_given` is left as it is."""
    kept_ids = [offer.id for offer in campaign.offers]
    connection.execute(delete(offers).where(offers.c.campaign_id == campaign.id, offers.c.id.not_in(kept_ids)))
    if not campaign.offers:
        return
    statement = insert(offers).values([
        {"id": offer.id, "campaign_id": campaign.id, "position": position,
         **{name: getattr(offer, name) for name in OFFER_FIELDS}, "tariffs_cents": list(offer.tariffs_cents)}
        for position, offer in enumerate(campaign.offers)
    ])
    written_by_managers = ("position", *OFFER_FIELDS)
    connection.execute(statement.on_conflict_do_update(
        index_elements=[offers.c.id], set_={name: statement.excluded[name] for name in written_by_managers}))


def _with_offers(connection: Connection, campaign_rows: list[Row]) -> list[StoredCampaign]:
    if not campaign_rows:
        return []
    offer_rows = connection.execute(
        select(offers).where(offers.c.campaign_id.in_([row.id for row in campaign_rows]))
        .order_by(offers.c.campaign_id, offers.c.position)).all()
    offers_by_campaign: dict[str, list[Row]] = defaultdict(list)
    for row in offer_rows:
        offers_by_campaign[row.campaign_id].append(row)
    return [_stored(row, offers_by_campaign[row.id]) for row in campaign_rows]


def _stored(row: Row, offer_rows: list[Row]) -> StoredCampaign:
    values = row._mapping
    campaign = Campaign(
        id=row.id,
        policy=policy_from_json(row.policy),
        offers=tuple(_offer(offer_row) for offer_row in offer_rows),
        **{name: _utc(values[name]) if name in INSTANT_FIELDS else values[name] for name in CAMPAIGN_FIELDS},
    )
    return StoredCampaign(campaign, row.version, {offer_row.id: offer_row.places_given for offer_row in offer_rows})


def _offer(row: Row) -> Offer:
    values = row._mapping
    return Offer(id=row.id, **{name: values[name] for name in OFFER_FIELDS if name != "tariffs_cents"},
                 tariffs_cents=tuple(row.tariffs_cents))


def _utc(instant: datetime | None) -> datetime | None:
    # psycopg returns instants in the session's time zone; the domain and the events speak UTC.
    return None if instant is None else instant.astimezone(UTC)
