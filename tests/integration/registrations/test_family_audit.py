"""Registrations' audit trail for the family's own writes and the ledger worker (docs/audit.md#registrations), on a
real PostgreSQL: the ledger writing a submission leaves one entry per application, never twice for a redelivered
record, by the family (or the agent who applied for it); a batch keeps every family's chain unbroken; a parent's
change names its request; an erasure's entry keeps none of what it erased."""
import json
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import create_engine, select

from services.registrations.store.audit import chain_of
from services.registrations.store.tables import audit
from services.registrations.usecases.erasure import erase_family
from services.registrations.usecases.ledger import IntakeRecord, record_intake
from services.registrations.usecases.purge import RegistrationsRetention, purge
from shared.audit import check_chains
from shared.events import contract_for

NOW = datetime(2026, 2, 8, 23, 2, tzinfo=UTC)


def submitted(campaign_id: uuid.UUID, family: str) -> dict:
    """An `application.submitted` of the contract's example, for this campaign and family, with a child of its own."""
    example = contract_for("application.submitted").example
    return json.loads(json.dumps({**example, "application_id": str(uuid.uuid4()), "campaign_id": str(campaign_id),
                                  "family_account": family,
                                  "child": {**example["child"], "child_id": str(uuid.uuid4())}}, default=str))


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def entries(engine, chain: str | None = None) -> list[dict]:
    query = select(audit.entries).order_by(audit.entries.c.chain, audit.entries.c.seq)
    with engine.connect() as connection:
        return [dict(row) for row in connection.execute(
            query if chain is None else query.where(audit.entries.c.chain == chain)).mappings()]


def test_the_ledger_writing_submissions_leaves_one_entry_per_application_never_twice(engine):
    campaign = uuid.uuid4()
    batch = [IntakeRecord(submitted(campaign, family=f"family-{n % 2}"), partition=0, offset=n) for n in range(5)]
    record_intake(engine, batch[:3], NOW)
    record_intake(engine, batch, NOW)  # redelivered with two new ones: only the new ones are written
    record_intake(engine, batch[3:], NOW)  # redelivered again: nothing

    written = entries(engine)
    assert sorted(entry["target_id"] for entry in written) == sorted(r.data["application_id"] for r in batch)
    first = next(entry for entry in written if entry["target_id"] == batch[0].data["application_id"])
    assert (first["chain"], first["actor_subject"], first["actor_role"], first["on_behalf_of"]) == (
        "family:family-0", "family-0", "parent", None)
    assert (first["action"], first["target_type"], first["request_id"], first["occurred_at"]) == (
        "application.submit", "application", None, NOW)
    assert first["changes"]["status"] == {"before": None, "after": "received"}
    assert first["changes"]["campaign_id"] == {"before": None, "after": str(campaign)}
    assert first["changes"]["arrival_position"] == {"before": None, "after": 0}
    assert "child" not in json.dumps(first["changes"]).replace("child_id", "")  # the facts are the household's
    with engine.connect() as connection:
        reports = check_chains(connection, audit)
    assert [(report.chain, report.checked, report.ok) for report in reports] == [
        ("family:family-0", 3, True), ("family:family-1", 2, True)]


def test_an_agents_submission_is_the_agents_action_for_the_family(engine):
    data = {**submitted(uuid.uuid4(), family="family-9"), "acted_by_agent": True, "agent_subject": "agent-7",
            "agent_reason": "au guichet, la famille sans ordinateur"}
    record_intake(engine, [IntakeRecord(data, partition=0, offset=0)], NOW)
    (entry,) = entries(engine)
    assert (entry["actor_subject"], entry["actor_role"], entry["on_behalf_of"]) == ("agent-7", "agent", "family-9")
    assert entry["changes"]["reason"] == {"before": None, "after": "au guichet, la famille sans ordinateur"}


def test_concurrent_batches_of_the_same_families_keep_each_chain_unbroken(engine):
    families = [f"family-{n}" for n in range(4)]
    batches = [[IntakeRecord(submitted(uuid.uuid4(), family=families[(b + n) % 4]), partition=b, offset=n)
                for n in range(20)] for b in range(6)]
    with ThreadPoolExecutor(max_workers=6) as pool:
        list(pool.map(lambda batch: record_intake(engine, batch, NOW), batches))
    with engine.connect() as connection:
        reports = check_chains(connection, audit)
    assert [(report.chain, report.checked, report.ok) for report in reports] == [
        (chain_of(family), 30, True) for family in families]


def test_a_parents_erasure_leaves_one_entry_that_keeps_nothing_it_erased(registrations, redis_client):
    account, (child,) = registrations.family(email="famille.durand@example.org")
    parent = {"Authorization": f"Bearer {registrations.token_for('parent', account)}"}
    changed = registrations.client.patch(f"/household/children/{child}", json={"first_name": "Zoé"},
                                         headers={**parent, "X-Request-ID": "req-child-1"})
    assert changed.status_code == 200, changed.json
    (entry,) = entries(registrations.runtime.engine, chain_of(account))
    assert (entry["action"], entry["target_type"], entry["target_id"], entry["request_id"]) == (
        "child.change", "child", str(child), "req-child-1")
    assert entry["changes"] == {"first_name": {"before": "Enfant0", "after": "Zoé"}}

    erased = registrations.client.post("/household/erasure", headers={**parent, "X-Request-ID": "req-erase-1"})
    assert erased.status_code == 200, erased.json
    pseudonym = erased.json["pseudonym"]
    (kept,) = entries(registrations.runtime.engine)
    assert (kept["chain"], kept["actor_subject"], kept["actor_role"], kept["on_behalf_of"], kept["request_id"]) == (
        f"family:{pseudonym}", pseudonym, "parent", None, "req-erase-1")
    assert (kept["action"], kept["target_type"], kept["target_id"]) == ("family.erase", "family", pseudonym)
    assert {name: change["after"] for name, change in kept["changes"].items()
            if not name.startswith("documents")} == {  # counts only; documents: test_documents.py
        "applications_pseudonymised": 0, "children_deleted": 1, "households_deleted": 1,
        "audit_entries_deleted": 1, "audit_chain_last_hash": entry["hash"]}
    text = json.dumps(kept, default=str)
    assert not [needle for needle in (account, "Zoé", "Durand", "famille.durand") if needle in text]
    # Nothing left to erase: no second entry.
    assert erase_family(registrations.runtime.engine, redis_client, account, "family", NOW) != pseudonym
    assert len(entries(registrations.runtime.engine)) == 1


def test_a_familys_chain_is_purged_whole_once_its_last_entry_is_past_the_ledgers_retention(engine):
    years = timedelta(days=365)
    record_intake(engine, [IntakeRecord(submitted(uuid.uuid4(), "family-idle"), 0, n) for n in range(2)], NOW)
    record_intake(engine, [IntakeRecord(submitted(uuid.uuid4(), "family-active"), 1, 0)], NOW)
    record_intake(engine, [IntakeRecord(submitted(uuid.uuid4(), "family-active"), 1, 1)], NOW + 2 * years)
    retention = RegistrationsRetention(applications=3 * years, removed_children=timedelta(days=90),
                                       inbox=timedelta(days=60))

    assert purge(engine, NOW + 3 * years - timedelta(days=1), retention)["audit"] == 0
    assert purge(engine, NOW + 3 * years + timedelta(days=1), retention)["audit"] == 2  # the idle family's, whole
    assert [entry["chain"] for entry in entries(engine)] == ["family:family-active"] * 2
    with engine.connect() as connection:
        assert [(report.chain, report.ok) for report in check_chains(connection, audit)] == [
            ("family:family-active", True)]
