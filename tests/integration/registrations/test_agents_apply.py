"""An agent applies for a family (issue 16, item 1) through the parents' intake: the same window, eligibility,
guard and waiting room; the record on the broker and the ledger say an agent applied, who and why; the family
reads it in its history. Real Kafka, PostgreSQL and Redis, with registrations' worker loops running."""
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import select

from services.registrations.store.audit import family_entries
from services.registrations.store.tables import application_transitions, outbox
from shared.waiting import wait_until
from tests.support.registrations import campaign_snapshot
from tests.support.waiting_room import room_snapshot

REASON = "Au guichet de la mairie du 11e : la mère n'a pas d'accès à internet"
AGENT = "agent-mairie-11"


def agent_headers(registrations, key: str | None = None, **extra) -> dict[str, str]:
    return {"Authorization": f"Bearer {registrations.token_for('agent', AGENT)}",
            "Idempotency-Key": key or uuid.uuid4().hex, **extra}


def apply_for(registrations, account, campaign, child, *, reason=REASON, key=None, headers=None, **extra):
    body = {"campaign_id": str(campaign["campaign_id"]), "child_id": str(child),
            "choices": [str(campaign["offers"][0]["offer_id"])], "sworn_statement": True, **extra}
    if reason is not None:
        body["reason"] = reason
    return registrations.client.post(f"/agent/families/{account}/applications", json=body,
                                     headers=headers or agent_headers(registrations, key))


def received_event(registrations, application_id: str) -> dict:
    with registrations.runtime.engine.connect() as connection:
        envelopes = connection.execute(select(outbox.c.envelope).order_by(outbox.c.position)).scalars().all()
    (found,) = [e for e in envelopes if e["type"] == "application.received"
                and e["data"]["application_id"] == application_id]
    return found["data"]


def test_an_agent_applies_for_the_familys_child_and_the_family_reads_who_and_why(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot())
    account, (child,) = registrations.family()

    applied = apply_for(registrations, account, campaign, child, key="counter-1")
    assert applied.status_code == 202, applied.json
    application_id = applied.json["application_id"]
    assert applied.headers["Location"] == applied.json["status_url"] == (
        f"/agent/families/{account}/applications/{application_id}")
    assert apply_for(registrations, account, campaign, child, key="counter-1").json == applied.json  # replayed

    wait_until(lambda: registrations.ledger().get(application_id) == "received", timeout=30,
               what="the agent's application in the ledger")
    assert list(registrations.ledger()) == [application_id]

    seen = registrations.get(account, f"/applications/{application_id}")
    assert seen.status_code == 200, seen.json
    (step,) = seen.json["history"]
    assert (step["to_status"], step["acted_by_agent"], step["actor_role"], step["reason"]) == (
        "received", True, "agent", REASON)
    listed = registrations.get(account, "/applications").json
    assert [(a["application_id"], a["applied_by_agent"]) for a in listed] == [(application_id, True)]
    with registrations.runtime.engine.connect() as connection:
        assert connection.execute(select(application_transitions.c.actor_subject).where(
            application_transitions.c.application_id == uuid.UUID(application_id))).scalar_one() == AGENT

    told = received_event(registrations, application_id)
    assert (told["family_account"], told["acted_by_agent"], told["agent_reason"], told["agent_subject"]) == (
        account, True, REASON, AGENT)

    # One entry on the family's audit trail, written by the ledger worker: the agent, for the family, and why.
    with registrations.runtime.engine.connect() as connection:
        (entry,) = [e for e in family_entries(connection, account) if e.target_id == application_id]
    assert (entry.action, entry.actor_subject, entry.actor_role, entry.on_behalf_of) == (
        "application.submit", AGENT, "agent", account)
    assert entry.changes["reason"] == {"before": None, "after": REASON}

    by_agent = registrations.client.get(applied.json["status_url"], headers=agent_headers(registrations))
    assert by_agent.status_code == 200 and by_agent.json["history"][0]["acted_by_agent"] is True


