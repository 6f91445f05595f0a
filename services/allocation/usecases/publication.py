"""Four eyes on a draw's publication (docs/allocation-service.md#four-eyes): a manager asks, another approves.

The request is filed once per campaign (asking again answers the pending request, unchanged); any manager may
withdraw it while it waits; the approval, by a manager other than the one who asked, draws and publishes in one
transaction with the draw's events and its audit entry (`draw.publish` naming both managers), and answers the
same run when repeated. Each write leaves one audit entry; a repeat that changes nothing leaves none.
"""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Engine

from services.allocation.store.audit import record_draw
from services.allocation.store.publication_requests import (
    PublicationRequest,
    file_request,
    filed_request,
    mark_approved,
    publication_request,
    withdraw_request,
)
from services.allocation.usecases.draws import AlreadyPublished, lock_drawable, publish_locked, without_cycle_collection
from shared.audit import Actor


class NoSecondManagerNeeded(Exception):
    """The campaign is published directly: it does not ask for a second manager."""


class NoPublicationRequest(Exception):
    """Nobody asked for this campaign's publication (or the request was withdrawn)."""


class SameManager(Exception):
    """The manager who asked for the publication cannot approve it too."""

    def __init__(self, subject: str):
        super().__init__(f"{subject} asked for this publication; another manager must approve it")
        self.subject = subject


def request_publication(engine: Engine, campaign_id: UUID, now: datetime, *, actor: Actor,
                        requester_name: str | None = None) -> PublicationRequest:
    with engine.begin() as connection:
        campaign = lock_drawable(connection, campaign_id)
        if not campaign.publication_needs_second_manager:
            raise NoSecondManagerNeeded()
        if file_request(connection, campaign_id, actor, requester_name, now):
            record_draw(connection, actor, "draw.publication_requested", campaign_id, {"requested_by": actor.subject},
                        now)
        return filed_request(connection, campaign_id)


def withdraw_publication_request(engine: Engine, campaign_id: UUID, now: datetime, *, actor: Actor) -> None:
    """Withdraw the pending request; nothing pending changes nothing."""
    with engine.begin() as connection:
        withdrawn = withdraw_request(connection, campaign_id)
        if withdrawn is not None:
            record_draw(connection, actor, "draw.publication_withdrawn", campaign_id,
                        {"requested_by": withdrawn.requested_by, "withdrawn_by": actor.subject}, now)


def approve_publication(engine: Engine, campaign_id: UUID, now: datetime, *, actor: Actor) -> UUID:
    """Publish the draw a first manager asked for; the published run. Approving a request already approved
    answers its run again and publishes nothing."""
    with without_cycle_collection(), engine.begin() as connection:
        try:
            campaign = lock_drawable(connection, campaign_id)
        except AlreadyPublished as published:
            request = publication_request(connection, campaign_id)
            if request is not None and request.run_id == published.run_id:
                return published.run_id
            raise
        request = publication_request(connection, campaign_id)
        if request is None or not request.pending:
            raise NoPublicationRequest()
        if request.requested_by == actor.subject:
            raise SameManager(actor.subject)
        run_id = publish_locked(connection, campaign, now, actor=actor,
                                approval={"requested_by": request.requested_by, "approved_by": actor.subject})
        mark_approved(connection, campaign_id, actor, now, run_id)
    return run_id


def current_request(engine: Engine, campaign_id: UUID) -> PublicationRequest | None:
    with engine.connect() as connection:
        return publication_request(connection, campaign_id)
