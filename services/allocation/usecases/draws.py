"""The draw of a lottery campaign, and dry runs of any campaign.

The published draw is one transaction: the run with its statistics and bundle, every decision,
place and waitlist entry, every `allocation.decided`, and the seed's reveal. Killed half-way, it
leaves nothing and runs again; the published run's unique index makes a second one impossible.

Dry runs draw with a throwaway seed, never the committed one: their statistics are those of a real
draw, but they reveal nobody's outcome, so nobody can tune a campaign after seeing who would win.

A campaign under four eyes (`publication_needs_second_manager`) is published only through a second manager's
approval (usecases/publication.py): neither one manager's direct publication nor the automatic draw publishes it.
"""
from __future__ import annotations

import gc
import logging
import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, Engine

from services.allocation.domain import Application, CampaignPolicy, Offer, allocate, generate_seed, sealed_draw
from services.allocation.store import outbox_events
from services.allocation.store.application_rows import NO_HISTORY, ApplicationReader, sibling_groups
from services.allocation.store.audit import record_draw
from services.allocation.store.bulk_copy import copies_in_order
from services.allocation.store.campaign_copy import CampaignCopy
from services.allocation.store.decision_writer import Decision, queue_decisions
from services.allocation.store.repository import (
    campaigns_due_for_draw,
    draw_applications,
    family_histories,
    get_campaign,
    lock_campaign,
    mark_revealed,
    published_run,
    queue_cutoffs,
    queue_run,
    save_run,
)
from services.allocation.store.result_documents import ResultDocuments, statistics_document
from services.allocation.usecases.seeds import lottery_secret, seed_for_draw
from shared.audit import Actor
from shared.clock import Clock

log = logging.getLogger(__name__)

# Who the audit trail names for a draw its caller does not attribute, and for the worker's own draws.
DRAW_WORKER = Actor.system("draw-scheduler")


class UnknownCampaign(Exception):
    def __init__(self, campaign_id: UUID):
        super().__init__(f"allocation knows no campaign {campaign_id}")
        self.campaign_id = campaign_id


class FirstComeCampaign(Exception):
    """First-come campaigns are decided application by application, as they arrive: there is no draw."""


class CampaignNotClosed(Exception):
    pass


class SecondManagerRequired(Exception):
    """The campaign's draw is published only when a second manager approves another's request."""


class AlreadyPublished(Exception):
    def __init__(self, run_id: UUID):
        super().__init__(f"the allocation was already published (run {run_id})")
        self.run_id = run_id


@dataclass(frozen=True)
class DrawInputs:
    policy: CampaignPolicy
    offers: list[Offer]
    applications: list[Application]
    stored: dict[str, Mapping[str, Any]]  # application id → the stored application, its ids as text


def draw_inputs(connection: Connection, campaign: CampaignCopy) -> DrawInputs:
    """Every application not withdrawn, with the family history and sibling groups the policy reads."""
    policy = campaign.policy()
    rows = draw_applications(connection, campaign.campaign_id)
    groups = sibling_groups(rows) if policy.keep_siblings_together else {}
    histories = {str(child_id): history for child_id, history in family_histories(connection, campaign).items()}
    reader = ApplicationReader(campaign.reference_date)
    applications = [reader.application(row, histories.get(row["child_id"], NO_HISTORY), groups.get(row["application_id"]))
                    for row in rows]
    return DrawInputs(policy, campaign.offers(), applications, {row["application_id"]: row for row in rows})


@contextmanager
def without_cycle_collection() -> Iterator[None]:
    """A draw builds millions of short-lived objects (100,000 applications, their outcomes, rows and
    events), none of them in reference cycles; the cycle collector would scan the growing heap again
    and again and take longer than the rest of the draw. Reference counting still frees everything."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def dry_run(engine: Engine, campaign_id: UUID, now: datetime, *, actor: Actor = DRAW_WORKER) -> UUID:
    with without_cycle_collection(), engine.begin() as connection:
        campaign = _campaign(connection, campaign_id)
        inputs = draw_inputs(connection, campaign)
        throwaway_seed = generate_seed() if inputs.policy.draws_lots else None
        result = allocate(inputs.policy, inputs.offers, inputs.applications, throwaway_seed)
        run_id = uuid.uuid4()
        save_run(connection, run_id, campaign_id, "dry_run", now, seed=throwaway_seed,
                 statistics=statistics_document(result))
        record_draw(connection, actor, "draw.dry_run", campaign_id,
                    {"run_id": run_id, "kind": "dry_run", "applications": len(inputs.applications)}, now)
    return run_id


def publish_draw(engine: Engine, campaign_id: UUID, now: datetime, *, actor: Actor = DRAW_WORKER) -> UUID:
    """Draw a closed lottery campaign and publish every decision; raises if that cannot or did happen, or if the
    campaign waits for a second manager's approval."""
    with without_cycle_collection(), engine.begin() as connection:
        campaign = lock_drawable(connection, campaign_id)
        if campaign.publication_needs_second_manager:
            raise SecondManagerRequired()
        return publish_locked(connection, campaign, now, actor=actor)


