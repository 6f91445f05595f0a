"""Retention (issue 17, docs/privacy.md): each service's purge deletes what outlived its period, keeps the
rest, and changes nothing when run again; against real PostgreSQL, the clock given to the purge."""
from __future__ import annotations

import uuid
from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import create_engine, func, insert, select

from shared.waiting import wait_until

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=timezone.utc)
YEAR = timedelta(days=365)


@pytest.fixture
def engine(database_url):
    engine = create_engine(database_url)
    yield engine
    engine.dispose()


def count(engine, table, *where) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one()


def add(engine, table, *rows) -> None:
    with engine.begin() as connection:
        connection.execute(insert(table), list(rows))


def messaging_rows(engine, outbox, inbox) -> None:
    """A published event from long ago, a recent one, one never published; two processed ids, old and recent."""
    envelope = {"data": {"child": {"first_name": "Inès"}}}
    add(engine, outbox, *[{"event_id": uuid.uuid4().hex, "event_type": "x", "topic": "t", "message_key": "k",
                           "envelope": envelope, "created_at": at, "published_at": published}
                          for at, published in [(NOW - 30 * timedelta(days=1), NOW - timedelta(days=29)),
                                                (NOW - timedelta(days=1), NOW - timedelta(days=1)),
                                                (NOW - YEAR, None)]])
    add(engine, inbox, *[{"consumer": "c", "event_id": uuid.uuid4().hex, "event_type": "x", "processed_at": at}
                         for at in (NOW - YEAR, NOW - timedelta(days=2))])


def assert_messaging_purged(engine, outbox, inbox, counts) -> None:
    assert (counts["outbox"], counts["inbox"]) == (1, 1)
    assert count(engine, outbox) == 2 and count(engine, outbox, outbox.c.published_at.is_(None)) == 1
    assert count(engine, inbox) == 1


def test_registrations_purges_old_ledgers_removed_children_and_messaging(engine):
    from services.registrations.store.tables import (
        application_transitions,
        applications,
        campaign_terms,
        children,
        households,
        inbox,
        outbox,
    )
    from services.registrations.usecases.purge import RegistrationsRetention, purge

    old, recent = uuid.uuid4(), uuid.uuid4()
    add(engine, campaign_terms, {"campaign_id": old, "version": 1, "snapshot": {"closes_at": "2026-02-27T23:00:00Z"},
                                 "closed_at": NOW - 3 * YEAR - timedelta(days=1)},
        {"campaign_id": recent, "version": 1, "snapshot": {"closes_at": (NOW - YEAR).isoformat()}, "closed_at": None})
    add(engine, households, {"family_account": "fam", "single_parent": False, "postal_mail": False, "language": "fr",
                             "version": 1})
    kid = {"family_account": "fam", "last_name": "Martin", "birth_date": date(2016, 1, 1), "disability_allowance": False}
    still_named, forgotten, just_removed, present = (uuid.uuid4() for _ in range(4))
    add(engine, children, {**kid, "child_id": still_named, "first_name": "A", "removed_at": NOW - YEAR},
        {**kid, "child_id": forgotten, "first_name": "B", "removed_at": NOW - YEAR},
        {**kid, "child_id": just_removed, "first_name": "C", "removed_at": NOW - timedelta(days=10)},
        {**kid, "child_id": present, "first_name": "D", "removed_at": None})

    def application(campaign_id, child_id):
        return {"application_id": uuid.uuid4(), "campaign_id": campaign_id, "child_id": child_id,
                "family_account": "fam", "choices": [], "keep_with_applications": [], "sworn_statement": True,
                "child": {"first_name": "A"}, "household": {}, "hold": {}, "status": "rejected",
                "submitted_at": NOW - 4 * YEAR, "intake_partition": 0, "arrival_position": 1}
    expired, kept = application(old, forgotten), application(recent, still_named)
    add(engine, applications, expired, kept)
    add(engine, application_transitions, {"application_id": expired["application_id"], "to_status": "received"},
        {"application_id": kept["application_id"], "to_status": "received"})
    messaging_rows(engine, outbox, inbox)

    retention = RegistrationsRetention(applications=3 * YEAR, removed_children=timedelta(days=90),
                                       inbox=timedelta(days=60))
    counts = purge(engine, NOW, retention)
    assert counts["applications"] == 1 and counts["removed_children"] == 1
    with engine.connect() as connection:
        assert connection.execute(select(applications.c.application_id)).scalars().all() == [kept["application_id"]]
        assert connection.execute(select(application_transitions.c.application_id)).scalars().all() == [
            kept["application_id"]]
        assert set(connection.execute(select(children.c.child_id)).scalars()) == {still_named, just_removed, present}
    assert_messaging_purged(engine, outbox, inbox, counts)

    assert purge(engine, NOW, retention) == {"applications": 0, "removed_children": 0,
                                             "removed_children_documents": 0, "audit": 0, "outbox": 0, "inbox": 0}
    # The same rows, a year later: the ledger of the recent campaign is still within its period; the child it
    # names is kept while named.
    later = purge(engine, NOW + YEAR, retention)
    assert later["applications"] == 0 and later["removed_children"] == 1  # just_removed, now past 90 days


