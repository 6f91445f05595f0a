"""Places after the decision: the parent's answer, expiry, withdrawal, and the waitlist taking up
every freed place at once. Call these under the campaign's lock, in the transaction of the event.

Who is promoted: the first children still waiting on the offer's waitlist (by position) whose
application is active and who hold no place. A child who holds a place elsewhere is passed over:
the registrations ledger cannot move an offered or confirmed place to another offer. Siblings kept
together move up together, and only when seats for all of them are free; otherwise the next child
who fits is offered the seat (first fit, as in the draw).
"""
from __future__ import annotations

import logging
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from services.allocation.domain import terms
from services.allocation.store import outbox_events
from services.allocation.store.campaign_copy import CampaignCopy
from services.allocation.store.places import (
    end_place,
    leave_waitlists,
    live_place,
    mark_promoted,
    place_row,
    save_places,
    seats_taken,
    waiting_candidates,
)
from services.allocation.store.repository import decision_explanation, get_application, mark_withdrawn
from services.allocation.store.result_documents import tier_at
from services.allocation.store.validated_facts import save_line
from services.allocation.usecases import validated_facts

log = logging.getLogger(__name__)


def fill_offer(connection: Connection, campaign: CampaignCopy, offer_id: UUID, now: datetime,
               freed_by: UUID | None = None) -> None:
    """Offer every free seat of the offer to its waitlist, while the campaign's waitlists are open
    (before `waitlist_closes_at` and the offer's acceptance cut-off, domain.terms.promotion_open)."""
    if not terms.promotion_open(now, campaign.starts_on(offer_id), campaign.acceptance_margin_hours,
                                campaign.waitlist_closes_at):
        return
    free = campaign.capacity(offer_id) - seats_taken(connection, offer_id)
    groups: dict[UUID, list[UUID]] = {}
    for candidate in waiting_candidates(connection, offer_id) if free > 0 else ():
        groups.setdefault(candidate.group_key, []).append(candidate.application_id)
    for members in groups.values():
        if free <= 0:
            break
        if len(members) > free:
            continue  # siblings who do not all fit: the next child who fits gets the seat
        for application_id in members:
            _promote(connection, campaign, application_id, offer_id, now, freed_by)
        free -= len(members)


def fill_every_offer(connection: Connection, campaign: CampaignCopy, now: datetime) -> None:
    """After a capacity change: seats added are offered to the waitlists."""
    for offer in campaign.offers():
        fill_offer(connection, campaign, UUID(offer.offer_id), now)


def _promote(connection: Connection, campaign: CampaignCopy, application_id: UUID, offer_id: UUID, now: datetime,
             freed_by: UUID | None) -> None:
    application = get_application(connection, application_id)
    row = place_row(campaign, application_id, offer_id, tier_at(decision_explanation(connection, application_id),
                                                                offer_id), now, freed_by)
    save_places(connection, [row])
    mark_promoted(connection, offer_id, application_id)
    outbox_events.publish(connection, outbox_events.promoted(application, offer_id, row["expires_at"], freed_by, now),
                          key=campaign.campaign_id)


def accept(connection: Connection, campaign: CampaignCopy, application_id: UUID, offer_id: UUID, at: datetime) -> None:
    """The parent accepted before the deadline: the place is confirmed and billed, once."""
    place = _offered_place(connection, application_id, offer_id, "acceptance")
    if place is None:
        return
    end_place(connection, place.place_id, "accepted", at)
    leave_waitlists(connection, application_id)
    application = get_application(connection, application_id)
    # The validated quotient tranche in force in the activity's first month, if an agent validated one (issue 16).
    tranche, price = validated_facts.billed(connection, application, campaign.offer(offer_id))
    outbox_events.publish(connection, outbox_events.confirmed(application, campaign, offer_id, tranche, price, at),
                          key=application["family_account"])
    save_line(connection, application_id, 1, tranche, price, at)


def decline(connection: Connection, campaign: CampaignCopy, application_id: UUID, offer_id: UUID,
            now: datetime) -> None:
    place = _offered_place(connection, application_id, offer_id, "refusal")
    if place is not None:
        _release(connection, campaign, place, "declined", now)


def expire(connection: Connection, campaign: CampaignCopy, place: Any, now: datetime) -> None:
    application = get_application(connection, place.application_id)
    outbox_events.publish(connection, outbox_events.expired(application, place.offer_id, now),
                          key=campaign.campaign_id)
    _release(connection, campaign, place, "expired", now)


def withdraw(connection: Connection, campaign: CampaignCopy | None, application_id: UUID, at: datetime,
             now: datetime, *, by_agent: bool = False, late_fee_waived: bool = False) -> None:
    """The application leaves the campaign; a place it held goes to the waitlist, and a confirmed one
    is credited back to the family by the campaign's cancellation rule (domain.terms.withdrawal_credit):
    the credit line always comes, for the whole price, less a late fee, or for nothing."""
    mark_withdrawn(connection, application_id, at)
    leave_waitlists(connection, application_id)
    place = live_place(connection, application_id)
    if place is None:
        return
    if place.state == "accepted":
        application = get_application(connection, application_id)
        # The line the registration stands on: the confirmed one, or the latest repricing's (issue 16).
        number, tranche, price = validated_facts.line_of(connection, application, campaign.offer(place.offer_id))
        credit = terms.withdrawal_credit(price, at, campaign.starts_on(place.offer_id),
                                         campaign.ends_on(place.offer_id), campaign.free_withdrawal_until,
                                         campaign.late_withdrawal_fee_cents, waived_by_agent=late_fee_waived)
        # The agent's own words stay in registrations (they may name the child): billing reads who, not why.
        reason = "withdrawn by a city agent for the family" if by_agent else "withdrawn by the parent"
        outbox_events.publish(connection, outbox_events.cancelled(application, campaign, place.offer_id, tranche,
                                                                  price, place.settled_at, at, reason, credit,
                                                                  line_number=number),
                              key=application["family_account"])
    _release(connection, campaign, place, "withdrawn", now)


def _release(connection: Connection, campaign: CampaignCopy, place: Any, state: str, now: datetime) -> None:
    end_place(connection, place.place_id, state, now)
    leave_waitlists(connection, place.application_id)
    fill_offer(connection, campaign, place.offer_id, now, freed_by=place.application_id)


def _offered_place(connection: Connection, application_id: UUID, offer_id: UUID, answer: str):
    place = live_place(connection, application_id)
    if place is None or place.state != "offered" or place.offer_id != offer_id:
        # Registrations only lets a parent answer an open offer, before its deadline: this answer came
        # after the grace period (the place has expired and gone to the waitlist) or names another offer.
        log.error("answer to a place that is not offered", extra={
            "answer": answer, "application_id": str(application_id), "offer_id": str(offer_id),
            "place_state": None if place is None else place.state})
        return None
    return place
