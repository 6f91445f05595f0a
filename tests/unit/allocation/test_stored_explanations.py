"""Explanations stored compact and rendered on read (issue 18): a parent reads the very document the draw
stored whole before. The digests are the SHA-256 of every decision document (the explanation whole, with its
cutoffs) of the pinned campaigns of `test_results_pinned.py`, as `ResultDocuments().decision` wrote them at
commit ba1c89e, before explanations were stored compact; here they are rebuilt from the compact form."""
from __future__ import annotations

import hashlib
import json

import orjson
import pytest

from services.allocation.domain import allocate
from services.allocation.domain.stored_explanations import is_compact, offers_needing_cutoffs, rendered, tier_at
from services.allocation.store.result_documents import ResultDocuments
from tests.unit.allocation.test_results_pinned import inputs

DOCUMENTS_AT_BA1C89E = {
    "priority_lottery": "3ee6e1577216d7597284ddeedc6a642d32b1d32484b0904fe2b1d38c3a1c6299",
    "priority_lottery with sibling_placed": "5b74af9515aa4f9866ba6119886dbfac8dd11c212cf3fedc6e5a4b86dfe42935",
    "lottery": "9791265c690a64c2c732ea00a5fd682655226f453a862ca29cfb08c5da86c0d5",
    "fcfs": "0cd090ff6380d5bae427d39beebf491ccc035d2485928e67405b30210d472cfc",
}


def _digest(documents: list) -> str:
    return hashlib.sha256(json.dumps(documents, sort_keys=True).encode()).hexdigest()


@pytest.mark.parametrize("name", sorted(DOCUMENTS_AT_BA1C89E))
def test_every_explanation_rendered_on_read_is_the_one_stored_whole_before(name):
    policy, offers, applications, seed = inputs(name)
    result = allocate(policy, offers, applications, seed)
    compact = ResultDocuments(compact=True)
    # As stored: JSON text written, read back (the run's cutoffs too).
    stored = [(application_id, orjson.loads(orjson.dumps(compact.decision(outcome))))
              for application_id, outcome in result.outcomes.items()]
    cutoffs = orjson.loads(orjson.dumps(compact.cutoffs))
    assert all(is_compact(decision["explanation"]) for _, decision in stored)

    read = [[application_id, {**decision, "explanation": rendered(decision["explanation"], cutoffs)}]
            for application_id, decision in stored]

    assert _digest(read) == DOCUMENTS_AT_BA1C89E[name]
    whole = ResultDocuments()
    assert read == [[application_id, whole.decision(outcome)] for application_id, outcome in result.outcomes.items()]


def test_rendering_reads_only_the_cutoffs_of_the_offers_not_admitted_at():
    policy, offers, applications, seed = inputs("priority_lottery")
    result = allocate(policy, offers, applications, seed)
    compact, whole = ResultDocuments(compact=True), ResultDocuments()
    for outcome in list(result.outcomes.values())[:300]:
        stored = compact.explanation(outcome.explanation)
        needed = offers_needing_cutoffs(stored)
        assert needed == [offer.offer_id for offer in outcome.explanation.offers if offer.standing == "not_admitted"]
        assert rendered(stored, {offer_id: compact.cutoffs[offer_id] for offer_id in needed}) == \
            whole.explanation(outcome.explanation)
        full = whole.explanation(outcome.explanation)
        for offer_id in (None, outcome.offer_id, *(offer.offer_id for offer in outcome.explanation.offers)):
            assert tier_at(stored, offer_id) == tier_at(full, offer_id)


def test_an_explanation_stored_whole_reads_as_it_is():
    policy, offers, applications, seed = inputs("lottery")
    outcome = next(iter(allocate(policy, offers, applications, seed).outcomes.values()))
    whole = ResultDocuments().explanation(outcome.explanation)
    assert not is_compact(whole) and offers_needing_cutoffs(whole) == []
    assert rendered(whole, {}) == whole


def test_an_application_whose_cutoffs_are_not_its_offers_is_stored_whole():
    policy, offers, applications, seed = inputs("priority_lottery")
    outcomes = [outcome for outcome in allocate(policy, offers, applications, seed).outcomes.values()
                if any(offer.standing == "not_admitted" and offer.cutoffs for offer in outcome.explanation.offers)]
    first, second = outcomes[0], next(o for o in outcomes[1:] if {offer.offer_id for offer in o.explanation.offers
                                                                  if offer.standing == "not_admitted"}
                                      & {offer.offer_id for offer in outcomes[0].explanation.offers
                                         if offer.standing == "not_admitted"})
    compact = ResultDocuments(compact=True)
    compact.explanation(first.explanation)
    shared = next(offer_id for offer_id in compact.cutoffs
                  if offer_id in offers_needing_cutoffs(compact.explanation(second.explanation)))
    compact._cutoffs_of_offer[shared] = ()  # as if the offer's cutoffs had been another tuple
    stored = compact.explanation(second.explanation)
    assert not is_compact(stored) and stored == ResultDocuments().explanation(second.explanation)