def test_allocation_purges_old_campaigns_records_and_keeps_the_draw(engine):
    from services.allocation.store.tables import (
        allocation_runs,
        applications,
        campaigns,
        decisions,
        inbox,
        lottery_seeds,
        outbox,
        places,
        waitlist_entries,
    )
    from services.allocation.usecases.purge import AllocationRetention, purge

    old, recent = uuid.uuid4(), uuid.uuid4()
    add(engine, campaigns, *[{"campaign_id": c, "version": 1, "kind": "k", "mode": "lottery", "opens_at": closes - YEAR,
                              "closes_at": closes, "snapshot": {}, "closed_at": closes}
                             for c, closes in [(old, NOW - 4 * YEAR), (recent, NOW - YEAR)]])
    rows = {}
    for campaign_id in (old, recent):
        application_id = rows[campaign_id] = uuid.uuid4()
        add(engine, applications, {"application_id": application_id, "campaign_id": campaign_id, "family_account": "f",
                                   "child_id": uuid.uuid4(), "child": {"first_name": "Zoé"}, "household": {},
                                   "choices": [], "keep_with_applications": [], "arrival_position": 1, "arrival_rank": 1,
                                   "submitted_at": NOW - 4 * YEAR})
        add(engine, decisions, {"application_id": application_id, "run_id": uuid.uuid4(), "campaign_id": campaign_id,
                                "outcome": "waitlisted", "waitlist": [], "reasons": [], "explanation": {},
                                "decided_at": NOW - 4 * YEAR})
        add(engine, places, {"application_id": application_id, "campaign_id": campaign_id, "offer_id": uuid.uuid4(),
                             "state": "declined", "offered_at": NOW - 4 * YEAR, "expires_at": NOW - 4 * YEAR})
        add(engine, waitlist_entries, {"offer_id": uuid.uuid4(), "application_id": application_id,
                                       "campaign_id": campaign_id, "position": 1, "group_key": application_id,
                                       "state": "left"})
    add(engine, lottery_seeds, {"campaign_id": old, "seed": bytes(64), "commitment": "0" * 64,
                                "committed_at": NOW - 5 * YEAR})
    add(engine, allocation_runs, {"run_id": uuid.uuid4(), "campaign_id": old, "kind": "published",
                                  "created_at": NOW - 4 * YEAR, "bundle": {"format": "guichet-draw/3"}})
    messaging_rows(engine, outbox, inbox)

    retention = AllocationRetention(applications=3 * YEAR, inbox=timedelta(days=60))
    counts = purge(engine, NOW, retention)
    assert counts["applications"] == 1
    for table in (applications, decisions, places, waitlist_entries):
        with engine.connect() as connection:
            assert connection.execute(select(table.c.application_id)).scalars().all() == [rows[recent]], table.name
    assert count(engine, lottery_seeds) == count(engine, allocation_runs) == 1, "the published draw stays verifiable"
    assert_messaging_purged(engine, outbox, inbox, counts)
    assert purge(engine, NOW, retention) == {"applications": 0, "outbox": 0, "inbox": 0}


