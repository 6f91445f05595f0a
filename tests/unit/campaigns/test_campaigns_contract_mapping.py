"""The domain's names follow the `campaign.*` event contract: a snapshot is the campaign's fields
with the ids renamed, plus the version and status the adapter knows."""
import pytest

from services.campaigns.demo_data import DEMO_CAMPAIGNS
from services.campaigns.domain import Transition, TransitionKind
from services.campaigns.store.snapshots import campaign_snapshot, change_event, window_event
from shared.contracts.campaigns import CampaignSnapshotSchema
from shared.events import parse_event
from tests.support.campaign_builders import WHILE_OPEN, a_campaign


@pytest.mark.parametrize("campaign", DEMO_CAMPAIGNS, ids=lambda c: c.kind)
def test_demo_campaign_fits_the_published_event_contract(campaign):
    event = change_event(None, campaign, 1, WHILE_OPEN)
    assert event.type == "campaign.published"
    assert event.data["policy"]["mode"] == campaign.policy.mode
    assert CampaignSnapshotSchema().validate(event.data) == {}
    assert parse_event(event.to_dict()).data == event.data


def test_snapshot_renames_the_ids_and_carries_version_and_status():
    campaign = DEMO_CAMPAIGNS[0]
    snapshot = campaign_snapshot(campaign, 7, WHILE_OPEN)
    assert (snapshot["campaign_id"], snapshot["version"], snapshot["status"]) == (campaign.id, 7, "open")
    assert [offer["offer_id"] for offer in snapshot["offers"]] == [offer.id for offer in campaign.offers]


def test_drafts_announce_nothing_and_later_changes_are_updates():
    published = DEMO_CAMPAIGNS[0]
    assert change_event(None, a_campaign(), 1, WHILE_OPEN) is None
    assert change_event(published, published, 2, WHILE_OPEN).type == "campaign.updated"


def test_window_event_marks_the_transition_instant():
    campaign = DEMO_CAMPAIGNS[0]
    event = window_event(Transition(campaign.id, TransitionKind.OPENED, campaign.opens_at), 3, WHILE_OPEN)
    assert (event.type, event.data["at"], event.data["version"]) == ("campaign.opened", "2026-02-01T23:01:00+00:00", 3)