def test_the_familys_own_application_carries_no_agent_mark(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot())
    account, (child,) = registrations.family()
    application_id = registrations.submit(account, campaign, child).json["application_id"]
    wait_until(lambda: application_id in registrations.ledger(), timeout=30, what="the application in the ledger")
    (step,) = registrations.get(account, f"/applications/{application_id}").json["history"]
    assert (step["acted_by_agent"], step["actor_role"], step["reason"]) == (False, None, None)
    assert [a["applied_by_agent"] for a in registrations.get(account, "/applications").json] == [False]
    told = received_event(registrations, application_id)
    assert (told["acted_by_agent"], told["agent_reason"], told["agent_subject"]) == (False, None, None)


@pytest.mark.parametrize("reason", [None, "", "   ", "ok"])
def test_an_application_without_a_reason_is_refused_naming_reason_and_keeps_nothing(registrations, reason):
    campaign = registrations.publish_campaign(campaign_snapshot(mode="fcfs"))
    account, (child,) = registrations.family()
    refused = apply_for(registrations, account, campaign, child, reason=reason)
    assert refused.status_code == 422, refused.json
    assert refused.content_type == "application/problem+json"
    assert {error["field"] for error in refused.json["errors"]} == {"reason"}
    # Nothing held: the family itself may apply for that child at once, and holds the first place.
    own = registrations.submit(account, campaign, child)
    assert own.status_code == 202 and own.json["hold"]["kind"] == "held"


def test_an_agent_cannot_do_what_the_family_could_not(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot())
    closed = registrations.publish_campaign(campaign_snapshot(opens_in=timedelta(hours=-5),
                                                              closes_in=timedelta(hours=-1)))
    account, (child,) = registrations.family()

    too_late = apply_for(registrations, account, closed, child)
    assert too_late.status_code == 409 and too_late.json["code"] == "window-closed"
    stranger = apply_for(registrations, account, campaign, uuid.uuid4())
    assert stranger.status_code == 422 and stranger.json["errors"][0]["field"] == "child_id"
    unsworn = apply_for(registrations, account, campaign, child, sworn_statement=False)
    assert unsworn.status_code == 422 and unsworn.json["errors"][0]["field"] == "sworn_statement"

    own = registrations.submit(account, campaign, child)
    assert own.status_code == 202
    twice = apply_for(registrations, account, campaign, child)
    assert twice.status_code == 409 and twice.json["existing_application"] == own.json["application_id"]

    wait_until(lambda: registrations.ledger(), timeout=30, what="the family's one application in the ledger")
    assert list(registrations.ledger()) == [own.json["application_id"]]


def test_only_agents_apply_for_a_family_that_is_known_here(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot())
    account, (child,) = registrations.family()
    as_parent = {"Authorization": f"Bearer {registrations.token_for('parent', account)}",
                 "Idempotency-Key": uuid.uuid4().hex}
    assert apply_for(registrations, account, campaign, child, headers=as_parent).json["code"] == "role-missing"
    unknown = apply_for(registrations, f"family-{uuid.uuid4().hex[:8]}", campaign, child)
    assert unknown.status_code == 404 and unknown.json["code"] == "family-not-found"
    anonymous = registrations.client.post(f"/agent/families/{account}/applications", json={})
    assert anonymous.status_code == 401
    assert registrations.ledger() == {}


def test_the_agent_takes_the_familys_place_in_the_waiting_room_and_applies_once_admitted(registrations):
    snapshot = campaign_snapshot(mode="fcfs")
    campaign = registrations.publish_campaign({**snapshot, "waiting_room": room_snapshot()})
    account, (child,) = registrations.family()

    refused = apply_for(registrations, account, campaign, child)
    assert refused.status_code == 403 and refused.json["code"] == "admission-token-missing"

    place_path = f"/agent/families/{account}/waiting-rooms/{campaign['campaign_id']}/place"
    place = registrations.client.put(place_path, headers=agent_headers(registrations))
    assert place.status_code == 200 and place.json["state"] == "admitted", place.json
    # The family's one place: its own page reads the same place, admitted at the same instant.
    own = registrations.get(account, f"/waiting-rooms/{campaign['campaign_id']}/place")
    assert own.json["state"] == "admitted" and own.json["admitted_at"] == place.json["admitted_at"]

    admitted = apply_for(registrations, account, campaign, child,
                         headers=agent_headers(registrations, **{"Admission-Token": place.json["admission_token"]}))
    assert admitted.status_code == 202, admitted.json
    assert admitted.json["hold"]["kind"] == "held"