def test_allocation_purges_the_draw_chains_of_campaigns_archived_long_ago_whole(engine):
    from services.allocation.store.audit import chain_of, record_draw
    from services.allocation.store.publication_requests import publication_requests
    from services.allocation.store.tables import audit, campaigns
    from services.allocation.usecases.purge import AllocationRetention, purge
    from shared.audit import Actor, check_chains

    archived, still_open = uuid.uuid4(), uuid.uuid4()
    add(engine, campaigns, *[{"campaign_id": c, "version": 2, "kind": "k", "mode": "lottery", "opens_at": NOW - YEAR,
                              "closes_at": NOW - YEAR, "snapshot": {"status": status}}
                             for c, status in [(archived, "archived"), (still_open, "allocated")]])
    manager = Actor(subject="manager-1", role="manager")
    with engine.begin() as connection:
        for campaign_id in (archived, still_open):
            for action in ("draw.dry_run", "draw.publish"):
                record_draw(connection, manager, action, campaign_id, {"run_id": str(uuid.uuid4())}, NOW - YEAR)

    add(engine, publication_requests, *[{"campaign_id": c, "requested_by": "manager-1", "requested_role": "manager",
                                         "requested_by_name": "Camille Manager", "requested_at": NOW - YEAR,
                                         "approved_by": "manager-2", "approved_at": NOW - YEAR}
                                        for c in (archived, still_open)])

    retention = AllocationRetention(applications=3 * YEAR, inbox=timedelta(days=60), audit=5 * YEAR)
    kept_now = purge(engine, NOW, retention)
    assert kept_now["audit"] == kept_now["publication_requests"] == 0, "archived a moment ago: kept"
    counts = purge(engine, NOW + 6 * YEAR, retention)
    assert counts["audit"] == 2  # the archived campaign's whole chain, never part of one
    assert counts["publication_requests"] == 1  # who asked and who approved its publication, gone with its chain
    with engine.connect() as connection:
        assert list(connection.execute(select(publication_requests.c.campaign_id)).scalars()) == [still_open]
    with engine.connect() as connection:
        assert {row.chain for row in connection.execute(select(audit.entries.c.chain))} == {chain_of(still_open)}
        (report,) = check_chains(connection, audit, chain_of(still_open))
        assert report.ok and report.checked == 2
    assert purge(engine, NOW + 6 * YEAR, retention)["audit"] == 0


