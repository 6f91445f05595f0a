"""Agents act for families (issue 16): each action with its required reason, the family's history and the
event its message is written from, one audit entry per action; parents' tokens, unknown families and other
families' applications refused. Real PostgreSQL and Redis; the ledger rows are put in as allocation leaves them."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import DBAPIError

from services.registrations.store.audit import chain_of, family_entries
from services.registrations.store.tables import application_transitions, applications, audit
from shared.audit import check_chains
from tests.support.agents import events_of, last_event, ledger_application, new_family

REASON = "Appel au 3975 : la mère accepte la place, pas d'accès internet"


@pytest.fixture
def agent(token_for):
    def headers(subject: str = "agent-jemmapes-1", **extra) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for('agent', subject)}", "Idempotency-Key": uuid.uuid4().hex,
                **extra}
    return headers


@pytest.fixture
def parent(token_for):
    def headers(account: str, **extra) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_for('parent', account)}", "Idempotency-Key": uuid.uuid4().hex,
                **extra}
    return headers


def entries(engine, account):
    with engine.connect() as connection:
        return family_entries(connection, account)


def transitions_of(engine, application_id):
    with engine.connect() as connection:
        return connection.execute(select(func.count()).where(
            application_transitions.c.application_id == application_id)).scalar_one()


@pytest.mark.parametrize("verb, status, event", [("accept", "confirmed", "offer.accepted"),
                                                 ("decline", "declined", "offer.declined"),
                                                 ("withdraw", "withdrawn", "application.withdrawn")])
def test_an_agent_acts_for_the_family_which_reads_who_and_why(client, engine, agent, parent, verb, status, event):
    account, child = new_family(engine)
    application_id = ledger_application(engine, account, child)

    acted = client.post(f"/agent/families/{account}/applications/{application_id}/{verb}", json={"reason": REASON},
                        headers=agent())
    assert acted.status_code == 200, acted.json
    assert acted.json["status"] == status

    seen = client.get(f"/applications/{application_id}", headers=parent(account)).json
    last = seen["history"][-1]
    assert (last["to_status"], last["acted_by_agent"], last["actor_role"], last["reason"]) == (
        status, True, "agent", REASON)
    assert last["at"]
    assert [step["acted_by_agent"] for step in seen["history"]] == [False, False, True]

    message = last_event(engine)
    assert message["type"] == event
    assert (message["data"]["family_account"], message["data"]["acted_by_agent"], message["data"]["reason"]) == (
        account, True, REASON)

    (entry,) = entries(engine, account)
    assert (entry.actor_subject, entry.actor_role, entry.on_behalf_of) == ("agent-jemmapes-1", "agent", account)
    assert (entry.target_type, entry.target_id) == ("application", str(application_id))
    assert entry.changes == {"status": {"before": "allocated", "after": status},
                             "reason": {"before": None, "after": REASON}}
    with engine.connect() as connection:
        assert [report.ok for report in check_chains(connection, audit, chain_of(account))] == [True]


def test_an_agent_may_waive_a_confirmed_places_late_fee_and_it_is_announced_and_audited(client, engine, agent):
    account, child = new_family(engine)
    confirmed = ledger_application(engine, account, child, status="confirmed")
    waived = client.post(f"/agent/families/{account}/applications/{confirmed}/withdraw",
                         json={"reason": REASON, "waive_late_fee": True}, headers=agent())
    assert waived.status_code == 200, waived.json
    announced = last_event(engine)
    assert (announced["type"], announced["data"]["late_fee_waived"]) == ("application.withdrawn", True)
    (entry,) = entries(engine, account)
    assert entry.action == "application.withdraw_waiving_late_fee"

    # On a place not confirmed there is no fee to waive: nothing of the kind is announced.
    other, second_child = new_family(engine)
    offered = ledger_application(engine, other, second_child)
    assert client.post(f"/agent/families/{other}/applications/{offered}/withdraw",
                       json={"reason": REASON, "waive_late_fee": True}, headers=agent()).status_code == 200
    assert "late_fee_waived" not in last_event(engine)["data"]


def test_the_familys_own_answer_carries_no_agent_mark(client, engine, parent):
    account, child = new_family(engine)
    application_id = ledger_application(engine, account, child)
    accepted = client.post(f"/applications/{application_id}/accept", headers=parent(account))
    assert accepted.status_code == 200
    last = accepted.json["history"][-1]
    assert (last["actor_role"], last["acted_by_agent"], last["reason"]) == ("parent", False, "accepted by the parent")
    assert "acted_by_agent" not in last_event(engine)["data"]
    (entry,) = entries(engine, account)  # the family's own entry: no agent, no one on whose behalf, no reason
    assert (entry.actor_subject, entry.actor_role, entry.on_behalf_of) == (account, "parent", None)
    assert "reason" not in entry.changes


@pytest.mark.parametrize("body", [{}, {"reason": ""}, {"reason": "   "}, {"reason": "ok"}, {"reason": None}])
def test_an_action_without_a_reason_is_refused_naming_reason_and_changes_nothing(client, engine, agent, body):
    account, child = new_family(engine)
    application_id = ledger_application(engine, account, child)
    for verb in ("accept", "decline", "withdraw"):
        refused = client.post(f"/agent/families/{account}/applications/{application_id}/{verb}", json=body,
                              headers=agent())
        assert refused.status_code == 422, refused.json
        assert refused.content_type == "application/problem+json"
        assert {error["field"] for error in refused.json["errors"]} == {"reason"}
    assert transitions_of(engine, application_id) == 2
    assert events_of(engine, application_id) == []
    assert entries(engine, account) == []


def test_a_parent_token_is_refused_on_every_agent_endpoint(client, engine, parent):
    account, child = new_family(engine)
    application_id = ledger_application(engine, account, child)
    own = parent(account)
    calls = [client.get("/agent/families", query_string={"account": account}, headers=own),
             client.get(f"/agent/families/{account}/household", headers=own),
             client.put(f"/agent/families/{account}/household", json={"reason": REASON}, headers=own),
             client.get(f"/agent/families/{account}/applications", headers=own),
             client.get(f"/agent/families/{account}/applications/{application_id}", headers=own),
             *[client.post(f"/agent/families/{account}/applications/{application_id}/{verb}",
                           json={"reason": REASON}, headers=own) for verb in ("accept", "decline", "withdraw")]]
    assert [(call.status_code, call.json["code"]) for call in calls] == [(403, "role-missing")] * len(calls)
    anonymous = client.get(f"/agent/families/{account}/applications")
    assert anonymous.status_code == 401
    assert transitions_of(engine, application_id) == 2


def test_an_unknown_family_or_another_familys_application_is_not_found(client, engine, agent):
    account, child = new_family(engine)
    other_account, other_child = new_family(engine)
    others = ledger_application(engine, other_account, other_child)
    for path in ("/agent/families/family-nobody/household", "/agent/families/family-nobody/applications",
                 f"/agent/families/family-nobody/applications/{others}"):
        missing = client.get(path, headers=agent())
        assert (missing.status_code, missing.json["code"]) == (404, "family-not-found")
    crossed = client.post(f"/agent/families/{account}/applications/{others}/accept", json={"reason": REASON},
                          headers=agent())
    assert (crossed.status_code, crossed.json["code"]) == (404, "application-not-found")
    assert client.get(f"/agent/families/{account}/applications/{others}", headers=agent()).status_code == 404
    assert client.post(f"/agent/families/family-nobody/applications/{others}/withdraw", json={"reason": REASON},
                       headers=agent()).status_code == 404
    assert client.get(f"/agent/families/{'x' * 256}/applications", headers=agent()).status_code == 404
    for hostile in ("family%00a", "family%1Ba"):
        assert client.get(f"/agent/families/{hostile}/household", headers=agent()).status_code == 404
        assert client.put(f"/agent/families/{hostile}/household", json={**FACTS, "reason": REASON},
                          headers=agent(**{"If-Match": "*"})).status_code == 404
    assert transitions_of(engine, others) == 2
    assert entries(engine, account) == entries(engine, other_account) == []


def test_an_agent_is_held_to_the_familys_deadline(client, engine, agent):
    account, child = new_family(engine)
    late = ledger_application(engine, account, child, offer_expires_in=timedelta(seconds=-1))
    refused = client.post(f"/agent/families/{account}/applications/{late}/accept", json={"reason": REASON},
                          headers=agent())
    assert (refused.status_code, refused.json["code"]) == (409, "offer-expired")
    waiting = ledger_application(engine, account, uuid.uuid4(), status="received")
    no_offer = client.post(f"/agent/families/{account}/applications/{waiting}/accept", json={"reason": REASON},
                           headers=agent())
    assert (no_offer.status_code, no_offer.json["code"]) == (409, "no-offer")
    assert transitions_of(engine, late) == 2 and transitions_of(engine, waiting) == 1
    assert entries(engine, account) == []


def test_an_agent_reads_the_familys_applications_with_their_history(client, engine, agent):
    account, child = new_family(engine)
    application_id = ledger_application(engine, account, child)
    listed = client.get(f"/agent/families/{account}/applications", headers=agent())
    assert listed.status_code == 200 and [a["application_id"] for a in listed.json] == [str(application_id)]
    one = client.get(f"/agent/families/{account}/applications/{application_id}", headers=agent()).json
    assert [step["to_status"] for step in one["history"]] == ["received", "allocated"]


def test_accepting_again_answers_the_stored_state_without_a_second_change(client, engine, parent):
    """A parent's answer committed, then its response lost (PostgreSQL restarting in between): the retry, with a
    new or an abandoned Idempotency-Key, reads the stored answer instead of "no offer"."""
    account, child = new_family(engine)
    application_id = ledger_application(engine, account, child)
    first = client.post(f"/applications/{application_id}/accept", headers=parent(account))
    again = client.post(f"/applications/{application_id}/accept", headers=parent(account))
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json["status"] == "confirmed" and again.json["history"] == first.json["history"]
    assert transitions_of(engine, application_id) == 3
    assert events_of(engine, application_id) == ["offer.accepted"]
    # A different answer to a settled offer is still refused.
    contrary = client.post(f"/applications/{application_id}/decline", headers=parent(account))
    assert (contrary.status_code, contrary.json["code"]) == (409, "no-offer")


def test_declining_again_answers_the_stored_state_and_frees_the_child_once(client, engine, parent, redis_client):
    account, child = new_family(engine)
    application_id = ledger_application(engine, account, child)
    first = client.post(f"/applications/{application_id}/decline", headers=parent(account))
    again = client.post(f"/applications/{application_id}/decline", headers=parent(account))
    assert (first.status_code, again.status_code) == (200, 200)
    assert again.json["status"] == "declined"
    assert transitions_of(engine, application_id) == 3
    assert events_of(engine, application_id) == ["offer.declined"]
    assert (client.post(f"/applications/{application_id}/accept", headers=parent(account)).json["code"]
            == "no-offer")


FACTS = {"single_parent": True, "quotient_tranche": 3, "quotient_justified_on": "2025-09-30", "arrondissement": 11,
         "postal_mail": False, "postal_address": None, "email": "famille.martin@example.fr", "language": "fr"}


def test_an_agent_corrects_the_household_with_a_reason_kept_in_the_trail(client, engine, agent):
    account, _ = new_family(engine, email="famille.martin@example.fr")
    read = client.get(f"/agent/families/{account}/household", headers=agent())
    assert read.status_code == 200 and read.json["quotient_tranche"] is None
    etag = read.headers["ETag"]

    corrected = client.put(f"/agent/families/{account}/household",
                           json={**FACTS, "reason": "Attestation CAF présentée au guichet"},
                           headers=agent(**{"If-Match": etag}))
    assert corrected.status_code == 200, corrected.json
    assert corrected.json["quotient_tranche"] == 3 and len(corrected.json["children"]) == 1

    (entry,) = entries(engine, account)
    assert (entry.action, entry.target_type, entry.actor_role, entry.on_behalf_of) == (
        "household.correct", "household", "agent", account)
    assert entry.changes["quotient_tranche"] == {"before": None, "after": 3}
    assert entry.changes["single_parent"] == {"before": False, "after": True}
    assert entry.changes["reason"] == {"before": None, "after": "Attestation CAF présentée au guichet"}
    assert "email" not in entry.changes  # unchanged

    stale = client.put(f"/agent/families/{account}/household", json={**FACTS, "reason": REASON},
                       headers=agent(**{"If-Match": etag}))
    assert stale.status_code == 412


def test_a_household_correction_without_reason_or_breaking_a_rule_changes_nothing(client, engine, agent):
    account, _ = new_family(engine)
    etag = client.get(f"/agent/families/{account}/household", headers=agent()).headers["ETag"]
    no_reason = client.put(f"/agent/families/{account}/household", json=FACTS, headers=agent(**{"If-Match": etag}))
    assert no_reason.status_code == 422
    assert [error["field"] for error in no_reason.json["errors"]] == ["reason"]
    broken = client.put(f"/agent/families/{account}/household",
                        json={**FACTS, "quotient_tranche": 11, "reason": REASON}, headers=agent(**{"If-Match": etag}))
    assert broken.status_code == 422 and "quotient_tranche" in [e["field"] for e in broken.json["errors"]]
    assert client.get(f"/agent/families/{account}/household", headers=agent()).json["version"] == 1
    assert entries(engine, account) == []


def test_an_agent_declares_the_household_of_a_new_account_only_on_purpose(client, engine, agent):
    account = f"family-{uuid.uuid4().hex[:8]}"
    unknown = client.put(f"/agent/families/{account}/household", json={**FACTS, "reason": REASON},
                         headers=agent(**{"If-Match": '"whatever"'}))
    assert (unknown.status_code, unknown.json["code"]) == (404, "family-not-found")
    declared = client.put(f"/agent/families/{account}/household", json={**FACTS, "reason": REASON},
                          headers=agent(**{"If-Match": "*"}))
    assert declared.status_code == 200 and declared.json["version"] == 1
    (entry,) = entries(engine, account)
    assert entry.action == "household.declare" and entry.changes["quotient_tranche"] == {"before": None, "after": 3}


def test_an_agent_finds_a_family_by_account_email_or_child(client, engine, agent):
    account, child = new_family(engine, first_name="Inès", last_name="Martin", email="Ines.Parent@Example.org")
    new_family(engine, first_name="Inès", last_name="Martin", email="autre@example.org",
               birth_date=date(2016, 1, 1))

    def found(**query):
        answer = client.get("/agent/families", query_string=query, headers=agent())
        assert answer.status_code == 200, answer.json
        return [family["family_account"] for family in answer.json]

    assert found(account=account) == [account]
    assert found(email="ines.parent@example.org") == [account]
    assert found(child_name="  inès  MARTIN ", birth_date="2015-06-01") == [account]
    assert found(child_name="Martin Inès", birth_date="2015-06-01") == [account]
    assert found(child_name="Inès", birth_date="2015-06-01") == [account]
    assert found(child_name="Inès", birth_date="2015-06-02") == []
    assert found(account="family-nobody") == []
    one = client.get("/agent/families", query_string={"account": account}, headers=agent()).json[0]
    assert one["children"] == [{"child_id": str(child), "first_name": "Inès", "last_name": "Martin",
                                "birth_date": "2015-06-01"}]

    for query, field in (({"child_name": "Inès"}, "birth_date"), ({"birth_date": "2015-06-01"}, "child_name"),
                         ({}, "account"), ({"email": "not-an-email"}, "email")):
        refused = client.get("/agent/families", query_string=query, headers=agent())
        assert refused.status_code == 422, query
        assert f"query.{field}" in [error["field"] for error in refused.json["errors"]], refused.json


def test_the_agents_api_is_documented_with_its_reason_and_its_security(client):
    spec = client.get("/openapi.json").json
    paths = spec["paths"]
    actions = [f"/agent/families/{{family_account}}/applications/{{application_id}}/{verb}"
               for verb in ("accept", "decline", "withdraw")]
    for path in actions:
        operation = paths[path]["post"]
        assert operation["security"] == [{"bearerAuth": []}]
        assert {"404", "409", "422"} <= operation["responses"].keys()
        assert "Idempotency-Key" in [parameter["name"] for parameter in operation["parameters"]]
    schemas = spec["components"]["schemas"]
    assert "reason" in schemas["Reason"]["required"]
    assert "reason" in schemas["HouseholdCorrection"]["required"]
    assert {"actor_role", "acted_by_agent"} <= schemas["Transition"]["properties"].keys()
    assert {"get", "put"} <= paths["/agent/families/{family_account}/household"].keys()


def test_a_family_and_an_agent_answering_at_once_leave_one_answer(app, engine, agent, parent):
    """The row lock orders them: the same answer twice is one change answered twice, contrary answers one change
    and one 409."""
    account, child = new_family(engine)
    same = ledger_application(engine, account, child)
    contrary = ledger_application(engine, account, uuid.uuid4())

    def post(path, headers, body=None):
        return app.test_client().post(path, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=4) as pool:
        both_accept = [pool.submit(post, f"/applications/{same}/accept", parent(account)),
                       pool.submit(post, f"/agent/families/{account}/applications/{same}/accept", agent(),
                                   {"reason": REASON})]
        opposite = [pool.submit(post, f"/applications/{contrary}/decline", parent(account)),
                    pool.submit(post, f"/agent/families/{account}/applications/{contrary}/accept", agent(),
                                {"reason": REASON})]
        both_accept, opposite = [f.result() for f in both_accept], [f.result() for f in opposite]
    assert [answer.status_code for answer in both_accept] == [200, 200]
    assert events_of(engine, same) == ["offer.accepted"] and transitions_of(engine, same) == 3
    assert sorted(answer.status_code for answer in opposite) == [200, 409]
    assert len(events_of(engine, contrary)) == 1 and transitions_of(engine, contrary) == 3
    # Exactly the two changes are in the family's trail, each by whoever made it (the ledger names the same).
    trail = {entry.target_id: entry.actor_role for entry in entries(engine, account)}
    moved_by = {str(answer.json["application_id"]): answer.json["history"][-1]["actor_role"]
                for answer in both_accept + opposite if answer.status_code == 200}
    assert len(entries(engine, account)) == 2 and trail == moved_by


def test_the_ledger_and_audit_tables_match_the_migrations(engine):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import MetaData

    declared = MetaData(schema="registrations")
    compared = ("audit_entries", "audit_chain_heads", "application_transitions", "applications")
    for table in (audit.entries, audit.heads, application_transitions, applications):
        table.to_metadata(declared)
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_schemas": True, "compare_type": True,
            "include_name": lambda name, kind, parent: {"schema": name == "registrations",
                                                        "table": name in compared}.get(kind, True)})
        assert compare_metadata(context, declared) == []


def test_the_familys_audit_entries_cannot_be_changed(engine, client, agent):
    account, child = new_family(engine)
    application_id = ledger_application(engine, account, child)
    client.post(f"/agent/families/{account}/applications/{application_id}/withdraw", json={"reason": REASON},
                headers=agent())
    with pytest.raises(DBAPIError, match="append-only"), engine.begin() as connection:
        connection.execute(audit.entries.update().values(actor_subject="someone-else"))
    assert entries(engine, account)[0].actor_subject == "agent-jemmapes-1"
