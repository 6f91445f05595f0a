"""Access and portability (issue 17): a family's export holds every record of the family in every table of
registrations and notifications; checked against the tables themselves, on real servers."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import func, insert, select, update

from shared.personal_data import family_tables
from shared.waiting import wait_until
from tests.support.registrations import campaign_snapshot


def rows_naming(engine, metadata, family_account: str, linked=()) -> dict[str, int]:
    """Per table, the rows that are the family's: its own, and those linked to them."""
    counts = {}
    with engine.connect() as connection:
        for table in family_tables(metadata):
            counts[table.name] = connection.execute(select(func.count()).select_from(table)
                                                    .where(table.c.family_account == family_account)).scalar_one()
        for table, column, owner, owner_column in linked:
            keys = select(owner.c[owner_column]).where(owner.c.family_account == family_account)
            counts[table.name] = connection.execute(select(func.count()).select_from(table)
                                                    .where(table.c[column].in_(keys))).scalar_one()
    return counts


def test_a_familys_registrations_export_holds_every_record_it_has(registrations, token_for):
    from services.registrations.store.tables import application_transitions, applications, children, metadata

    campaign = registrations.publish_campaign(campaign_snapshot())
    account, (first, second) = registrations.family(birth_dates=(date(2015, 6, 1), date(2016, 2, 3)))
    other, (stranger_child,) = registrations.family()
    submitted = [registrations.submit(account, campaign, first).json["application_id"],
                 registrations.submit(other, campaign, stranger_child).json["application_id"]]
    wait_until(lambda: set(submitted) <= set(registrations.ledger()), timeout=30, what="applications in the ledger")
    with registrations.runtime.engine.begin() as connection:  # a child removed since: still the family's data
        connection.execute(update(children).where(children.c.child_id == second).values(removed_at=datetime.now(UTC)))

    export = registrations.get(account, "/household/export")
    assert export.status_code == 200, export.json
    records = export.json["records"]
    expected = rows_naming(registrations.runtime.engine, metadata, account,
                           [(application_transitions, "application_id", applications, "application_id")])
    assert {table: len(rows) for table, rows in records.items()} == expected
    assert expected["applications"] == 1 and expected["children"] == 2 and expected["households"] == 1
    assert expected["application_transitions"] >= 1
    assert {row["child_id"] for row in records["children"]} == {str(first), str(second)}
    assert records["applications"][0]["application_id"] == submitted[0]
    assert str(stranger_child) not in export.get_data(as_text=True)

    staff = registrations.client.get(f"/households/{account}/export",
                                     headers={"Authorization": f"Bearer {token_for('manager', 'agent-1')}"})
    assert staff.status_code == 200 and staff.json == export.json
    assert registrations.get(account, f"/households/{other}/export").status_code == 403


def test_a_familys_notifications_export_holds_every_record_it_has(make_settings, redis_client, token_for):
    from services.notifications.app import create_app
    from services.notifications.settings import NotificationsSettings
    from services.notifications.store.tables import (
        applications,
        closed_offers,
        closing_reminders,
        deliveries,
        metadata,
        notifications,
        open_offers,
        subscriptions,
    )

    app = create_app(make_settings("notifications", NotificationsSettings))
    engine = app.extensions["guichet.runtime"].engine
    now = datetime.now(UTC)
    try:
        mine, theirs = "family-export", "family-other"
        with engine.begin() as connection:
            for family in (mine, theirs):
                application_id, campaign_id = uuid.uuid4(), uuid.uuid4()
                message = {"notification_id": uuid.uuid4(), "dedup_key": uuid.uuid4().hex, "family_account": family,
                           "kind": "received", "data": {"child": "Inès"}, "status": "delivered",
                           "next_attempt_at": now, "created_at": now, "updated_at": now}
                connection.execute(insert(notifications), [message])
                connection.execute(insert(deliveries), [{
                    "delivery_id": uuid.uuid4(), "notification_id": message["notification_id"], "channel": "email",
                    "family_account": family, "language": "fr", "subject": "s", "body": "b",
                    "recipient": f"{family}@example.org", "created_at": now}])
                connection.execute(insert(applications), [{"application_id": application_id, "campaign_id": campaign_id,
                                                           "family_account": family, "child_first_name": "Inès",
                                                           "child_last_name": "Martin"}])
                connection.execute(insert(open_offers), [{"application_id": application_id, "family_account": family,
                                                          "campaign_id": campaign_id, "offer_id": uuid.uuid4(),
                                                          "expires_at": now + timedelta(days=1)}])
                connection.execute(insert(closed_offers), [{"application_id": application_id}])
                connection.execute(insert(subscriptions), [{"family_account": family, "campaign_id": campaign_id}])
                connection.execute(insert(closing_reminders), [{"family_account": family, "campaign_id": campaign_id,
                                                                 "subscribed_at": now}])

        client = app.test_client()
        export = client.get("/notifications/export", headers={"Authorization": f"Bearer {token_for('parent', mine)}"})
        assert export.status_code == 200, export.json
        records = export.json["records"]
        expected = rows_naming(engine, metadata, mine, [(closed_offers, "application_id", applications, "application_id")])
        assert {table: len(rows) for table, rows in records.items()} == expected
        assert all(count == 1 for count in expected.values()) and len(expected) == 7
        assert theirs not in export.get_data(as_text=True)
        staff = client.get(f"/notifications/families/{mine}/export",
                           headers={"Authorization": f"Bearer {token_for('manager', 'agent-1')}"})
        assert staff.status_code == 200 and staff.json == export.json
    finally:
        app.extensions["guichet.runtime"].close()
