"""Allocation's audit trail (docs/audit.md): a manager's dry run and publication, and the worker's own draw, each
one entry in the draw's transaction, chained per campaign and checked by `shared.audit_check --service allocation`."""
import subprocess
import sys
from datetime import timedelta

from sqlalchemy import select, text

from services.allocation.handlers.jobs import DrawScheduler
from services.allocation.store.tables import allocation_runs, audit
from shared.audit import check_chains
from tests.support.allocation import a_campaign, an_application


def entries(allocation, campaign_id) -> list:
    with allocation.engine.connect() as connection:
        return list(connection.execute(select(audit.entries).where(audit.entries.c.chain == f"campaign:{campaign_id}")
                                       .order_by(audit.entries.c.seq)).mappings())


def closed_campaign(allocation, applications: int = 3) -> dict:
    campaign = allocation.publish(a_campaign())
    allocation.open(campaign)
    allocation.receive(*[an_application(campaign, arrival=n) for n in range(applications)])
    allocation.close(campaign)
    return campaign


def test_a_managers_dry_run_and_publication_are_recorded_with_the_manager(allocation, manager):
    campaign = closed_campaign(allocation)
    campaign_id = campaign["campaign_id"]
    dry = manager("POST", f"/campaigns/{campaign_id}/allocation/dry-run", **{"X-Request-ID": "req-dry"})
    assert dry.status_code == 201
    refused = manager("POST", f"/campaigns/{campaign_id}/allocation/publish")  # no Idempotency-Key: nothing done
    assert refused.status_code >= 400
    published = manager("POST", f"/campaigns/{campaign_id}/allocation/publish", **{"Idempotency-Key": "k1"})
    assert published.status_code == 201
    again = manager("POST", f"/campaigns/{campaign_id}/allocation/publish", **{"Idempotency-Key": "k2"})
    assert again.status_code == 409  # the second publication fails: no entry

    rows = entries(allocation, campaign_id)
    assert [(row["seq"], row["action"], row["actor_subject"], row["actor_role"]) for row in rows] == [
        (1, "draw.dry_run", "agent-1", "manager"), (2, "draw.publish", "agent-1", "manager")]
    assert rows[0]["request_id"] == "req-dry"
    assert rows[0]["changes"]["run_id"] == {"before": None, "after": dry.json["run_id"]}
    assert rows[1]["changes"]["run_id"]["after"] == published.json["run_id"]
    assert rows[1]["changes"]["applications"] == {"before": None, "after": 3}
    with allocation.engine.connect() as connection:
        [report] = check_chains(connection, audit)
    assert report.ok and report.checked == 2


def test_the_workers_draw_is_recorded_as_system(allocation):
    campaign = closed_campaign(allocation)
    allocation.clock.advance(minutes=5)
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(minutes=5)).tick()
    (run,) = allocation.rows(allocation_runs)
    [entry] = entries(allocation, campaign["campaign_id"])
    assert (entry["action"], entry["actor_subject"], entry["actor_role"], entry["request_id"]) == (
        "draw.publish", "system:draw-scheduler", "system", None)
    assert entry["changes"]["run_id"]["after"] == str(run.run_id)


def test_the_check_command_names_an_altered_draw_entry(allocation, manager):
    campaign = closed_campaign(allocation)
    campaign_id = campaign["campaign_id"]
    for _ in range(3):
        assert manager("POST", f"/campaigns/{campaign_id}/allocation/dry-run").status_code == 201
    environment = {"DATABASE_URL": allocation.engine.url.render_as_string(hide_password=False), "PATH": "/usr/bin:/bin"}
    command = [sys.executable, "-m", "shared.audit_check", "--service", "allocation"]
    ok = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60, check=False)
    assert ok.returncode == 0 and f"OK campaign:{campaign_id}: 3 entries" in ok.stdout, ok.stdout + ok.stderr

    with allocation.engine.begin() as connection:
        connection.execute(text("ALTER TABLE allocation.audit_entries DISABLE TRIGGER audit_entries_append_only"))
        connection.execute(text("UPDATE allocation.audit_entries SET actor_subject = 'someone-else' "
                                "WHERE chain = :chain AND seq = 2"), {"chain": f"campaign:{campaign_id}"})
        connection.execute(text("ALTER TABLE allocation.audit_entries ENABLE TRIGGER audit_entries_append_only"))
    broken = subprocess.run(command, capture_output=True, text=True, env=environment, timeout=60, check=False)
    assert broken.returncode == 1
    assert f"BROKEN campaign:{campaign_id}: entry 2: its content does not match its hash (altered)" in broken.stdout


def test_the_audit_tables_match_the_migration(allocation):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import MetaData

    declared = MetaData(schema="allocation")
    for table in (audit.entries, audit.heads):
        table.to_metadata(declared)
    with allocation.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_schemas": True, "compare_type": True,
            "include_name": lambda name, kind, parent: {"schema": name == "allocation",
                                                        "table": name in ("audit_entries", "audit_chain_heads")
                                                        }.get(kind, True)})
        assert compare_metadata(context, declared) == []