def test_notifications_purges_old_messages_names_and_messaging(engine):
    from services.notifications.purge import NotificationsRetention, purge
    from services.notifications.store.tables import (
        applications,
        campaigns,
        deliveries,
        inbox,
        notifications,
        open_offers,
        outbox,
    )

    def message(created_at, status):
        return {"notification_id": uuid.uuid4(), "dedup_key": uuid.uuid4().hex, "family_account": "fam",
                "kind": "received", "data": {"child": "Inès"}, "status": status, "next_attempt_at": created_at,
                "created_at": created_at, "updated_at": created_at}
    old_sent, old_pending, recent = message(NOW - 2 * YEAR, "delivered"), message(NOW - 2 * YEAR, "pending"), \
        message(NOW - timedelta(days=3), "delivered")
    add(engine, notifications, old_sent, old_pending, recent)
    add(engine, deliveries, *[{"delivery_id": uuid.uuid4(), "notification_id": m["notification_id"], "channel": "email",
                               "family_account": "fam", "language": "fr", "subject": "s", "body": "Inès",
                               "recipient": "parent@example.org", "created_at": m["created_at"]}
                              for m in (old_sent, recent)])
    old, recent_campaign = uuid.uuid4(), uuid.uuid4()
    add(engine, campaigns, {"campaign_id": old, "version": 1, "snapshot": {}, "opened_at": NOW - 4 * YEAR},
        {"campaign_id": recent_campaign, "version": 1, "snapshot": {}, "opened_at": NOW - YEAR})
    names = [{"application_id": uuid.uuid4(), "campaign_id": c, "family_account": "fam", "child_first_name": "Inès",
              "child_last_name": "Martin"} for c in (old, old, recent_campaign)]
    add(engine, applications, *names)
    add(engine, open_offers, {"application_id": names[1]["application_id"], "family_account": "fam", "campaign_id": old,
                              "offer_id": uuid.uuid4(), "expires_at": NOW + timedelta(days=1)})
    messaging_rows(engine, outbox, inbox)

    retention = NotificationsRetention(messages=YEAR, applications=3 * YEAR, inbox=timedelta(days=60))
    counts = purge(engine, NOW, retention)
    assert (counts["messages"], counts["applications"]) == (1, 1)
    with engine.connect() as connection:
        assert set(connection.execute(select(notifications.c.notification_id)).scalars()) == {
            old_pending["notification_id"], recent["notification_id"]}
        assert connection.execute(select(deliveries.c.notification_id)).scalars().all() == [recent["notification_id"]]
        assert set(connection.execute(select(applications.c.application_id)).scalars()) == {
            names[1]["application_id"], names[2]["application_id"]}
    assert_messaging_purged(engine, outbox, inbox, counts)
    assert purge(engine, NOW, retention) == {"messages": 0, "applications": 0, "outbox": 0, "inbox": 0}


def test_campaigns_purges_its_messaging(engine):
    from services.campaigns.store.tables import inbox, outbox
    from services.campaigns.usecases.purge import purge

    messaging_rows(engine, outbox, inbox)
    counts = purge(engine, NOW, timedelta(days=60))
    assert_messaging_purged(engine, outbox, inbox, counts)
    assert purge(engine, NOW, timedelta(days=60)) == {"outbox": 0, "inbox": 0}


def test_topics_carrying_personal_data_have_a_retention_period():
    from shared.topics import ALL_TOPICS, BILLING_FEED, CAMPAIGN_EVENTS

    day = 24 * 3600 * 1000
    for spec in ALL_TOPICS:
        if spec == CAMPAIGN_EVENTS:
            assert "retention.ms" not in spec.configs  # campaigns and lottery commitments: nobody's data
        else:
            assert 0 < int(spec.configs["retention.ms"]) <= (31 if spec == BILLING_FEED else 7) * day, spec.name


def test_ensure_topics_gives_existing_topics_their_retention(make_settings):
    from kafka import KafkaAdminClient
    from kafka.admin import ConfigResource, ConfigResourceType, NewTopic

    from shared.kafka import client_options, ensure_topics
    from shared.topics import APPLICATION_SUBMISSIONS, CAMPAIGN_EVENTS, physical_name

    settings = make_settings("retention-test")
    admin = KafkaAdminClient(**client_options(settings, client_id="retention-test"))
    submissions = physical_name(APPLICATION_SUBMISSIONS.name, settings.kafka_topic_prefix)
    try:
        admin.create_topics([NewTopic(submissions, 1, -1)])  # as created before retention periods existed

        def retention(topic: str) -> str | None:
            described = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, topic)])
            return (described["topic"][topic].get("retention.ms") or {}).get("value")
        assert retention(submissions) != APPLICATION_SUBMISSIONS.configs["retention.ms"]

        wanted = APPLICATION_SUBMISSIONS.configs["retention.ms"]
        ensure_topics(settings, [APPLICATION_SUBMISSIONS, CAMPAIGN_EVENTS])
        # The controller applies a config change, then brokers learn of it: read until they have.
        wait_until(lambda: retention(submissions) == wanted, timeout=20, what="the topic's retention")
        wait_until(lambda: retention(submissions + ".dlt") == wanted, timeout=20, what="its dead letters' retention")
        ensure_topics(settings, [APPLICATION_SUBMISSIONS])  # again: nothing to change, nothing fails
        assert retention(submissions) == wanted
    finally:
        admin.close()
