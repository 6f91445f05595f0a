"""HouseholdReader against real PostgreSQL and Redis: read-through, write-through, versions."""
import json
from dataclasses import replace
from datetime import date
from uuid import uuid4

import pytest
from sqlalchemy import create_engine

from services.registrations.domain.household import Child, Household, Language
from services.registrations.store.household_cache import HouseholdReader, cache_key
from services.registrations.store.households import save_household
from shared.db import make_engine, transaction

UNSAVED = Household("family-a", single_parent=True, quotient_tranche=2, quotient_justified_on=date(2025, 9, 30),
                    arrondissement=19, email="famille@example.fr", language=Language.EN,
                    children=(Child(uuid4(), "Léa", "Martin", date(2016, 5, 4), "École Tanger", 19, True),))


@pytest.fixture
def engine(make_settings):
    engine = make_engine(make_settings("registrations"))
    yield engine
    engine.dispose()


@pytest.fixture
def stored(engine) -> Household:
    with transaction(engine) as connection:
        return save_household(connection, UNSAVED)


@pytest.fixture
def reader(engine, redis_client) -> HouseholdReader:
    return HouseholdReader(engine, redis_client)


def test_a_miss_reads_postgres_and_fills_redis(reader, stored, redis_client):
    assert redis_client.get(cache_key("family-a")) is None
    assert reader.get("family-a") == stored
    assert json.loads(redis_client.get(cache_key("family-a")))["version"] == stored.version == 1
    redis_client.flushdb()
    assert reader.get("family-a") == stored and redis_client.exists(cache_key("family-a"))


def test_a_hit_does_not_touch_postgres(reader, stored, redis_client):
    reader.get("family-a")
    unreachable = create_engine("postgresql+psycopg://nobody@127.0.0.1:1/none")
    assert HouseholdReader(unreachable, redis_client).get("family-a") == stored


def test_an_unknown_family_is_none_and_not_cached(reader, redis_client):
    assert reader.get("nobody") is None and redis_client.keys() == []


def test_an_older_household_never_replaces_a_newer_one(reader, stored, redis_client):
    newer = replace(stored, postal_mail=True, version=2)
    reader.write_through(newer)
    reader.write_through(stored)
    assert json.loads(redis_client.get(cache_key("family-a")))["version"] == 2


def test_an_entry_that_cannot_be_updated_is_deleted_then_refilled(reader, stored, redis_client):
    # A key of another type makes the write fail inside Redis, as a stale entry we cannot overwrite would.
    redis_client.hset(cache_key("family-a"), "version", 0)
    reader.write_through(stored)
    assert not redis_client.exists(cache_key("family-a"))
    assert reader.get("family-a") == stored and redis_client.type(cache_key("family-a")) == "string"


def test_an_unreadable_entry_is_read_from_postgres_and_replaced(reader, stored, redis_client):
    redis_client.set(cache_key("family-a"), json.dumps({"version": 0, "format": "from another release"}))
    assert reader.get("family-a") == stored
    assert json.loads(redis_client.get(cache_key("family-a")))["version"] == 1
