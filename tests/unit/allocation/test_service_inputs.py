"""The allocation service's mapping of stored events onto the core's inputs (no I/O)."""
import random
from datetime import date, datetime, timezone
from uuid import UUID, uuid4, uuid5

import pytest

from services.allocation.domain import PriorityCriterion, allocate
from services.allocation.domain.pricing import billed_tranche, unit_price
from services.allocation.store.application_rows import (
    ApplicationReader,
    FamilyHistory,
    domain_application,
    sibling_groups,
)
from services.allocation.store.campaign_copy import CampaignCopy
from services.allocation.store.outbox_events import DECISION_NAMESPACE, Decisions, decision_event_id
from services.allocation.store.result_documents import ResultDocuments, decision_document
from shared.domain.policy import AllocationMode, CriterionName
from shared.events import make_event

A, B, C, D = (UUID(f"00000000-0000-4000-8000-00000000000{n}") for n in range(1, 5))


def stored(application_id: UUID, family: str, *keep_with: UUID, birth_date: str = "2016-02-29") -> dict:
    return {"application_id": application_id, "family_account": family, "child_id": application_id,
            "keep_with_applications": list(keep_with), "choices": [D], "arrival_position": 7,
            "birth_date": birth_date, "disability_allowance": True, "single_parent": True, "quotient_tranche": None,
            "residence_arrondissement": 18}


def test_references_in_either_direction_within_a_family_make_one_group_keyed_by_its_lowest_id():
    rows = [stored(A, "durand"), stored(C, "durand", B), stored(B, "durand", A)]
    assert sibling_groups(rows) == {A: A, B: A, C: A}


def test_references_to_another_family_or_to_an_application_not_drawn_are_ignored():
    rows = [stored(A, "durand", D), stored(B, "martin", A), stored(C, "durand")]
    assert sibling_groups(rows) == {}


def connected_groups(rows: list[dict]) -> dict:
    """What sibling_groups must give, the slow way: each application's same-family links followed both ways."""
    family_of = {row["application_id"]: row["family_account"] for row in rows}
    links = {application_id: set() for application_id in family_of}
    for row in rows:
        for sibling in row["keep_with_applications"]:
            if family_of.get(sibling) == row["family_account"]:
                links[row["application_id"]].add(sibling)
                links[sibling].add(row["application_id"])
    groups = {}
    for application_id in family_of:
        seen, todo = set(), [application_id]
        while todo:
            if (next_id := todo.pop()) not in seen:
                seen.add(next_id)
                todo.extend(links[next_id])
        if len(seen) > 1:
            groups[application_id] = min(seen)
    return groups


def test_sibling_groups_are_each_familys_linked_applications_keyed_by_their_lowest_id_ids_as_uuids_or_text():
    draw = random.Random(18)
    for _ in range(300):
        ids = [uuid4() for _ in range(draw.randint(1, 12))]
        referable = ids + [uuid4()]  # and an application not drawn
        rows = [stored(application_id, draw.choice("ab"), *draw.sample(referable, draw.randint(0, 2)))
                for application_id in ids]
        expected = connected_groups(rows)
        assert sibling_groups(rows) == expected
        as_text = [{**row, "application_id": str(row["application_id"]),
                    "keep_with_applications": [str(sibling) for sibling in row["keep_with_applications"]]}
                   for row in rows]
        assert sibling_groups(as_text) == {str(application_id): str(key) for application_id, key in expected.items()}


def test_an_application_becomes_the_cores_with_its_age_at_the_reference_date_and_its_history():
    row = stored(A, "durand")
    application = domain_application(row, date(2026, 2, 28), FamilyHistory(2, True), sibling_group=A)
    assert application.age_at_reference_date == 9  # born on 29 February: ten only on 1 March
    assert domain_application(row, date(2026, 3, 1)).age_at_reference_date == 10
    assert application.application_id == str(A) and application.choices == (str(D),)
    assert application.facts.single_parent and application.facts.disability_allowance
    assert application.facts.effective_tranche == 10 and application.facts.residence_arrondissement == 18
    assert (application.facts.unsuccessful_earlier_years, application.facts.not_placed_previous_campaign) == (2, True)
    assert (application.arrival_position, application.sibling_group_id) == (7, str(A))


def test_a_draws_reader_gives_each_row_what_domain_application_gives_sharing_equal_facts():
    rows = [stored(A, "durand"), stored(B, "martin", birth_date="2019-06-01"), stored(C, "petit"),
            {**stored(D, "roux"), "single_parent": False, "validated_facts": ["quotient_tranche"],
             "quotient_tranche": 3}]
    histories = [FamilyHistory(), FamilyHistory(), FamilyHistory(1, True), FamilyHistory()]
    reader = ApplicationReader(date(2026, 3, 1))
    read = [reader.application(row, history, A) for row, history in zip(rows, histories)]
    assert read == [domain_application(row, date(2026, 3, 1), history, A) for row, history in zip(rows, histories)]
    assert read[0].facts is read[1].facts  # same facts and history: one frozen Facts
    assert read[2].facts != read[0].facts and read[3].facts.validated == {"quotient_tranche"}
    assert [application.age_at_reference_date for application in read] == [10, 6, 10, 10]


