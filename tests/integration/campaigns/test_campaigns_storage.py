"""The tables as the migrations create them, and domain values through them and back unchanged."""
from dataclasses import replace

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import update

from services.campaigns.demo_data import DEMO_CAMPAIGNS
from services.campaigns.domain import StaleVersion, update_offer
from services.campaigns.store import repository
from services.campaigns.store.tables import metadata, offers


def test_tables_module_matches_the_migrations(engine):
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_schemas": True, "compare_type": True,
            "include_name": lambda name, kind, parent: {"schema": name == metadata.schema,
                                                        "table": name != "alembic_version"}.get(kind, True)})
        assert compare_metadata(context, metadata) == []


def test_demo_campaigns_come_back_equal(engine):
    with engine.begin() as connection:
        for campaign in DEMO_CAMPAIGNS:
            repository.insert_campaign(connection, campaign)
        loaded = [repository.get_campaign(connection, campaign.id).campaign for campaign in DEMO_CAMPAIGNS]
    assert loaded == list(DEMO_CAMPAIGNS)  # Decimal shares, UTC instants, tariff tuples, offer order


def test_saving_a_campaign_leaves_places_given_to_the_allocation_feed(engine):
    campaign = DEMO_CAMPAIGNS[0]
    first_offer = campaign.offers[0]
    with engine.begin() as connection:
        repository.insert_campaign(connection, campaign)
        connection.execute(update(offers).where(offers.c.id == first_offer.id).values(places_given=3))
        stored = repository.get_campaign(connection, campaign.id, lock=True)
        changed = update_offer(campaign, first_offer.id, {"capacity": 20}, campaign.published_at,
                               places_given=stored.places_given_for(first_offer.id))
        saved = repository.save_campaign(connection, stored, changed)
        reloaded = repository.get_campaign(connection, campaign.id)
    assert (saved.version, reloaded.version) == (2, 2)
    assert reloaded.places_given_for(first_offer.id) == 3 and reloaded.campaign.offers[0].capacity == 20


def test_a_save_computed_from_an_older_version_changes_nothing(engine):
    campaign = DEMO_CAMPAIGNS[1]
    with engine.begin() as connection:
        repository.insert_campaign(connection, campaign)
        read_by_both = repository.get_campaign(connection, campaign.id)
        repository.save_campaign(connection, read_by_both, replace(campaign, title="First writer"))
        with pytest.raises(StaleVersion):
            repository.save_campaign(connection, read_by_both, replace(campaign, title="Second writer", offers=()))
        stored = repository.get_campaign(connection, campaign.id)
    assert (stored.version, stored.campaign.title, len(stored.campaign.offers)) == (2, "First writer", 6)
