"""Application ids are drawn by the server: the lottery hashes them, so the client's Idempotency-Key
must not choose them (issue 17). Idempotency still holds through the key → id mapping."""
import uuid
from datetime import date

from services.registrations.usecases.intake import application_id_key
from tests.support.registrations import campaign_snapshot


def test_the_same_key_is_the_same_application_and_a_forgotten_key_is_a_new_random_id(registrations, redis_client):
    campaign = registrations.publish_campaign(campaign_snapshot())
    account, (first, second) = registrations.family(birth_dates=(date(2015, 6, 1), date(2016, 2, 3)))
    submitted = registrations.submit(account, campaign, first, key="my-lucky-key")
    assert submitted.status_code == 202, submitted.json
    application_id = uuid.UUID(submitted.json["application_id"])
    assert application_id.version == 4, "drawn at random, not derived"
    assert redis_client.get(application_id_key(account, "my-lucky-key")) == str(application_id)
    assert registrations.submit(account, campaign, first, key="my-lucky-key").json["application_id"] == str(application_id)

    # Once the key is forgotten (its records expired), the very same key gives another id: nothing about the id,
    # hence about the lottery number hashed from it, follows from what the client sends.
    redis_client.delete(application_id_key(account, "my-lucky-key"), *redis_client.keys("idem:*"))
    again = registrations.submit(account, campaign, second, key="my-lucky-key")
    assert again.status_code == 202, again.json
    assert again.json["application_id"] != str(application_id)


def test_many_keys_give_unrelated_ids(registrations):
    """A client trying keys gets fresh random ids, none of which it could have computed beforehand."""
    campaign = registrations.publish_campaign(campaign_snapshot())
    ids = set()
    for _ in range(5):
        account, (child,) = registrations.family()
        response = registrations.submit(account, campaign, child, key="same-key-everywhere")
        assert response.status_code == 202, response.json
        ids.add(response.json["application_id"])
    assert len(ids) == 5
    assert all(uuid.UUID(each).version == 4 for each in ids)
