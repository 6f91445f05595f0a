"""What the allocation API shows, from stored rows (no I/O)."""
from types import SimpleNamespace
from uuid import UUID

from services.allocation.web.views import acceptance_by_tier, results_csv

OFFER = "00000000-0000-4000-8000-0000000000aa"


def test_acceptance_per_tier_counts_answers_and_expiries_not_open_offers():
    counts = [(1, "accepted", 3), (1, "declined", 1), (1, "offered", 5), (2, "expired", 2), (2, "withdrawn", 1)]
    first, second = acceptance_by_tier(counts)
    assert (first["tier"], first["accepted"], first["offered"], first["acceptance_rate"]) == (1, 3, 5, 0.75)
    assert (second["expired"], second["withdrawn"], second["acceptance_rate"]) == (2, 1, 0.0)
    assert acceptance_by_tier([(3, "offered", 4)])[0]["acceptance_rate"] is None


def test_the_public_record_has_one_line_per_application_and_no_names():
    explanation = {"lottery_number": "0" * 63 + "7", "arrival_rank": None,
                   "offers": [{"offer_id": OFFER, "tier": 2}]}
    decision = SimpleNamespace(application_id=UUID(int=1), outcome="waitlisted", offer_id=None,
                               waitlist=[{"offer_id": OFFER, "position": 4}], explanation=explanation)
    header, line = results_csv([decision]).splitlines()
    assert header.split(",") == ["application_id", "outcome", "offer_id", "waitlist_positions", "tier",
                                 "lottery_number", "arrival_rank"]
    assert line == f"{UUID(int=1)},waitlisted,,{OFFER}:4,2,{'0' * 63}7,"
