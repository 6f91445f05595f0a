"""Four eyes on a draw's publication (docs/allocation-service.md#four-eyes) and scoped managers: a manager asks,
another approves and the draw is published once, with its events and audit entries; the one who asked cannot
approve alone; a manager outside the campaign's kind gets 403; a campaign without the setting publishes directly."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from services.allocation.app import create_app
from services.allocation.handlers.jobs import DrawScheduler
from services.allocation.settings import AllocationSettings
from services.allocation.store.tables import allocation_runs, audit, decisions
from tests.support.allocation import a_campaign, an_application

APPLICATIONS = 3


def closed_campaign(allocation, *, four_eyes: bool | None = True, kind: str = "sport_vacances") -> dict:
    campaign = a_campaign(kind=kind)
    if four_eyes is not None:
        campaign["publication_needs_second_manager"] = four_eyes
    allocation.publish(campaign)
    allocation.open(campaign)
    allocation.receive(*[an_application(campaign, arrival=n) for n in range(APPLICATIONS)])
    allocation.close(campaign)
    return campaign


@pytest.fixture
def managers(app, token_for):
    """`managers(subject, *groups)`: a manager's calls on the API."""
    def manager_named(subject: str, *groups: str):
        client, token = app.test_client(), token_for("manager", subject, groups=list(groups),
                                                     name=f"Gestionnaire {subject}")

        def call(method: str, path: str, **headers):
            return client.open(path, method=method, headers={"Authorization": f"Bearer {token}", **headers})
        return call
    return manager_named


def audit_actions(allocation, campaign_id) -> list[tuple[str, str]]:
    with allocation.engine.connect() as connection:
        return [(row.action, row.actor_subject) for row in connection.execute(
            select(audit.entries).where(audit.entries.c.chain == f"campaign:{campaign_id}")
            .order_by(audit.entries.c.seq))]


def audit_changes(allocation, campaign_id) -> list[dict]:
    with allocation.engine.connect() as connection:
        return list(connection.execute(
            select(audit.entries.c.changes).where(audit.entries.c.chain == f"campaign:{campaign_id}")
            .order_by(audit.entries.c.seq)).scalars())


def test_the_manager_who_asked_cannot_approve_alone(allocation, managers):
    campaign = closed_campaign(allocation)
    path = f"/campaigns/{campaign['campaign_id']}/allocation"
    alice = managers("alice")
    asked = alice("POST", f"{path}/publication-request")
    assert asked.status_code == 201
    assert (asked.json["requested_by"], asked.json["requested_by_name"], asked.json["approved_at"]) == (
        "alice", "Gestionnaire alice", None)

    alone = alice("POST", f"{path}/publication-request/approval")
    assert alone.status_code == 409 and alone.json["code"] == "same-manager"
    direct = alice("POST", f"{path}/publish", **{"Idempotency-Key": "k1"})
    assert direct.status_code == 409 and direct.json["code"] == "second-manager-required"
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()  # the automatic draw waits too

    assert allocation.count(allocation_runs) == allocation.count(decisions) == 0
    assert allocation.announced("allocation.decided") == []
    assert alice("GET", path).json["publication_request"]["approved_at"] is None
    assert audit_actions(allocation, campaign["campaign_id"]) == [("draw.publication_requested", "alice")]


def test_a_second_managers_approval_publishes_exactly_once(allocation, managers):
    campaign = closed_campaign(allocation)
    path = f"/campaigns/{campaign['campaign_id']}/allocation"
    alice, bruno, chloe = managers("alice"), managers("bruno"), managers("chloe")
    assert alice("POST", f"{path}/publication-request").status_code == 201
    again = bruno("POST", f"{path}/publication-request")  # asking again answers the request filed, unchanged
    assert again.status_code == 201 and again.json["requested_by"] == "alice"

    approved = bruno("POST", f"{path}/publication-request/approval")
    assert approved.status_code == 201 and approved.json["kind"] == "published"
    repeated = bruno("POST", f"{path}/publication-request/approval")
    by_another = chloe("POST", f"{path}/publication-request/approval")
    assert repeated.status_code == by_another.status_code == 201
    assert repeated.json["run_id"] == by_another.json["run_id"] == approved.json["run_id"]

    assert allocation.count(allocation_runs) == 1 and allocation.count(decisions) == APPLICATIONS
    assert len(allocation.announced("allocation.decided")) == APPLICATIONS
    request = alice("GET", f"{path}/publication-request").json
    assert (request["approved_by"], request["run_id"]) == ("bruno", approved.json["run_id"])
    assert alice("GET", path).json["published"]["run_id"] == approved.json["run_id"]
    assert audit_actions(allocation, campaign["campaign_id"]) == [
        ("draw.publication_requested", "alice"), ("draw.publish", "bruno")]
    changes = audit_changes(allocation, campaign["campaign_id"])[-1]
    assert (changes["requested_by"], changes["approved_by"], changes["run_id"]) == (
        {"before": None, "after": "alice"}, {"before": None, "after": "bruno"},
        {"before": None, "after": approved.json["run_id"]})
    assert alice("DELETE", f"{path}/publication-request").status_code == 204  # approved: nothing to withdraw
    assert alice("GET", f"{path}/publication-request").json["approved_by"] == "bruno"


