"""The campaigns audit trail against real PostgreSQL (docs/audit.md): an entry per manager write in the write's
transaction, one unbroken chain under concurrent writers, tampering named by the check, the read API."""
import csv
import io
import subprocess
import sys
import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from services.campaigns.store.tables import audit
from services.campaigns.usecases.lifecycle import archive_finished_seasons
from shared.audit import Actor, AuditTables, check_chains, record_entry
from shared.audit_check import check_service
from tests.support.campaigns import etag_of, offer_body


def entries(engine, campaign_id: str) -> list:
    with engine.connect() as connection:
        return list(connection.execute(select(audit.entries).where(audit.entries.c.chain == f"campaign:{campaign_id}")
                                       .order_by(audit.entries.c.seq)).mappings())


def audit_of(manager, campaign_id: str, query: str = "", **headers):
    return manager.client.get(f"/campaigns/{campaign_id}/audit{query}", headers=manager.headers(**headers))


def tamper(engine, statement: str, **parameters) -> None:
    """What someone with the database's keys could do: the append-only trigger switched off for one statement."""
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE campaigns.audit_entries DISABLE TRIGGER audit_entries_append_only"))
        connection.execute(text(statement), parameters)
        connection.execute(text("ALTER TABLE campaigns.audit_entries ENABLE TRIGGER audit_entries_append_only"))


def test_every_manager_write_leaves_one_entry_with_its_actor_and_changes(manager, engine, clock):
    draft = manager.created()
    campaign_id = draft["id"]
    edited = manager.patch(campaign_id, etag_of(draft), {
        "title": "PSV hiver", "policy": {"mode": "lottery", "lottery_weight_per_unsuccessful_year": 1}})
    assert edited.status_code == 200
    added = manager.write("POST", f"/campaigns/{campaign_id}/offers", etag_of(edited.json), offer_body(title="Escalade"))
    assert added.status_code == 201
    first, escalade = added.json["offers"]
    capacity = manager.write("PATCH", f"/campaigns/{campaign_id}/offers/{escalade['id']}", etag_of(added.json),
                             {"capacity": 12})
    removed = manager.write("DELETE", f"/campaigns/{campaign_id}/offers/{first['id']}", etag_of(capacity.json))
    published = manager.act(campaign_id, "publish", etag_of(removed.json))
    extended = manager.act(campaign_id, "extend-close", etag_of(published.json), {"closes_at": "2026-03-01T23:59"})
    clock.set("2026-02-10 12:00")
    closed = manager.act(campaign_id, "close-early", etag_of(extended.json))
    assert closed.status_code == 200, closed.json
    archived = manager.act(campaign_id, "archive", None)
    assert archived.status_code == 200, archived.json
    clone = manager.client.post(f"/campaigns/{campaign_id}/clone", json={"shift_days": 365},
                                headers=manager.headers(**{"Idempotency-Key": "clone-1"}))
    assert clone.status_code == 201, clone.json

    rows = entries(engine, campaign_id)
    assert [row["action"] for row in rows] == [
        "campaign.create", "campaign.edit", "offer.add", "offer.edit", "offer.remove", "campaign.publish",
        "campaign.extend_close", "campaign.close_early", "campaign.archive"]
    assert {(row["actor_subject"], row["actor_role"]) for row in rows} == {("agent-1", "manager")}
    assert all(row["request_id"] and row["on_behalf_of"] is None for row in rows)
    assert rows[0]["changes"]["title"] == {"before": None, "after": "Paris Sport Vacances — hiver 2026"}
    assert rows[1]["changes"]["title"] == {"before": "Paris Sport Vacances — hiver 2026", "after": "PSV hiver"}
    assert rows[1]["changes"]["policy.lottery_weight_per_unsuccessful_year"]["after"] == 1
    assert rows[3]["changes"] == {f"offers.{escalade['id']}.capacity": {"before": 24, "after": 12}}
    assert rows[5]["changes"]["published_at"]["before"] is None
    assert rows[8]["changes"]["archived_at"]["before"] is None
    [cloned] = entries(engine, clone.json["id"])
    assert (cloned["action"], cloned["actor_subject"]) == ("campaign.clone", "agent-1")
    assert all(report.ok for report in check_service(engine.url.render_as_string(hide_password=False), "campaigns"))


