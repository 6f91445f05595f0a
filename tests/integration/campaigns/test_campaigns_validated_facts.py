"""A campaign's policy requiring validated facts (issue 16): stored, announced to allocation, and refused
(422 naming the field, nothing changed) where no criterion reads a validated fact."""
from tests.support.campaigns import campaign_body, etag_of, outbox_events

SINGLE_PARENT_FIRST = {"mode": "priority_lottery", "criteria": [{"name": "single_parent"}],
                       "requires_validated_facts": True}


def test_the_setting_is_stored_and_announced_in_the_snapshot(manager, engine):
    campaign = manager.published(campaign_body(policy=SINGLE_PARENT_FIRST))
    assert campaign["policy"]["requires_validated_facts"] is True
    assert manager.get(campaign["id"]).json["policy"]["requires_validated_facts"] is True
    [published] = outbox_events(engine, "campaign.published")
    assert published["data"]["policy"]["requires_validated_facts"] is True


def test_required_without_a_criterion_reading_a_validated_fact_is_422_and_changes_nothing(manager):
    campaign = manager.created()
    for policy in ({"mode": "lottery", "requires_validated_facts": True},
                   {"mode": "priority_lottery", "criteria": [{"name": "resident_of_offer_arrondissement"}],
                    "requires_validated_facts": True}):
        response = manager.patch(campaign["id"], etag_of(campaign), {"policy": policy})
        assert response.status_code == 422, response.json
        assert response.headers["Content-Type"].startswith("application/problem+json")
        errors = {error["field"]: error for error in response.json["errors"]}
        assert errors["policy.requires_validated_facts"]["code"] == "policy.validated_facts_without_fact_criterion"
    not_a_boolean = manager.patch(campaign["id"], etag_of(campaign),
                                  {"policy": {**SINGLE_PARENT_FIRST, "requires_validated_facts": "peut-être"}})
    assert not_a_boolean.status_code == 422
    assert "policy.requires_validated_facts" in [error["field"] for error in not_a_boolean.json["errors"]]
    unchanged = manager.get(campaign["id"]).json
    assert unchanged["version"] == campaign["version"] and unchanged["policy"]["requires_validated_facts"] is False
