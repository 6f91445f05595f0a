"""Response mappers: what the API shows, assembled from stored rows: runs, a campaign's allocation, the public draw,
a parent's explanation and the public record of results."""
from __future__ import annotations

import csv
import io
from collections import Counter, defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Connection

from services.allocation.domain import secret_parts
from services.allocation.store.campaign_copy import CampaignCopy
from services.allocation.store.outbox_events import bundle_url
from services.allocation.store.places import place_counts
from services.allocation.store.repository import latest_dry_run, published_run
from services.allocation.store.result_documents import tier_at

HOW_TO_VERIFY = ("guichet-verify bundle.json --commitment <the commitment published at the opening>  "
                 "(or: python -m services.allocation.verify …)")
RESULT_COLUMNS = ("application_id", "outcome", "offer_id", "waitlist_positions", "tier", "lottery_number",
                  "arrival_rank")


def run_view(run: Any) -> dict[str, Any]:
    return {"run_id": run.run_id, "campaign_id": run.campaign_id, "kind": run.kind, "created_at": run.created_at,
            "seed": run.seed_hex, "statistics": run.statistics}


def allocation_overview(connection: Connection, campaign: CampaignCopy) -> dict[str, Any]:
    published = published_run(connection, campaign.campaign_id)
    dry = latest_dry_run(connection, campaign.campaign_id)
    return {"campaign_id": campaign.campaign_id, "mode": str(campaign.mode), "closed_at": campaign.closed_at,
            "published": None if published is None else run_view(published),
            "latest_dry_run": None if dry is None else run_view(dry),
            "acceptance_by_tier": acceptance_by_tier(place_counts(connection, campaign.campaign_id))}


def acceptance_by_tier(counts: Iterable[Any]) -> list[dict[str, Any]]:
    by_tier: dict[int | None, Counter] = defaultdict(Counter)
    for tier, state, places in counts:
        by_tier[tier][state] += places
    answers = []
    for tier, states in by_tier.items():
        settled = states["accepted"] + states["declined"] + states["expired"]
        answers.append({"tier": tier, **{state: states[state] for state in
                                         ("offered", "accepted", "declined", "expired", "withdrawn")},
                        "acceptance_rate": states["accepted"] / settled if settled else None})
    return answers


def draw_view(seed: Any, run: Any) -> dict[str, Any]:
    revealed = seed.revealed_at is not None
    return {"campaign_id": seed.campaign_id, "commitment": seed.commitment, "committed_at": seed.committed_at,
            "seed": secret_parts(seed.seed)[0].hex() if revealed else None,  # never the lines key "revealed_at": seed.revealed_at,
            "allocation_run_id": run.run_id if revealed else None,
            "bundle_url": bundle_url(seed.campaign_id) if revealed else None, "how_to_verify": HOW_TO_VERIFY}


def explanation_view(decision: Any, explanation: dict[str, Any], place: Any) -> dict[str, Any]:
    """`explanation`: the decision's explanation rendered (`repository.explanation`), not as stored."""
    return {
        "application_id": decision.application_id, "campaign_id": decision.campaign_id,
        "outcome": decision.outcome, "offer_id": decision.offer_id, "waitlist": decision.waitlist,
        "reasons": decision.reasons, "decided_at": decision.decided_at,
        **{name: explanation[name] for name in ("tie_break_kind", "lottery_number", "arrival_rank", "tickets",
                                                "sibling_group", "decided_on_arrival")},
        "choices": explanation["offers"],
        "place": None if place is None else {"offer_id": place.offer_id, "state": place.state,
                                             "offered_at": place.offered_at, "expires_at": place.expires_at},
    }


def results_csv(decisions: Iterable[Any]) -> str:
    """The public record: no names, no facts, only what each application got and the number that ranked it."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(RESULT_COLUMNS)
    for decision in decisions:
        explanation = decision.explanation
        writer.writerow([
            decision.application_id, decision.outcome, decision.offer_id or "",
            " ".join(f"{entry['offer_id']}:{entry['position']}" for entry in decision.waitlist),
            _blank_if_none(tier_at(explanation, decision.offer_id)),
            _blank_if_none(explanation["lottery_number"]), _blank_if_none(explanation["arrival_rank"])])
    return text.getvalue()


def _blank_if_none(value: Any) -> Any:
    return "" if value is None else value
