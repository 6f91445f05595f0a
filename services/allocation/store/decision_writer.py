"""Writes decisions: the decision row, the place offered, the waitlist entries and `allocation.decided`,
all in the caller's transaction, so a decision exists with its event or not at all."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from itertools import islice
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from services.allocation.domain.result import Decided
from services.allocation.store import outbox_events
from services.allocation.store.bulk_copy import Copies, DirectCopies
from services.allocation.store.campaign_copy import CampaignCopy
from services.allocation.store.places import place_row
from services.allocation.store.result_documents import ResultDocuments, tier_at
from services.allocation.store.tables import decisions, outbox, places, waitlist_entries
from shared.outbox import EVENTS_PER_CHUNK, chunk_rows


@dataclass(frozen=True)
class Decision:
    application: Mapping[str, Any]  # the stored application
    outcome: str
    offer_id: str | None
    waitlist: list[dict[str, Any]]  # [{"offer_id", "position"}], the child's order of preference
    reasons: list[dict[str, Any]]  # [{"code", "offer_id"}]
    explanation: dict[str, Any]  # as stored: compact from a draw (stored_explanations), whole on arrival

    @classmethod
    def from_decided(cls, application: Mapping[str, Any], decided: Decided, documents: ResultDocuments) -> Decision:
        """From the facts the core keeps (`Outcomes.decided`): a draw makes no outcome object. `documents`: one for
        all of a draw's decisions, which then share the documents of what the core shared."""
        return cls(application, **documents.decided(decided))


# Decisions per part of a draw's writes: PostgreSQL stores a part's decisions, places, waitlist entries and events
# while Python makes the next part (bulk_copy.copies_in_order). A multiple of the events per outbox chunk, so a
# draw's chunks are the same whatever the parts.
DECISIONS_PER_PART = 10 * EVENTS_PER_CHUNK


def record_decisions(connection: Connection, campaign: CampaignCopy, run_id: UUID, decided: Iterable[Decision],
                     now: datetime) -> None:
    """A few decisions (on arrival), each COPY waited for."""
    queue_decisions(DirectCopies(connection), campaign, run_id, decided, now)


def queue_decisions(copies: Copies, campaign: CampaignCopy, run_id: UUID, decided: Iterable[Decision],
                    now: datetime) -> None:
    """The rows take ids as text (COPY writes text): a draw otherwise converts each UUID to text and back
    about 18 times per application. `decided` may be made as it is read: each part's decisions are copied as they
    are made, the part's other rows gathered on the way, then queued."""
    decided, announcer = iter(decided), outbox_events.Decisions()
    while part := list(islice(decided, DECISIONS_PER_PART)):
        _queue_part(copies, announcer, campaign, run_id, part, now)


def _queue_part(copies: Copies, announcer: outbox_events.Decisions, campaign: CampaignCopy, run_id: UUID,
                decided: list[Decision], now: datetime) -> None:
    place_rows, entry_rows, announcements = [], [], []
    campaign_id, run, key = campaign.campaign_id, str(run_id), str(campaign.campaign_id)

    def decision_rows() -> Iterator[dict[str, Any]]:
        for decision in decided:
            application_id = str(decision.application["application_id"])
            yield dict(application_id=application_id, run_id=run_id, campaign_id=campaign_id,
                       outcome=decision.outcome, offer_id=decision.offer_id, waitlist=decision.waitlist,
                       reasons=decision.reasons, explanation=decision.explanation, decided_at=now)
            expires_at = None
            if decision.offer_id is not None:
                place = place_row(campaign, application_id, decision.offer_id,
                                  tier_at(decision.explanation, decision.offer_id), now)
                place_rows.append(place)
                expires_at = place["expires_at"]
            if decision.waitlist:
                group = decision.explanation["sibling_group"]  # siblings kept together: their first application's id
                group_key = group[0] if group else application_id
                entry_rows.extend(dict(offer_id=entry["offer_id"], application_id=application_id,
                                       campaign_id=campaign_id, position=entry["position"], group_key=group_key,
                                       state="waiting") for entry in decision.waitlist)
            announcements.append(announcer.outbox_row(
                decision.application, application_id, run, decision.outcome, decision.offer_id, expires_at,
                decision.waitlist, [reason["code"] for reason in decision.reasons], now, key))

    copies.copy(decisions, decision_rows())
    copies.copy(places, place_rows)
    copies.copy(waitlist_entries, entry_rows)
    copies.copy(outbox, chunk_rows(announcements))
