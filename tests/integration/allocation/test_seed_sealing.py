"""The lottery secret sealed at rest: a database dump alone does not give it, the draw still verifies."""
from __future__ import annotations

from uuid import uuid4

import pytest
from cryptography.exceptions import InvalidTag
from sqlalchemy import update

from services.allocation import verify
from services.allocation.app import create_app
from services.allocation.domain import commitment, secret_commitment
from services.allocation.settings import AllocationSettings
from services.allocation.store import seed_vault
from services.allocation.store.repository import get_seed, save_seed, seal_clear_seeds
from services.allocation.store.tables import lottery_seeds
from tests.support.allocation import Allocation, a_campaign, drawn_campaign

KEY, PREVIOUS_KEY = seed_vault.new_key(), seed_vault.new_key()


@pytest.fixture
def sealed_app(make_settings, redis_client, clock):
    app = create_app(make_settings("allocation", AllocationSettings, lottery_seed_keys=KEY), clock=clock)
    yield app
    app.extensions["guichet.runtime"].close()
    seed_vault.install(seed_vault.SeedVault())  # the next process-wide vault is the next app's


@pytest.fixture
def sealed(sealed_app, clock) -> Allocation:
    return Allocation(sealed_app.extensions["guichet.runtime"].engine, clock)


def stored_bytes(allocation: Allocation, campaign_id) -> bytes:
    return next(row.seed for row in allocation.rows(lottery_seeds) if row.campaign_id == campaign_id)


def test_the_committed_secret_is_stored_sealed_and_opens_to_its_commitment(sealed):
    campaign = sealed.publish(a_campaign())
    sealed.open(campaign)

    raw = stored_bytes(sealed, campaign["campaign_id"])
    with sealed.engine.connect() as connection:
        secret = get_seed(connection, campaign["campaign_id"]).seed
    assert len(secret) == 64 and seed_vault.is_sealed(raw)
    assert secret[:32] not in raw and secret[32:] not in raw, "neither the seed nor the lines key in clear"
    (committed,) = sealed.announced("lottery.seed_committed")
    assert committed["commitment"] == secret_commitment(secret)


def test_a_sealed_draw_reveals_its_seed_and_verifies(sealed, sealed_app, tmp_path):
    campaign, _ = drawn_campaign(sealed)
    public = sealed_app.test_client()
    draw = public.get(f"/draws/{campaign['campaign_id']}").json
    bundle = public.get(draw["bundle_url"])
    assert commitment(bytes.fromhex(draw["seed"] + bundle.json["lines_key_digest"])) == draw["commitment"]
    (tmp_path / "draw.json").write_bytes(bundle.data)
    assert verify.main([str(tmp_path / "draw.json"), "--commitment", draw["commitment"]]) == 0
    assert bytes.fromhex(draw["seed"]) not in stored_bytes(sealed, campaign["campaign_id"])


def test_a_sealed_secret_opens_for_its_own_campaign_only_and_only_with_the_key(sealed):
    campaign, other = sealed.publish(a_campaign()), sealed.publish(a_campaign())
    sealed.open(campaign)
    sealed.open(other)
    with sealed.engine.begin() as connection:
        connection.execute(update(lottery_seeds).where(lottery_seeds.c.campaign_id == other["campaign_id"])
                           .values(seed=stored_bytes(sealed, campaign["campaign_id"])))
    with sealed.engine.connect() as connection:
        with pytest.raises(InvalidTag):  # a sealed secret moved to another campaign's row does not open
            get_seed(connection, other["campaign_id"])
        seed_vault.install(seed_vault.SeedVault())
        with pytest.raises(seed_vault.SeedKeyMissing):
            get_seed(connection, campaign["campaign_id"])


def test_keys_rotate_and_clear_seeds_written_before_the_key_get_sealed(sealed):
    first, second = uuid4(), uuid4()
    with sealed.engine.begin() as connection:
        seed_vault.install(seed_vault.SeedVault(seed_vault.parse_keys(PREVIOUS_KEY)))
        save_seed(connection, first, b"\x01" * 64, "c1", sealed.clock())
        seed_vault.install(seed_vault.SeedVault())
        save_seed(connection, second, b"\x02" * 64, "c2", sealed.clock())
    assert stored_bytes(sealed, second) == b"\x02" * 64, "no key: stored in clear, as before"

    seed_vault.install(seed_vault.SeedVault(seed_vault.parse_keys(f"{KEY},{PREVIOUS_KEY}")))
    with sealed.engine.begin() as connection:
        assert seal_clear_seeds(connection) == 1
        assert seal_clear_seeds(connection) == 0
        assert get_seed(connection, first).seed == b"\x01" * 64, "sealed with the previous key, still opens"
        assert get_seed(connection, second).seed == b"\x02" * 64
    assert seed_vault.is_sealed(stored_bytes(sealed, second))
