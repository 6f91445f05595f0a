"""What intake puts on the broker is what the contract's schema would have written: the event is built in
wire form without a schema pass (intake.SubmittedEvents), so check the records themselves."""
import json
from datetime import date

from services.registrations.store.pending import pending_key
from shared.events import contract_for, parse_event
from shared.topics import APPLICATION_SUBMISSIONS
from tests.support.broker import events_on
from tests.support.registrations import campaign_snapshot, offer


def test_submitted_records_are_the_contracts_wire_form(registrations, redis_client):
    lottery = registrations.publish_campaign(campaign_snapshot())
    first_come = registrations.publish_campaign(campaign_snapshot(mode="fcfs", offers=[offer(capacity=1)]))
    with_facts, (child_with_facts,) = registrations.family(single_parent=True, quotient_tranche=4,
                                                           quotient_justified_on=date(2025, 9, 30), arrondissement=11)
    without_facts, (child_without_facts,) = registrations.family()
    answers = [registrations.submit(with_facts, lottery, child_with_facts),
               registrations.submit(with_facts, first_come, child_with_facts),
               registrations.submit(without_facts, first_come, child_without_facts)]
    assert [a.status_code for a in answers] == [202, 202, 202]
    assert [a.json["hold"]["kind"] for a in answers] == ["none", "held", "waitlisted"]

    schema = contract_for("application.submitted").schema()
    records = {e["data"]["application_id"]: e
               for e in events_on(registrations.settings, APPLICATION_SUBMISSIONS, "application.submitted")}
    assert set(records) == {a.json["application_id"] for a in answers}
    for answer in answers:
        envelope = records[answer.json["application_id"]]
        data = envelope["data"]
        assert parse_event(envelope).data == data
        assert schema.dump(schema.load(data)) == data
        assert data["hold"] == answer.json["hold"] and data["submitted_at"] == answer.json["submitted_at"]
        assert json.loads(redis_client.get(pending_key(answer.json["application_id"]))) == data
    facts = records[answers[0].json["application_id"]]["data"]["household"]
    assert facts == {"single_parent": True, "quotient_tranche": 4, "quotient_justified_on": "2025-09-30",
                     "residence_arrondissement": 11, "postal_mail": False, "validated_facts": []}
    assert records[answers[2].json["application_id"]]["data"]["household"]["quotient_tranche"] is None