def lock_drawable(connection: Connection, campaign_id: UUID) -> CampaignCopy:
    """The campaign, locked, once checked that it can be drawn now (closed lottery, not yet published)."""
    lock_campaign(connection, campaign_id)
    campaign = _campaign(connection, campaign_id)
    if campaign.first_come:
        raise FirstComeCampaign()
    if campaign.closed_at is None:
        raise CampaignNotClosed()
    existing = published_run(connection, campaign_id)
    if existing is not None:
        raise AlreadyPublished(existing.run_id)
    return campaign


def publish_locked(connection: Connection, campaign: CampaignCopy, now: datetime, *, actor: Actor,
                   approval: Mapping[str, Any] | None = None) -> UUID:
    """The draw itself, in the caller's transaction, the campaign locked and checked by `lock_drawable`; its one
    audit entry carries the four-eyes `approval` (who asked, who approved) when there was one."""
    campaign_id = campaign.campaign_id
    seed, commitment = seed_for_draw(connection, campaign_id, now)
    inputs = draw_inputs(connection, campaign)
    drawn = sealed_draw(inputs.policy, inputs.offers, inputs.applications, lottery_secret(connection, campaign_id))
    result = drawn.result
    run_id = uuid.uuid4()
    # PostgreSQL stores the run's row with its bundle, then the decisions part by part, while Python makes them.
    with copies_in_order(connection) as copies:
        queue_run(copies, run_id, campaign_id, "published", now, seed=seed, statistics=statistics_document(result),
                  bundle=drawn.bundle)
        # Explanations stored compact, each offer's cutoffs once with the run: read rendered (stored_explanations).
        documents = ResultDocuments(compact=True)
        queue_decisions(copies, campaign, run_id, (Decision.from_decided(inputs.stored[facts.application_id], facts,
                                                                         documents)
                                                   for facts in result.outcomes.decided()), now)
        queue_cutoffs(copies, run_id, documents.cutoffs)  # known once every decision's document is made
    mark_revealed(connection, campaign_id, now)
    outbox_events.publish(connection, outbox_events.seed_revealed(campaign_id, seed, commitment, run_id, now),
                          key=campaign_id)
    record_draw(connection, actor, "draw.publish", campaign_id,
                {"run_id": run_id, "kind": "published", "applications": len(inputs.applications),
                 "decisions": len(result.outcomes), "seed_revealed_at": now, **(approval or {})}, now)
    log.info("draw published", extra={"campaign_id": str(campaign_id), "run_id": str(run_id),
                                      "applications": len(inputs.applications)})
    return run_id


def _campaign(connection: Connection, campaign_id: UUID) -> CampaignCopy:
    campaign = get_campaign(connection, campaign_id)
    if campaign is None:
        raise UnknownCampaign(campaign_id)
    return campaign


def publish_due_draws(engine: Engine, clock: Clock, delay: timedelta, *, when_intake_drained: bool = True) -> None:
    """Draw each lottery campaign not drawn yet, closed, and whose intake drained past the close
    (`application.intake_closed`, unless `when_intake_drained` is off), or, without that announcement,
    closed more than `delay` ago; except the campaigns under four eyes, which wait for the approval."""
    with engine.connect() as connection:
        due = [campaign_id for campaign_id in campaigns_due_for_draw(connection, clock() - delay,
                                                                     when_intake_drained=when_intake_drained)
               # Four eyes: drawn when a second manager approves a manager's request (usecases/publication.py).
               if not _campaign(connection, campaign_id).publication_needs_second_manager]
    for campaign_id in due:
        try:
            publish_draw(engine, campaign_id, clock())
        except AlreadyPublished:
            pass  # a manager published it meanwhile