def test_a_request_can_be_withdrawn_and_then_nothing_is_approved(allocation, managers):
    campaign = closed_campaign(allocation)
    path = f"/campaigns/{campaign['campaign_id']}/allocation"
    alice, bruno = managers("alice"), managers("bruno")
    assert alice("POST", f"{path}/publication-request").status_code == 201
    assert bruno("DELETE", f"{path}/publication-request").status_code == 204
    assert bruno("DELETE", f"{path}/publication-request").status_code == 204  # again: nothing changes
    assert bruno("GET", f"{path}/publication-request").status_code == 404
    refused = bruno("POST", f"{path}/publication-request/approval")
    assert refused.status_code == 409 and refused.json["code"] == "no-publication-request"
    assert allocation.count(allocation_runs) == 0
    assert audit_actions(allocation, campaign["campaign_id"]) == [
        ("draw.publication_requested", "alice"), ("draw.publication_withdrawn", "bruno")]


def test_a_campaign_without_four_eyes_publishes_directly(allocation, managers):
    alice = managers("alice")
    for four_eyes in (False, None):  # off, or a snapshot from before the setting
        campaign = closed_campaign(allocation, four_eyes=four_eyes)
        path = f"/campaigns/{campaign['campaign_id']}/allocation"
        assert alice("GET", path).json["publication_needs_second_manager"] is False
        asked = alice("POST", f"{path}/publication-request")
        assert asked.status_code == 409 and asked.json["code"] == "no-second-manager-needed"
        published = alice("POST", f"{path}/publish", **{"Idempotency-Key": f"k-{four_eyes}"})
        assert published.status_code == 201 and published.json["kind"] == "published"
    assert allocation.count(allocation_runs) == 2


def test_a_manager_outside_the_campaigns_kind_gets_403(make_settings, redis_client, clock, allocation, token_for):
    campaign = closed_campaign(allocation)
    scoped = create_app(make_settings("allocation", AllocationSettings,
                                      manager_scopes="dfpe-psv=kind:sport_vacances;conservatoire=kind:"
                                                     "conservatoire_examen"), clock=clock)
    try:
        def manager(subject: str, group: str):
            client, token = scoped.test_client(), token_for("manager", subject, groups=[group])
            return lambda method, path: client.open(path, method=method, headers={
                "Authorization": f"Bearer {token}", "Idempotency-Key": subject})
        path = f"/campaigns/{campaign['campaign_id']}/allocation"
        psv, outsider = manager("alice", "dfpe-psv"), manager("olga", "conservatoire")
        assert psv("POST", f"{path}/publication-request").status_code == 201
        for method, action in (("GET", ""), ("POST", "/dry-run"), ("POST", "/publish"),
                               ("POST", "/publication-request"), ("DELETE", "/publication-request"),
                               ("POST", "/publication-request/approval"), ("GET", "/results.csv"),
                               ("GET", "/draw-record")):
            answer = outsider(method, f"{path}{action}")
            assert answer.status_code == 403, (method, action, answer.json)
            assert answer.json["code"] == "out-of-scope"
        assert allocation.count(allocation_runs) == 0
        assert psv("GET", f"{path}/publication-request").json["approved_at"] is None  # not withdrawn by olga
        approved = manager("bruno", "dfpe-psv")("POST", f"{path}/publication-request/approval")
        assert approved.status_code == 201
    finally:
        scoped.extensions["guichet.runtime"].close()
