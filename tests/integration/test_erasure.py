"""Erasure (issue 17): refused while an application is open; then the family's name, email and children's names
are nowhere in any text or JSON column of registrations', allocation's and notifications' tables, its ledger
and allocation's copy kept under a pseudonym; on real PostgreSQL, Redis and Kafka."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime

from sqlalchemy import func, insert, select, text

from services.registrations.domain.household import Child, Household
from services.registrations.store.households import save_household
from shared.events import parse_event
from shared.waiting import wait_until
from tests.support.registrations import campaign_snapshot

FIRST_NAMES = ("Zéphyrine", "Anatole")
LAST_NAME = "Quillebeuf"


def text_columns(engine, schema: str) -> list[tuple[str, str]]:
    with engine.connect() as connection:
        return [tuple(row) for row in connection.execute(text(
            "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = :schema "
            "AND data_type IN ('text', 'character varying', 'json', 'jsonb')"), {"schema": schema})]


def mentions(engine, schema: str, needles: list[str]) -> list[str]:
    """Every (table.column: needle) where a row's text holds a needle; the erasure notices themselves excepted
    (registrations' to the services, allocation's to billing: purged with the outbox, 7 days after publication)."""
    found = []
    with engine.connect() as connection:
        for table, column in text_columns(engine, schema):
            for needle in needles:
                exempt = " AND event_type NOT IN ('family.erased', 'family.pseudonymised')" if table == "outbox" else ""
                hits = connection.execute(text(
                    f'SELECT count(*) FROM "{schema}"."{table}" WHERE "{column}"::text ILIKE :needle{exempt}'),
                    {"needle": f"%{needle}%"}).scalar_one()
                if hits:
                    found.append(f"{schema}.{table}.{column}: {needle}")
    return found


def test_a_family_is_erased_from_registrations_and_notifications(registrations, token_for):
    from services.allocation.handlers.events import handle_application_events
    from services.allocation.store.tables import applications as allocated_applications
    from services.allocation.store.tables import outbox as allocation_outbox
    from services.notifications.handlers.events import handle_event
    from services.notifications.store.tables import applications as notified_applications
    from services.notifications.store.tables import deliveries, notifications, subscriptions
    from services.registrations.store.tables import applications, audit, households, outbox

    engine = registrations.runtime.engine
    account, email = f"family-{uuid.uuid4().hex[:8]}", f"{uuid.uuid4().hex[:8]}@example.org"
    kids = tuple(Child(uuid.uuid4(), name, LAST_NAME, date(2015, 6, 1 + n)) for n, name in enumerate(FIRST_NAMES))
    with engine.begin() as connection:
        save_household(connection, Household(account, email=email, children=kids))
    campaign = registrations.publish_campaign(campaign_snapshot())
    application_id = registrations.submit(account, campaign, kids[0].child_id).json["application_id"]
    withdrawn_by_parent = registrations.submit(account, campaign, kids[1].child_id).json["application_id"]
    wait_until(lambda: registrations.ledger().get(application_id) == "received", timeout=30, what="in the ledger")
    wait_until(lambda: registrations.ledger().get(withdrawn_by_parent) == "received", timeout=30, what="in the ledger")
    by_parent = registrations.client.post(f"/applications/{withdrawn_by_parent}/withdraw", headers={
        "Authorization": f"Bearer {token_for('parent', account)}", "Idempotency-Key": "p"})
    assert by_parent.status_code == 200, by_parent.json  # its transition names the family as its actor
    now = datetime.now(UTC)
    with engine.begin() as connection:  # what notifications learnt of the family
        message = {"notification_id": uuid.uuid4(), "dedup_key": uuid.uuid4().hex, "family_account": account,
                   "kind": "application_received", "data": {"child_first_name": FIRST_NAMES[0]},
                   "status": "delivered", "next_attempt_at": now, "created_at": now, "updated_at": now}
        connection.execute(insert(notifications), [message])
        connection.execute(insert(deliveries), [{
            "delivery_id": uuid.uuid4(), "notification_id": message["notification_id"], "channel": "email",
            "family_account": account, "language": "fr", "subject": f"{FIRST_NAMES[0]} {LAST_NAME}", "body": "…",
            "recipient": email, "created_at": now}])
        connection.execute(insert(notified_applications), [{
            "application_id": application_id, "campaign_id": campaign["campaign_id"], "family_account": account,
            "child_first_name": FIRST_NAMES[0], "child_last_name": LAST_NAME}])
        connection.execute(insert(subscriptions), [{"family_account": account, "campaign_id": uuid.uuid4()}])
        connection.execute(insert(allocated_applications), [{  # allocation's copy, as application.received left it
            "application_id": application_id, "campaign_id": campaign["campaign_id"], "family_account": account,
            "child_id": kids[0].child_id, "child": {"first_name": FIRST_NAMES[0], "last_name": LAST_NAME},
            "household": {"email": email}, "choices": [], "keep_with_applications": [], "arrival_position": 1,
            "arrival_rank": 1, "submitted_at": now}])
    needles = [account, email, *FIRST_NAMES, LAST_NAME]

    refused = registrations.client.post("/household/erasure",
                                        headers={"Authorization": f"Bearer {token_for('parent', account)}"})
    assert refused.status_code == 409 and refused.json["code"] == "open-application", refused.json
    assert "withdraw" in refused.json["detail"]
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(households)
                                  .where(households.c.family_account == account)).scalar_one() == 1

    # Withdrawn by an agent, at the family's request by phone: the family's audit chain names it, and goes too.
    withdrawn = registrations.client.post(
        f"/agent/families/{account}/applications/{application_id}/withdraw",
        json={"reason": f"appel de la famille pour {FIRST_NAMES[0]}"},
        headers={"Authorization": f"Bearer {token_for('agent', 'agent-7')}", "Idempotency-Key": "w"})
    assert withdrawn.status_code == 200, withdrawn.json
    with engine.connect() as connection:  # two submissions, the family's withdrawal, the agent's: one entry each
        assert connection.execute(select(func.count()).select_from(audit.entries)).scalar_one() == 4

    def all_published() -> bool:  # erasure deletes what the relay sent; what it has yet to send, it must send
        with engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(outbox)
                                      .where(outbox.c.published_at.is_(None))).scalar_one() == 0
    wait_until(all_published, timeout=30, what="the outbox relayed")
    erased = registrations.client.post(f"/households/{account}/erasure",
                                       headers={"Authorization": f"Bearer {token_for('manager', 'agent-1')}"})
    assert erased.status_code == 200 and erased.json["erased"] is True, erased.json
    pseudonym = erased.json["pseudonym"]

    with engine.connect() as connection:
        (notice,) = connection.execute(select(outbox.c.envelope).where(outbox.c.event_type == "family.erased")).all()
        kept = connection.execute(select(applications.c.family_account, applications.c.status)
                                  .where(applications.c.application_id == application_id)).one()
    assert tuple(kept) == (pseudonym, "withdrawn"), "the ledger is kept, under the pseudonym"
    event = parse_event(notice.envelope)
    assert event.data["requested_by"] == "agent"
    handle_event(engine, event, now)
    handle_event(engine, event, now)  # redelivered: nothing more, nothing fails
    handle_application_events(engine, lambda: now, [event])
    handle_application_events(engine, lambda: now, [event])

    assert mentions(engine, "registrations", needles) == []
    with engine.connect() as connection:  # the erasure's own entry, on the kept records' chain, keeps no fact
        (entry,) = connection.execute(select(audit.entries)).mappings().all()
    assert (entry["chain"], entry["action"], entry["actor_subject"], entry["on_behalf_of"]) == (
        f"family:{pseudonym}", "family.erase", "agent-1", pseudonym)
    assert entry["changes"]["audit_entries_deleted"] == {"before": None, "after": 4}
    assert mentions(engine, "notifications", needles) == []
    assert mentions(engine, "allocation", needles) == []
    with engine.connect() as connection:
        assert connection.execute(select(allocated_applications.c.family_account)).scalars().all() == [pseudonym]
        # Billing keeps the family's lines for accounting: told once, on the billing feed, to pseudonymise them.
        (billing,) = connection.execute(select(allocation_outbox.c.message_key, allocation_outbox.c.topic,
                                               allocation_outbox.c.envelope)
                                        .where(allocation_outbox.c.event_type == "family.pseudonymised")).all()
    assert billing.message_key == account and billing.topic.endswith("guichet.registration-events")
    assert billing.envelope["data"]["pseudonym"] == pseudonym
    assert billing.envelope["data"]["family_account"] == account
    wait_until(all_published, timeout=30, what="family.erased relayed")
    again = registrations.client.post("/household/erasure",
                                      headers={"Authorization": f"Bearer {token_for('parent', account)}"})
    assert again.status_code == 200  # nothing left to erase: nothing announced again
    assert all_published()
