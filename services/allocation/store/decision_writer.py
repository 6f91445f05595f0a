"""Writes decisions: the decision row, the place offered, the waitlist entries and `allocation.decided`,
all in the caller's transaction, so a decision exists with its event or not at all."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from itertools import islice
from typing import Any, NamedTuple
from uuid import UUID

from sqlalchemy import Connection

from services.allocation.domain.result import Decided
from services.allocation.store import outbox_events
from services.allocation.store.bulk_copy import NULL, Copies, DirectCopies, copy_json
from services.allocation.store.campaign_copy import CampaignCopy
from services.allocation.store.result_documents import ResultDocuments, tier_at
from services.allocation.store.tables import decisions, outbox, places, waitlist_entries
from shared.outbox import EVENTS_PER_CHUNK, chunk_rows


class Decision(NamedTuple):
    """A decision to write (a tuple: a draw makes 100,000 of them)."""

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


# The columns each line of a draw's COPYs gives, in order (the others take their defaults).
DECISION_COLUMNS = ("application_id", "run_id", "campaign_id", "outcome", "offer_id", "waitlist", "reasons",
                    "explanation", "decided_at")
PLACE_COLUMNS = ("application_id", "campaign_id", "offer_id", "state", "tier", "offered_at", "expires_at")
ENTRY_COLUMNS = ("offer_id", "application_id", "campaign_id", "position", "group_key", "state")


def _queue_part(copies: Copies, announcer: outbox_events.Decisions, campaign: CampaignCopy, run_id: UUID,
                decided: list[Decision], now: datetime) -> None:
    """Each row written as its COPY line at once: ids, outcomes and states are never escaped (a UUID's text, or one
    of the values the table's checks allow), documents through `copy_json`. Building a dict per row and formatting
    it value by value was about a second of a 100,000-application draw."""
    place_lines, entry_lines, announcements = [], [], []
    run, key = str(run_id), str(campaign.campaign_id)
    at = str(now)  # an aware datetime's text, as PostgreSQL reads it back
    deadlines: dict[str, tuple[datetime, str]] = {}  # offer id → its places' deadline, and its text

    def decision_lines() -> Iterator[str]:
        for application, outcome, offer_id, waitlist, reasons, explanation in decided:
            application_id = str(application["application_id"])
            yield (f"{application_id}\t{run}\t{key}\t{outcome}\t{NULL if offer_id is None else offer_id}\t"
                   f"{copy_json(waitlist)}\t{copy_json(reasons)}\t{copy_json(explanation)}\t{at}\n")
            expires_at = None
            if offer_id is not None:
                deadline = deadlines.get(offer_id)
                if deadline is None:
                    expires = campaign.acceptance_deadline(now, offer_id)
                    deadline = deadlines[offer_id] = (expires, str(expires))
                expires_at = deadline[0]
                tier = _tier_at(explanation, offer_id)
                place_lines.append(f"{application_id}\t{key}\t{offer_id}\toffered\t"
                                   f"{NULL if tier is None else tier}\t{at}\t{deadline[1]}\n")
            if waitlist:
                group = explanation["sibling_group"]  # siblings kept together: their first application's id
                group_key = group[0] if group else application_id
                entry_lines.extend(f"{entry['offer_id']}\t{application_id}\t{key}\t{entry['position']}\t{group_key}"
                                   "\twaiting\n" for entry in waitlist)
            announcements.append(announcer.outbox_row(
                application, application_id, run, outcome, offer_id, expires_at, waitlist,
                [reason["code"] for reason in reasons], now, key))

    copies.copy_lines(decisions, DECISION_COLUMNS, decision_lines())
    copies.copy_lines(places, PLACE_COLUMNS, place_lines)
    copies.copy_lines(waitlist_entries, ENTRY_COLUMNS, entry_lines)
    copies.copy(outbox, chunk_rows(announcements))


def _tier_at(explanation: dict[str, Any], offer_id: str) -> int | None:
    """`tier_at` for an offer the application is placed at: a compact explanation's row is read in place (a draw
    asks 50,000 times)."""
    if "choices" in explanation:
        for choice in explanation["choices"]:
            if choice[0] == offer_id:
                return choice[2]
        return None
    return tier_at(explanation, offer_id)