def test_a_draws_reader_refuses_a_negative_age_as_the_core_does():
    with pytest.raises(ValueError, match="negative age"):
        ApplicationReader(date(2010, 3, 1)).application(stored(A, "durand"))


def test_a_campaign_snapshot_becomes_the_cores_policy_with_exact_shares():
    snapshot = {"policy": {"mode": "priority_lottery",
                           "criteria": [{"name": "quotient_tranche_at_most", "max_tranche": 3},
                                        {"name": "single_parent", "max_tranche": None}],
                           "reserved_shares": [{"criterion": {"name": "single_parent", "max_tranche": None},
                                                "share": 0.29}],
                           "lottery_weight_per_unsuccessful_year": 1, "keep_siblings_together": True,
                           "acceptance_delay_hours": 48},
                "max_choices": 3, "offers": []}
    campaign = CampaignCopy(A, 1, snapshot, None)
    policy = campaign.policy()
    assert policy.mode == AllocationMode.PRIORITY_LOTTERY and policy.max_choices == 3 and policy.keep_siblings_together
    assert policy.criteria == (PriorityCriterion(CriterionName.QUOTIENT_TRANCHE_AT_MOST, 3), PriorityCriterion("single_parent"))
    assert policy.reserved_shares[0].seats(100) == 29
    offered_at = datetime(2026, 3, 28, 10, tzinfo=timezone.utc)
    assert campaign.acceptance_deadline(offered_at) == datetime(2026, 3, 30, 10, tzinfo=timezone.utc)


def test_the_price_is_read_at_the_familys_tranche_and_tranche_10_without_a_quotient():
    tariffs = [100 * n for n in range(1, 11)]
    assert (billed_tranche(1, date(2026, 3, 2), ()), unit_price(tariffs, 1)) == (1, 100)
    assert (billed_tranche(None, date(2026, 3, 2), ()), unit_price(tariffs, 10)) == (10, 1000)


def test_a_draws_decisions_are_written_exactly_as_the_contract_would_write_them():
    now = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    application = {"application_id": A, "campaign_id": B, "family_account": "durand", "child_id": C}
    arguments = dict(run_id=D, outcome="allocated", offer_id=str(D), expires_at=now, reason_codes=["too_old"],
                     waitlist=[{"offer_id": str(A), "position": 2}], now=now)
    fast = Decisions().announce(application, **arguments)
    checked = make_event("allocation.decided", source=fast.source, subject=fast.subject, data={
        **application, "child_id": C, "outcome": "allocated", "offer_id": D, "offer_expires_at": now,
        "waitlist": arguments["waitlist"], "reasons": ["too_old"], "allocation_run_id": D,
        "explanation_url": f"/applications/{A}/explanation"})
    assert fast.data == checked.data and fast.schemaversion == checked.schemaversion


def test_a_draws_outbox_row_is_the_row_record_event_would_write_for_the_same_event():
    now = datetime(2026, 3, 1, 9, tzinfo=timezone.utc)
    application = {"application_id": A, "campaign_id": B, "family_account": "durand", "child_id": C}
    announcer = Decisions()
    event = announcer.announce(application, D, "waitlisted", None, None, [{"offer_id": str(A), "position": 2}],
                               ["too_old"], now)
    row = announcer.outbox_row(application, str(A), str(D), "waitlisted", None, None,
                               [{"offer_id": str(A), "position": 2}], ["too_old"], now, str(B))
    assert row == {"event_id": event.id, "event_type": "allocation.decided", "topic": "guichet.allocation-events",
                   "message_key": str(B), "envelope": event.to_dict()}


def test_a_decisions_event_id_is_the_uuid5_of_its_run_and_application():
    for _ in range(2000):
        run, application_id = str(uuid4()), str(uuid4())
        assert decision_event_id(run, application_id) == str(uuid5(DECISION_NAMESPACE, f"{run}:{application_id}"))


def test_a_draws_documents_written_once_for_all_its_decisions_are_each_decisions_own():
    from bench.allocation_core import campaign

    policy, offers, applications, seed = campaign(3000, 30, 3, 7)
    result = allocate(policy, offers, applications, seed)
    shared = ResultDocuments()
    assert all(shared.decision(outcome) == decision_document(outcome) for outcome in result.outcomes.values())