def test_a_write_that_fails_leaves_no_entry(manager, engine):
    draft = manager.created()
    stale = manager.patch(draft["id"], '"7"', {"title": "Trop tard"})
    assert stale.status_code == 412
    refused = manager.patch(draft["id"], etag_of(draft), {"closes_at": "2026-01-01T10:00"})  # before the opening
    assert refused.status_code == 422
    unchanged = manager.patch(draft["id"], etag_of(draft), {"title": draft["title"]})
    assert unchanged.status_code == 200
    assert [row["action"] for row in entries(engine, draft["id"])] == ["campaign.create"]


def test_a_worker_action_is_recorded_as_system(manager, engine, app, clock):
    campaign = manager.published()
    clock.set("2026-09-15 12:00")  # the season is long over
    writer = app.extensions["guichet.campaigns"].writer
    assert campaign["id"] in archive_finished_seasons(writer)
    last = entries(engine, campaign["id"])[-1]
    assert (last["action"], last["actor_subject"], last["actor_role"], last["request_id"]) == (
        "campaign.archive", "system:lifecycle", "system", None)


def test_concurrent_writers_of_one_chain_keep_one_unbroken_chain(engine):
    writers, per_writer = 8, 15
    start = threading.Barrier(writers)
    failures = []

    def write(n: int) -> None:
        start.wait()
        try:
            for i in range(per_writer):
                with engine.begin() as connection:
                    record_entry(connection, audit, Actor(f"writer-{n}", "manager"), chain="campaign:shared",
                                 action="campaign.edit", target_type="campaign", target_id="shared",
                                 changes={"n": {"before": i, "after": i + 1}}, occurred_at=datetime(2026, 1, 15, 9, tzinfo=UTC))
        except Exception as error:  # noqa: BLE001 — reported below
            failures.append(error)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    with engine.connect() as connection:
        [report] = check_chains(connection, audit, "campaign:shared")
    assert report.ok and report.checked == writers * per_writer


