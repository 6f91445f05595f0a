"""The waitlist entries keep two indexes (migration allocation_0013): an offer's line in order, and the primary key
led by the application, which also serves a withdrawal leaving its waitlists. A draw inserts every entry into each."""
from __future__ import annotations

import uuid

import pytest
from alembic import command
from sqlalchemy import create_engine, text
from sqlalchemy.exc import IntegrityError

from services.allocation.store import tables
from shared.config import Settings
from shared.migrations import alembic_config, upgrade

INDEXES = "SELECT indexname, indexdef FROM pg_indexes WHERE schemaname = 'allocation' AND tablename = 'waitlist_entries'"


def _indexes(connection) -> dict[str, str]:
    return dict(connection.execute(text(INDEXES)).all())


def test_the_entries_have_an_offers_line_and_a_key_led_by_the_application(allocation):
    with allocation.engine.connect() as connection:
        indexes = _indexes(connection)
    assert sorted(indexes) == ["pk_waitlist_entries", "uq_waitlist_entries_offer_position"]
    assert "(application_id, offer_id)" in indexes["pk_waitlist_entries"]
    assert "(offer_id, \"position\")" in indexes["uq_waitlist_entries_offer_position"]


def test_an_application_is_still_refused_twice_on_one_waitlist(allocation):
    entry = dict(offer_id=uuid.uuid4(), application_id=uuid.uuid4(), campaign_id=uuid.uuid4(), position=1,
                 group_key=uuid.uuid4(), state="waiting")
    with allocation.engine.connect() as connection:
        connection.execute(tables.waitlist_entries.insert(), entry)
        with pytest.raises(IntegrityError, match="pk_waitlist_entries"):
            connection.execute(tables.waitlist_entries.insert(), {**entry, "position": 2})
        connection.rollback()


def test_the_table_matches_the_migration(allocation):
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext
    from sqlalchemy import MetaData

    declared = MetaData(schema="allocation")
    tables.waitlist_entries.to_metadata(declared)
    with allocation.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_schemas": True, "compare_type": True,
            "include_name": lambda name, kind, parent: {"schema": name == "allocation",
                                                        "table": name == "waitlist_entries"}.get(kind, True)})
        assert compare_metadata(context, declared) == []


def test_the_migration_goes_down_to_the_three_indexes_and_up_again(database_url):
    settings = Settings(service_name="allocation-test-migrations", database_url=database_url)
    engine = create_engine(database_url)
    try:
        with engine.begin() as connection:
            config = alembic_config("allocation", settings)
            config.attributes["connection"] = connection
            command.downgrade(config, "allocation_0012")
            before = _indexes(connection)
        upgrade("allocation", settings, "allocation_0013")
        with engine.connect() as connection:
            after = _indexes(connection)
    finally:
        engine.dispose()
    assert sorted(before) == ["ix_waitlist_entries_application", "pk_waitlist_entries",
                              "uq_waitlist_entries_offer_position"]
    assert "(offer_id, application_id)" in before["pk_waitlist_entries"]
    assert sorted(after) == ["pk_waitlist_entries", "uq_waitlist_entries_offer_position"]
