"""The draw bundle is stored uncompressed (migration allocation_0009) and served in the very text it was
published as, also when a draw's run is queued to be stored while its decisions are made (`queue_run`)."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from psycopg.errors import UniqueViolation
from sqlalchemy import text

from services.allocation.store.bulk_copy import copies_in_order, json_text
from services.allocation.store.repository import published_bundle, published_run, queue_run, save_run


def test_the_bundle_column_is_stored_out_of_line_uncompressed(allocation):
    with allocation.engine.connect() as connection:
        storage = connection.execute(text(
            "SELECT attstorage FROM pg_attribute WHERE attrelid = 'allocation.allocation_runs'::regclass"
            " AND attname = 'bundle'")).scalar_one()
    assert storage == "e"  # external: out of line, never compressed


def test_a_large_bundle_reads_back_as_the_text_published(allocation):
    campaign = uuid.uuid4()
    # Large enough to be stored out of line, repetitive enough that compression would have applied.
    bundle = {"format": "guichet-draw/3", "applications": [{"line": str(number), "choices": ["é", "\\", "\t"]}
                                                           for number in range(20_000)]}
    with allocation.engine.connect() as connection:
        save_run(connection, uuid.uuid4(), campaign, "published", datetime(2026, 3, 1, tzinfo=UTC), seed=bytes(32),
                 statistics={}, bundle=bundle)
        stored = published_bundle(connection, campaign)
        size, raw = connection.execute(text(
            "SELECT pg_column_size(bundle), octet_length(bundle::text) FROM allocation.allocation_runs"
            " WHERE campaign_id = :campaign"), {"campaign": campaign}).one()
        connection.rollback()
    assert stored == json_text(bundle)
    assert size >= raw  # not compressed


def test_a_run_saved_while_the_draw_works_reads_back_as_save_run_stores_it(allocation):
    """`queue_run` (COPY from the copies' thread, the block running meanwhile) stores what `save_run` does."""
    bundle = {"format": "guichet-draw/3", "applications": [{"line": str(number), "choices": ["é", "\\", "\t", "\n"]}
                                                           for number in range(20_000)]}
    statistics = {"applications": 3, "offers": [{"offer_id": "o", "fill_rate": 0.5}]}
    now = datetime(2026, 3, 1, tzinfo=UTC)
    stored = {}
    with allocation.engine.connect() as connection:
        for name, campaign in (("insert", uuid.uuid4()), ("copy", uuid.uuid4())):
            if name == "insert":
                save_run(connection, uuid.uuid4(), campaign, "published", now, seed=bytes(32), statistics=statistics,
                         bundle=bundle)
            else:
                with copies_in_order(connection) as copies:
                    queue_run(copies, uuid.uuid4(), campaign, "published", now, seed=bytes(32), statistics=statistics,
                              bundle=bundle)
            run = published_run(connection, campaign)
            stored[name] = (published_bundle(connection, campaign), run.seed_hex, run.statistics, run.created_at)
        connection.rollback()
    assert stored["copy"] == stored["insert"]
    assert stored["copy"][0] == json_text(bundle)


def test_a_second_published_run_saved_while_the_draw_works_is_refused(allocation):
    campaign, now = uuid.uuid4(), datetime(2026, 3, 1, tzinfo=UTC)
    with allocation.engine.connect() as connection:
        save_run(connection, uuid.uuid4(), campaign, "published", now, seed=bytes(32), statistics={}, bundle={})
        with pytest.raises(UniqueViolation, match="uq_allocation_runs_published"):
            with copies_in_order(connection) as copies:
                queue_run(copies, uuid.uuid4(), campaign, "published", now, seed=bytes(32), statistics={}, bundle={})
        connection.rollback()