def test_concurrent_manager_writes_keep_the_campaign_chain(manager, engine):
    draft = manager.created()
    results = []

    def add(title: str) -> None:
        for _ in range(6):  # retry on 412: each writer reads the version again
            current = manager.get(draft["id"]).json
            answer = manager.write("POST", f"/campaigns/{draft['id']}/offers", etag_of(current),
                                   offer_body(title=title))
            if answer.status_code == 201:
                results.append(title)
                return

    threads = [threading.Thread(target=add, args=(f"Offre {n}",)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    rows = entries(engine, draft["id"])
    assert len(rows) == 1 + len(results) and [row["seq"] for row in rows] == list(range(1, len(rows) + 1))
    with engine.connect() as connection:
        [report] = check_chains(connection, audit, f"campaign:{draft['id']}")
    assert report.ok


def test_stored_entries_refuse_update_and_delete(manager, engine):
    draft = manager.created()
    for statement in ("UPDATE campaigns.audit_entries SET action = 'x'", "DELETE FROM campaigns.audit_entries"):
        with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
            connection.execute(text(statement))
    assert len(entries(engine, draft["id"])) == 1


def run_check(engine, *arguments: str) -> subprocess.CompletedProcess:
    environment = {"DATABASE_URL": engine.url.render_as_string(hide_password=False), "PATH": "/usr/bin:/bin"}
    return subprocess.run([sys.executable, "-m", "shared.audit_check", "--service", "campaigns", *arguments],
                          capture_output=True, text=True, env=environment, timeout=60, check=False)


def campaign_with_entries(manager) -> str:
    draft = manager.created()
    current = draft
    for title in ("Un", "Deux", "Trois", "Quatre"):
        current = manager.patch(draft["id"], etag_of(current), {"title": title}).json
    return draft["id"]


def test_the_check_command_says_ok_then_names_an_altered_entry(manager, engine):
    campaign_id = campaign_with_entries(manager)
    other = campaign_with_entries(manager)
    ok = run_check(engine)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"OK campaign:{campaign_id}: 5 entries" in ok.stdout

    tamper(engine, "UPDATE campaigns.audit_entries SET changes = jsonb_set(changes, '{title,after}', '\"Forgé\"') "
                   "WHERE chain = :chain AND seq = 3", chain=f"campaign:{campaign_id}")
    broken = run_check(engine)
    assert broken.returncode == 1
    assert f"BROKEN campaign:{campaign_id}: entry 3: its content does not match its hash (altered)" in broken.stdout
    assert f"OK campaign:{other}: 5 entries" in broken.stdout
    only_other = run_check(engine, "--chain", f"campaign:{other}")
    assert only_other.returncode == 0 and "1 chains checked, 0 broken" in only_other.stdout


def test_the_check_names_a_deleted_entry_and_a_deleted_last_entry(manager, engine):
    campaign_id = campaign_with_entries(manager)
    chain = f"campaign:{campaign_id}"
    tamper(engine, "DELETE FROM campaigns.audit_entries WHERE chain = :chain AND seq = 5", chain=chain)
    with engine.connect() as connection:
        [tail] = check_chains(connection, audit, chain)
    assert (tail.ok, tail.broken_seq) == (False, 5)
    tamper(engine, "DELETE FROM campaigns.audit_entries WHERE chain = :chain AND seq = 2", chain=chain)
    broken = run_check(engine, "--chain", chain)
    assert broken.returncode == 1
    assert f"BROKEN {chain}: entry 2: missing" in broken.stdout


def test_the_audit_read_filters_by_time_and_actor(manager, engine, clock, token_for, app):
    campaign_id = manager.created()["id"]  # 2026-01-15 10:00 Paris
    other = type(manager)(app.test_client(), token_for("manager", "agent-2"))
    clock.set("2026-01-20 10:00")
    current = manager.get(campaign_id).json
    current = other.patch(campaign_id, etag_of(current), {"title": "Par agent-2"}).json
    clock.set("2026-01-25 10:00")
    manager.patch(campaign_id, etag_of(current), {"title": "Par agent-1"})

    everything = audit_of(manager, campaign_id)
    assert everything.status_code == 200
    assert [(entry["seq"], entry["actor"]["subject"], entry["action"]) for entry in everything.json] == [
        (1, "agent-1", "campaign.create"), (2, "agent-2", "campaign.edit"), (3, "agent-1", "campaign.edit")]
    second = everything.json[1]
    assert second["changes"]["title"] == {"before": "Paris Sport Vacances — hiver 2026", "after": "Par agent-2"}
    assert second["target"] == {"type": "campaign", "id": campaign_id}
    assert second["previous_hash"] == everything.json[0]["hash"]
    by_actor = audit_of(manager, campaign_id, "?actor=agent-2")
    assert [entry["seq"] for entry in by_actor.json] == [2]
    in_range = audit_of(manager, campaign_id, "?since=2026-01-20T00:00:00%2B01:00&until=2026-01-25T10:00:00%2B01:00")
    assert [entry["seq"] for entry in in_range.json] == [2]
    from_then = audit_of(manager, campaign_id, "?since=2026-01-20T09:00:00Z")
    assert [entry["seq"] for entry in from_then.json] == [2, 3]


def test_the_audit_read_exports_csv(manager):
    campaign_id = campaign_with_entries(manager)
    for answer in (audit_of(manager, campaign_id, Accept="text/csv"), audit_of(manager, campaign_id, "?format=csv")):
        assert answer.status_code == 200 and answer.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
        assert [row["seq"] for row in rows] == ["1", "2", "3", "4", "5"]
        assert rows[2]["actor_subject"] == "agent-1" and rows[2]["action"] == "campaign.edit"
        assert '"after":"Deux"' in rows[2]["changes"]
    as_json = audit_of(manager, campaign_id, "?format=json", Accept="text/csv")
    assert as_json.mimetype == "application/json" and len(as_json.json) == 5


def test_the_audit_read_refuses_bad_filters_and_unknown_campaigns(manager):
    campaign_id = manager.created()["id"]
    backwards = audit_of(manager, campaign_id, "?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z")
    assert backwards.status_code == 422 and backwards.mimetype == "application/problem+json"
    assert "until" in str(backwards.json)
    naive = audit_of(manager, campaign_id, "?since=yesterday")
    assert naive.status_code == 422 and "since" in str(naive.json)
    wrong_format = audit_of(manager, campaign_id, "?format=xml")
    assert wrong_format.status_code == 422 and "format" in str(wrong_format.json)
    unknown = audit_of(manager, "7d1f3a55-7a43-4f6a-9d43-2d3c1a1b2c3d")
    assert unknown.status_code == 404 and unknown.mimetype == "application/problem+json"


def test_a_parent_cannot_read_the_audit(manager, token_for):
    campaign_id = manager.created()["id"]
    as_parent = manager.client.get(f"/campaigns/{campaign_id}/audit",
                                   headers={"Authorization": f"Bearer {token_for('parent', 'family-1')}"})
    assert as_parent.status_code == 403 and as_parent.json["code"] == "role-missing"
    assert manager.client.get(f"/campaigns/{campaign_id}/audit").status_code == 401


def test_the_audit_read_is_in_the_openapi_with_csv_and_problems(app):
    operation = app.test_client().get("/openapi.json").json["paths"]["/campaigns/{campaign_id}/audit"]["get"]
    assert set(operation["responses"]["200"]["content"]) == {"application/json", "text/csv"}
    listed = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["type"] == "array" and listed["items"] == {"$ref": "#/components/schemas/AuditEntry"}
    assert {"404", "422"} <= set(operation["responses"])
    assert {parameter["name"] for parameter in operation["parameters"]} >= {"since", "until", "actor", "format"}


def test_each_service_declares_the_same_audit_tables():
    from services.allocation.store import tables as allocation_tables

    assert isinstance(audit, AuditTables) and isinstance(allocation_tables.audit, AuditTables)
    assert [c.name for c in audit.entries.columns] == [c.name for c in allocation_tables.audit.entries.columns]


def test_the_purge_deletes_whole_chains_of_campaigns_archived_past_their_retention(manager, engine, clock):
    from datetime import timedelta

    from services.campaigns.usecases.purge import purge

    old = manager.created()
    assert manager.act(old["id"], "archive", None).status_code == 200  # archived 2026-01-15
    clock.set("2027-01-04 10:00")
    recent = manager.created()
    assert manager.act(recent["id"], "archive", None).status_code == 200
    kept_open = manager.created()

    counts = purge(engine, datetime(2031, 6, 1, tzinfo=UTC), timedelta(days=60), timedelta(days=5 * 365))
    assert counts["audit"] == 2
    assert entries(engine, old["id"]) == []
    assert [len(entries(engine, c["id"])) for c in (recent, kept_open)] == [2, 1]
    with engine.connect() as connection:
        reports = check_chains(connection, audit)
    assert [report.chain for report in reports] == sorted([f"campaign:{recent['id']}", f"campaign:{kept_open['id']}"])
    assert all(report.ok for report in reports)
    assert purge(engine, datetime(2031, 6, 1, tzinfo=UTC), timedelta(days=60), timedelta(days=5 * 365))["audit"] == 0
    with pytest.raises(Exception, match="append-only"), engine.begin() as connection:
        connection.execute(text("DELETE FROM campaigns.audit_entries"))  # outside a purge: refused


def test_an_entry_rolled_back_with_its_transaction_leaves_no_trace_in_the_chain(engine):
    def append(connection, n: int):
        return record_entry(connection, audit, Actor("agent-1", "manager"), chain="campaign:rolled", action="x",
                            target_type="campaign", target_id="rolled", changes={"n": n}, occurred_at=datetime(2026, 1, 15, 9, tzinfo=UTC))

    with engine.begin() as connection:
        append(connection, 1)
    with pytest.raises(RuntimeError), engine.begin() as connection:
        append(connection, 2)
        raise RuntimeError("the change after it failed")
    with engine.begin() as connection:
        third = append(connection, 3)
    assert third.seq == 2
    with engine.connect() as connection:
        [report] = check_chains(connection, audit, "campaign:rolled")
        assert report.ok and report.checked == 2
        stored = connection.execute(select(audit.entries.c.changes).where(audit.entries.c.chain == "campaign:rolled")
                                    .order_by(audit.entries.c.seq)).scalars().all()
    assert stored == [{"n": 1}, {"n": 3}]
