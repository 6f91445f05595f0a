"""Agents read a family's audit trail (docs/registrations.md#agents, docs/audit.md): what agents did for the
family, in chain order, filtered by time and actor, as JSON or CSV; never another family's entries; a parent's
token refused, an unknown family not found. Real PostgreSQL and Redis."""
import csv
import io
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from services.registrations.app import create_app
from services.registrations.settings import RegistrationsSettings
from tests.support.agents import ledger_application, new_family
from tests.support.campaigns import MovableClock

ACCEPTED = "Appel au 3975 : la mère accepte la place"
WITHDRAWN = "Au guichet : l'enfant part en vacances avec ses grands-parents"


@dataclass
class Counter:
    """Registrations on a clock the test moves, and the headers of its agents."""
    client: Any
    engine: Any
    clock: MovableClock
    token_for: Callable[..., str]

    def agent(self, subject: str = "agent-jemmapes-1", **extra: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_for('agent', subject)}", "Idempotency-Key": uuid.uuid4().hex,
                **extra}


@pytest.fixture
def counter(make_settings, redis_client, token_for):
    clock = MovableClock(datetime.now(UTC))
    service = create_app(make_settings("registrations", RegistrationsSettings), clock=clock)
    runtime = service.extensions["guichet.runtime"]
    yield Counter(service.test_client(), runtime.engine, clock, token_for)
    runtime.close()


def act(counter, account, application_id, verb, reason, subject):
    acted = counter.client.post(f"/agent/families/{account}/applications/{application_id}/{verb}",
                                json={"reason": reason}, headers=counter.agent(subject))
    assert acted.status_code == 200, acted.json


@pytest.fixture
def family_with_history(counter):
    """A family two agents acted for, two hours apart, and another family an agent acted for in between; the
    instant between the two actions."""
    account, child = new_family(counter.engine)
    other, other_child = new_family(counter.engine)
    accepted, withdrawn = (ledger_application(counter.engine, account, child),
                           ledger_application(counter.engine, account, child))
    act(counter, account, accepted, "accept", ACCEPTED, "agent-jemmapes-1")
    act(counter, other, ledger_application(counter.engine, other, other_child), "decline", "Refus", "agent-jemmapes-1")
    counter.clock.advance(hours=2)
    act(counter, account, withdrawn, "withdraw", WITHDRAWN, "agent-3975-2")
    return account, accepted, withdrawn, counter.clock() - timedelta(hours=1)


def trail(counter, account, query="", **headers):
    return counter.client.get(f"/agent/families/{account}/audit{query}", headers=counter.agent(**headers))


def instant(moment: datetime) -> str:
    return moment.isoformat().replace("+", "%2B")


def test_an_agent_reads_the_familys_trail_and_only_its_own(counter, family_with_history):
    account, accepted, withdrawn, _ = family_with_history
    answer = trail(counter, account)
    assert answer.status_code == 200
    assert [(e["seq"], e["actor"]["subject"], e["action"], e["target"]["id"]) for e in answer.json] == [
        (1, "agent-jemmapes-1", "offer.accept", str(accepted)), (2, "agent-3975-2", "application.withdraw",
                                                                str(withdrawn))]
    first, second = answer.json
    assert {e["chain"] for e in answer.json} == {f"family:{account}"}  # not the other family's decline
    assert (first["actor"]["role"], first["on_behalf_of"]) == ("agent", account)
    assert first["changes"] == {"status": {"before": "allocated", "after": "confirmed"},
                                "reason": {"before": None, "after": ACCEPTED}}
    assert second["previous_hash"] == first["hash"]


def test_the_trail_is_filtered_by_time_and_actor(counter, family_with_history):
    account, _, _, between = family_with_history
    assert [e["seq"] for e in trail(counter, account, "?actor=agent-3975-2").json] == [2]
    assert [e["seq"] for e in trail(counter, account, f"?since={instant(between)}").json] == [2]
    assert [e["seq"] for e in trail(counter, account, f"?until={instant(between)}").json] == [1]
    assert trail(counter, account, "?actor=agent-nobody").json == []
    backwards = trail(counter, account, f"?since={instant(between)}&until={instant(between)}")
    assert backwards.status_code == 422 and backwards.mimetype == "application/problem+json"
    assert "until" in str(backwards.json)
    assert trail(counter, account, "?since=hier").status_code == 422


def test_the_trail_exports_csv(counter, family_with_history):
    account, accepted, withdrawn, _ = family_with_history
    for answer in (trail(counter, account, Accept="text/csv"), trail(counter, account, "?format=csv")):
        assert answer.status_code == 200 and answer.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
        assert [(row["seq"], row["actor_subject"], row["on_behalf_of"], row["target_id"]) for row in rows] == [
            ("1", "agent-jemmapes-1", account, str(accepted)), ("2", "agent-3975-2", account, str(withdrawn))]
        assert WITHDRAWN in rows[1]["changes"] and rows[1]["hash"] and rows[1]["previous_hash"] == rows[0]["hash"]
    as_json = trail(counter, account, "?format=json", Accept="text/csv")
    assert as_json.mimetype == "application/json" and len(as_json.json) == 2


def test_a_parent_or_nobody_cannot_read_it_and_an_unknown_family_is_not_found(counter, family_with_history):
    account = family_with_history[0]
    as_parent = counter.client.get(f"/agent/families/{account}/audit",
                                   headers={"Authorization": f"Bearer {counter.token_for('parent', account)}"})
    assert as_parent.status_code == 403 and as_parent.json["code"] == "role-missing"
    assert counter.client.get(f"/agent/families/{account}/audit").status_code == 401
    unknown = trail(counter, "family-unknown")
    assert unknown.status_code == 404 and unknown.json["code"] == "family-not-found"


def test_the_trail_is_in_the_openapi_with_csv(counter):
    operation = counter.client.get("/openapi.json").json["paths"]["/agent/families/{family_account}/audit"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    assert operation["responses"]["200"]["content"]["application/json"]["schema"]["items"] == {
        "$ref": "#/components/schemas/AuditEntry"}
    assert operation["security"] == [{"bearerAuth": []}] and {"404", "422"} <= set(operation["responses"])
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"since", "until", "actor", "format"}
