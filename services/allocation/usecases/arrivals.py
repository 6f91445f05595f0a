"""Applications decided as they arrive: every application of a first-come campaign, and the rare one
that reaches a lottery campaign after its draw.

First-come: in arrival order, the child gets a place at the first ranked offer with a free seat,
else a position on the waitlist of the first ranked offer whose waitlist has room, else a rejection.
That is the rule intake applied when it told the parent "place held" or "waitlist n°k"; the decision
confirms what the parent was told: a child takes a seat only where intake held one for it, whatever order the
applications reach allocation in (`_as_intake_held`). Reserved shares and sibling groups are not applied:
intake promised places in arrival order, one child at a time.

After a draw: the child goes to the end of the waitlist of every eligible offer it ranked (or takes
a seat still free); it was not in the draw, so it cannot overtake anyone who was.

Both ask the allocation core about this one application, with the seats and waitlist room left at
each offer, so eligibility and reasons are the draw's own rules.
"""
from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import replace
from datetime import datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from services.allocation.domain import Offer, Standing, allocate
from services.allocation.store.application_rows import domain_application
from services.allocation.store.campaign_copy import CampaignCopy
from services.allocation.store.decision_writer import Decision, record_decisions
from services.allocation.store.places import last_arrival_rank_placed, seats_taken, waitlist_tail
from services.allocation.store.repository import get_seed, published_run, save_run, undecided_applications
from services.allocation.store.result_documents import decision_document


def decide_arrivals(connection: Connection, campaign: CampaignCopy, now: datetime,
                    among: list[UUID] | None = None) -> None:
    """Decide, in arrival order, the campaign's applications not decided yet (or those of `among`), if
    the campaign decides on arrival (first-come, or already drawn). Call it under the campaign's lock:
    then an application is decided when it arrives, or when its campaign does if it came first."""
    run = published_run(connection, campaign.campaign_id)
    if run is None and not campaign.first_come:
        return  # the draw will decide them
    if run is None:
        run_id = _first_come_run(connection, campaign, now)
        seed = None
    else:
        run_id = run.run_id
        seed = None if campaign.first_come else get_seed(connection, campaign.campaign_id).seed
    for application in undecided_applications(connection, campaign.campaign_id, among):
        record_decisions(connection, campaign, run_id, [_decide(connection, campaign, application, seed)], now)


def _first_come_run(connection: Connection, campaign: CampaignCopy, now: datetime) -> UUID:
    """A first-come campaign's decisions belong to one published run, opened with its first decision."""
    run_id = uuid.uuid4()
    save_run(connection, run_id, campaign.campaign_id, "published", now)
    return run_id


def _decide(connection: Connection, campaign: CampaignCopy, application: Mapping[str, Any],
            seed: bytes | None) -> Decision:
    policy = campaign.policy()
    if campaign.first_come:
        policy = replace(policy, reserved_shares=(), keep_siblings_together=False)
    chosen = {str(offer_id) for offer_id in application["choices"]}
    tails = {offer_id: waitlist_tail(connection, UUID(offer_id)) for offer_id in chosen}
    offers = [_what_is_left(connection, offer, tails[offer.offer_id]) if offer.offer_id in chosen else offer
              for offer in campaign.offers()]
    if campaign.first_come:
        offers = _as_intake_held(offers, application)
    single = domain_application(application, campaign.reference_date)
    outcome = allocate(policy, offers, [single], seed).outcomes[single.application_id]
    document = decision_document(outcome)
    waitlist = document["waitlist"]
    if campaign.first_come:
        waitlist = [] if outcome.offer_id is not None else waitlist[:1]
    # Positions at the end of each list, not the 1 the core gives to a lone applicant.
    waitlist = [{"offer_id": entry["offer_id"], "position": tails[entry["offer_id"]][1] + 1} for entry in waitlist]
    document["explanation"] = _as_decided_on_arrival(connection, campaign, application, document["explanation"],
                                                     waitlist)
    status = "allocated" if outcome.offer_id is not None else "waitlisted" if waitlist else "rejected"
    return Decision(application, status, outcome.offer_id, waitlist, document["reasons"], document["explanation"])


def _as_intake_held(offers: list[Offer], application: Mapping[str, Any]) -> list[Offer]:
    """The seats this first-come application may take: only where intake held one for it. Intake decided the
    holds in arrival-number order, in one Redis script, never more than an offer's capacity; the ledger's
    writers may announce the applications in another order (one campaign spreads over the intake log's
    partitions, and concurrent sends reach even one partition in either order). So a child intake put on a
    waitlist takes no seat freed in the meantime for someone ahead of it, and a held place is the place taken.
    The core still checks eligibility; a hold at an offer whose seats are all taken (its capacity lowered since)
    is not honoured beyond capacity. Applications without a hold (stored before holds were kept, or `none`)
    keep the arrival-order rule."""
    hold = application.get("intake_hold") or {}
    if hold.get("kind") not in ("held", "waitlisted"):
        return offers
    held_at = hold.get("offer_id") if hold["kind"] == "held" else None
    return [offer if offer.offer_id == held_at or offer.offer_id not in {str(c) for c in application["choices"]}
            else replace(offer, capacity=0) for offer in offers]


def _what_is_left(connection: Connection, offer: Offer, tail: tuple[int, int]) -> Offer:
    waiting, _ = tail
    room = None if offer.waitlist_limit is None else max(0, offer.waitlist_limit - waiting)
    return replace(offer, capacity=max(0, offer.capacity - seats_taken(connection, UUID(offer.offer_id))),
                   waitlist_limit=room)


def _as_decided_on_arrival(connection: Connection, campaign: CampaignCopy, application: Mapping[str, Any],
                           explanation: dict[str, Any], waitlist: list[dict[str, Any]]) -> dict[str, Any]:
    """The core saw this application alone; put back what it stood against: its real arrival rank,
    its real waitlist positions and, under first-come, the last arrival admitted at each offer that
    was full at its turn."""
    positions = {entry["offer_id"]: entry["position"] for entry in waitlist}
    offers = []
    for offer in explanation["offers"]:
        cutoffs = []
        if campaign.first_come and offer["standing"] == str(Standing.NOT_ADMITTED):
            last = last_arrival_rank_placed(connection, UUID(offer["offer_id"]))
            if last is not None:
                cutoffs = [{"seats": "open", "tier": 1, "lottery_number": None, "arrival_rank": last}]
        offers.append({**offer, "waitlist_position": positions.get(offer["offer_id"]), "cutoffs": cutoffs})
    explained = {**explanation, "offers": offers, "decided_on_arrival": True}
    if campaign.first_come:
        explained["arrival_rank"] = application["arrival_rank"]
    return explained
