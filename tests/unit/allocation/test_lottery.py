"""The verifiable lottery: commitment, reveal and numbers anyone can recompute."""
import hashlib
import hmac
import uuid

from hypothesis import given
from hypothesis import strategies as st

from services.allocation.domain import commitment, format_number, generate_seed, lottery_number, verify_commitment
from services.allocation.domain.lottery import line_of, lines_of, salt_of, salts_of, tickets
from tests.support.allocation_builders import SEED, application, policy, property_settings

APPLICATION_ID = "5b0f1c3e-8d1a-4c44-9a5e-2a9b4e0c7d11"


def test_a_seed_is_32_fresh_random_bytes():
    assert len(generate_seed()) == 32
    assert generate_seed() != generate_seed()


def test_the_commitment_is_the_sha256_of_the_seed_and_only_that_seed_verifies():
    assert commitment(SEED) == "630dcd2966c4336691125448bbb25b4ff412a49c732db2c8abc1b8581bd710dd"
    assert verify_commitment(SEED, commitment(SEED))
    assert verify_commitment(SEED, f" {commitment(SEED).upper()}\n")  # as pasted from a web page
    assert not verify_commitment(bytes(32), commitment(SEED))


def test_a_number_is_the_hmac_sha256_of_the_application_id_keyed_by_the_seed():
    # Also checked with: echo -n ID | openssl dgst -sha256 -mac HMAC -macopt hexkey:SEED_HEX
    assert format_number(lottery_number(SEED, APPLICATION_ID)) == (
        "24dd2d4577d485d6942aa16b3ac4723893720abcda61083d2ea0f2a014f24e79")
    expected = hmac.new(SEED, APPLICATION_ID.encode(), hashlib.sha256).digest()
    assert lottery_number(SEED, APPLICATION_ID) == int.from_bytes(expected, "big")


def test_extra_tickets_hash_the_id_with_their_index_and_keep_the_lowest():
    def ticket(message):
        return int.from_bytes(hmac.new(SEED, message.encode(), hashlib.sha256).digest(), "big")

    assert lottery_number(SEED, APPLICATION_ID, 3) == min(
        ticket(APPLICATION_ID), ticket(f"{APPLICATION_ID}:1"), ticket(f"{APPLICATION_ID}:2"))
    assert format_number(lottery_number(SEED, APPLICATION_ID, 3)) == (
        "042c1d3d3a967d9c8253017adc2bec50acf56486b4bf01408b97a66b955c86df")


@property_settings
@given(st.binary(min_size=32, max_size=32), st.uuids().map(str), st.integers(1, 8))
def test_an_extra_ticket_never_worsens_a_number(seed, application_id, count):
    assert lottery_number(seed, application_id, count + 1) <= lottery_number(seed, application_id, count)


def test_tickets_grow_with_the_weight_and_the_unsuccessful_years_but_only_in_a_lottery():
    unlucky = application("a", "o", unsuccessful_earlier_years=3)
    assert tickets(policy("lottery", lottery_weight_per_unsuccessful_year=2), unlucky) == 7
    assert tickets(policy("lottery"), unlucky) == 1
    assert tickets(policy("fcfs", lottery_weight_per_unsuccessful_year=2), unlucky) == 1


def test_published_numbers_have_64_hex_digits_so_text_order_is_number_order():
    assert format_number(1) == "0" * 63 + "1"
    assert (format_number(255) < format_number(256)) and len(format_number(2**256 - 1)) == 64


@given(st.binary(min_size=32, max_size=32), st.uuids().map(str))
@property_settings
def test_lines_and_salts_are_the_published_hmacs(lines_key, application_id):
    """The line is the first 16 bytes of HMAC-SHA-256("line:" ‖ id) written as a UUID, the salt those of
    "salt:" ‖ id: cut by hand for speed, they must stay what verifiers compute with `hmac` and `uuid`."""
    line = hmac.new(lines_key, b"line:" + application_id.encode(), hashlib.sha256).digest()[:16]
    assert line_of(lines_key, application_id) == str(uuid.UUID(bytes=line))
    salt = hmac.new(lines_key, b"salt:" + application_id.encode(), hashlib.sha256).digest()[:16]
    assert salt_of(lines_key, application_id) == salt


@given(st.binary(min_size=1, max_size=100), st.lists(st.text(min_size=1), max_size=5))
@property_settings
def test_a_draws_lines_and_salts_made_together_are_each_ones_own(lines_key, application_ids):
    """A draw makes every line and salt at once from the key's prepared HMAC states (keys longer than a
    SHA-256 block included): each must be what `line_of` and `salt_of` give alone."""
    assert lines_of(lines_key, application_ids) == [line_of(lines_key, one) for one in application_ids]
    assert salts_of(lines_key, application_ids) == [salt_of(lines_key, one) for one in application_ids]
