"""Managers' live counters of a window: applications received per minute and per offer, from the ledger."""
from datetime import date

from shared.waiting import wait_until
from tests.support.registrations import campaign_snapshot, offer


def test_counters_count_each_application_once_per_minute_and_per_ranked_offer(registrations):
    escalade, natation = offer(title="Escalade"), offer(title="Natation")
    campaign = registrations.publish_campaign(campaign_snapshot(offers=[escalade, natation]))
    other = registrations.publish_campaign(campaign_snapshot(offers=[offer()]))
    account, children = registrations.family(birth_dates=[date(2010 + n, 5, 14) for n in range(3)])
    choices = [[escalade["offer_id"], natation["offer_id"]], [natation["offer_id"]], [escalade["offer_id"]]]
    for child, ranked in zip(children, choices):
        key = f"submit-{child}"
        assert registrations.submit(account, campaign, child, choices=ranked, key=key).status_code == 202
        assert registrations.submit(account, campaign, child, choices=ranked, key=key).status_code == 202  # replay
    registrations.submit(account, other, children[0])
    wait_until(lambda: len(registrations.ledger()) == 4, timeout=30, what="the ledger")

    manager = {"Authorization": f"Bearer {registrations.token_for('manager', 'agent-1')}"}
    counters = registrations.client.get(f"/applications/counters/{campaign['campaign_id']}", headers=manager)
    assert counters.status_code == 200
    assert counters.json["received"] == 3 and sum(m["received"] for m in counters.json["per_minute"]) == 3
    per_offer = {o["offer_id"]: (o["first_choice"], o["ranked"]) for o in counters.json["per_offer"]}
    assert per_offer == {str(escalade["offer_id"]): (2, 2), str(natation["offer_id"]): (1, 2)}

    parent = {"Authorization": f"Bearer {registrations.token_for('parent', account)}"}
    assert registrations.client.get(f"/applications/counters/{campaign['campaign_id']}", headers=parent).status_code \
        == 403
