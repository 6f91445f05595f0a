"""The domain's names follow the `campaign.*` event contract: a snapshot is the campaign's fields
with the ids renamed, plus the version and status the adapter knows."""
from dataclasses import asdict

import pytest

from services.campaigns.demo_data import DEMO_CAMPAIGNS
from services.campaigns.domain import status_at
from shared.contracts.campaigns import CampaignSnapshotSchema
from shared.events import make_event
from tests.unit.campaigns.builders import WHILE_OPEN


def snapshot(campaign, version: int) -> dict:
    fields = asdict(campaign)
    return {
        "campaign_id": campaign.id,
        "version": version,
        "status": status_at(campaign, WHILE_OPEN),
        **{name: fields[name] for name in (
            "title", "kind", "opens_at", "closes_at", "reference_date", "max_choices", "policy")},
        "offers": [{"offer_id": offer.pop("id"), **offer} for offer in fields["offers"]],
    }


@pytest.mark.parametrize("campaign", DEMO_CAMPAIGNS, ids=lambda c: c.kind)
def test_demo_campaign_fits_the_published_event_contract(campaign):
    event = make_event("campaign.published", source="campaigns", subject=campaign.id, data=snapshot(campaign, 1))
    assert event.data["policy"]["mode"] == campaign.policy.mode
    assert CampaignSnapshotSchema().validate(event.data) == {}
