"""Parents who subscribed to a campaign are told once when it opens."""
import uuid

from tests.support.notifications import event


def subscribe(notifications, account, campaign_id):
    return notifications.client.put(f"/notifications/subscriptions/{campaign_id}", headers=notifications.parent(account))


def test_subscribers_are_told_once_when_the_campaign_opens(notifications):
    campaign = notifications.published_campaign(title="Centres de loisirs — mercredis")
    subscriber, changed_mind, other = (notifications.household(email=f"{name}@example.org")
                                       for name in ("abonne", "desabonne", "autre"))
    first = subscribe(notifications, subscriber, campaign["campaign_id"])
    again = subscribe(notifications, subscriber, campaign["campaign_id"])
    assert first.status_code == again.status_code == 200 and first.json == again.json
    assert first.json["campaign_title"] == "Centres de loisirs — mercredis"
    subscribe(notifications, changed_mind, campaign["campaign_id"])
    assert notifications.client.delete(f"/notifications/subscriptions/{campaign['campaign_id']}",
                                       headers=notifications.parent(changed_mind)).status_code == 204
    listed = notifications.client.get("/notifications/subscriptions", headers=notifications.parent(subscriber)).json
    assert [s["campaign_id"] for s in listed] == [campaign["campaign_id"]]

    opened = event("campaign.opened", campaign_id=campaign["campaign_id"], at=campaign["opens_at"])
    notifications.apply(opened, opened)
    notifications.deliver()

    (message,) = notifications.inbox(subscriber)
    assert message["subject"] == "Les inscriptions sont ouvertes : Centres de loisirs — mercredis"
    assert "Escalade — initiation" in message["body"]
    assert [m["Subject"] for m in notifications.smtp.messages] == [message["subject"]]
    assert notifications.inbox(changed_mind) == notifications.inbox(other) == []
    late = subscribe(notifications, other, campaign["campaign_id"])
    assert late.status_code == 409 and late.json["code"] == "campaign-already-open"


def test_only_published_campaigns_can_be_followed(notifications):
    response = subscribe(notifications, notifications.household(), uuid.uuid4())
    assert response.status_code == 404 and response.json["code"] == "campaign-not-found"
