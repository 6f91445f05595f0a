"""The draw bundle is stored uncompressed (migration allocation_0009) and served in the very text it was
published as."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy import text

from services.allocation.store.bulk_copy import json_text
from services.allocation.store.repository import published_bundle, save_run


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
