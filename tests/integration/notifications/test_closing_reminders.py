"""Parents who asked for it are reminded once, 24 h before a campaign closes: again when the close is
extended, never after it closed (early closes included), and never twice for one close, whatever the
redeliveries and the schedulers racing."""
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from services.notifications.handlers.reminders import remind_closing
from tests.support.notifications import event


def ask(notifications, account, campaign_id):
    return notifications.client.put(f"/notifications/closing-reminders/{campaign_id}",
                                    headers=notifications.parent(account))


def remind(notifications) -> int:
    return remind_closing(notifications.engine, notifications.clock)


def closing_messages(notifications, account):
    return [m for m in notifications.inbox(account) if m["kind"] == "campaign_closing"]


def test_the_family_is_reminded_once_24_hours_before_the_close(notifications):
    closes_at = notifications.clock() + timedelta(hours=72)
    campaign = notifications.published_campaign(title="Centres de loisirs — mercredis", closes_at=closes_at)
    asked, applied, changed_mind, other = (notifications.household(email=f"{name}@example.org")
                                           for name in ("rappel", "deja", "annule", "autre"))
    first = ask(notifications, asked, campaign["campaign_id"])
    again = ask(notifications, asked, campaign["campaign_id"])
    assert first.status_code == again.status_code == 200 and first.json == again.json
    assert first.json["campaign_title"] == "Centres de loisirs — mercredis" and first.json["reminded_for"] is None
    for account in (applied, changed_mind):
        assert ask(notifications, account, campaign["campaign_id"]).status_code == 200
    notifications.received(applied, campaign, first_name="Léo")
    assert notifications.client.delete(f"/notifications/closing-reminders/{campaign['campaign_id']}",
                                       headers=notifications.parent(changed_mind)).status_code == 204

    notifications.clock.advance(hours=47, minutes=59)
    assert remind(notifications) == 0
    notifications.clock.advance(minutes=1)
    with ThreadPoolExecutor(4) as schedulers:  # racing: each request taken by one of them
        assert sum(schedulers.map(lambda _: remind(notifications), range(4))) == 2
    notifications.clock.advance(hours=1)
    assert remind(notifications) == 0
    notifications.deliver()

    (message,) = closing_messages(notifications, asked)
    assert message["subject"] == "Les inscriptions ferment bientôt : Centres de loisirs — mercredis"
    assert "Vous n'avez encore déposé aucune demande pour cette campagne." in message["body"]
    (reminded_applied,) = closing_messages(notifications, applied)
    assert "Vous avez déjà déposé une demande pour : Léo Martin." in reminded_applied["body"]
    assert [m["Subject"] for m in notifications.smtp.to("rappel@example.org")] == [message["subject"]]
    assert closing_messages(notifications, changed_mind) == closing_messages(notifications, other) == []
    listed = notifications.client.get("/notifications/closing-reminders", headers=notifications.parent(asked)).json
    assert [(r["campaign_id"], r["reminded_for"] is not None) for r in listed] == [(campaign["campaign_id"], True)]


def test_an_extended_close_is_reminded_again_and_a_closed_campaign_never(notifications):
    closes_at = notifications.clock() + timedelta(hours=12)
    campaign = notifications.published_campaign(closes_at=closes_at)
    extended_family, closed_family = notifications.household(), notifications.household()
    ask(notifications, extended_family, campaign["campaign_id"])
    assert remind(notifications) == 1  # asked within the last 24 h: reminded at once
    updated = event("campaign.updated", **{**campaign, "version": 2,
                                           "closes_at": (closes_at + timedelta(days=2)).isoformat()})
    notifications.apply(updated, updated)
    assert remind(notifications) == 0
    notifications.clock.advance(hours=36)
    assert remind(notifications) == 1  # the new close, 24 h ahead
    notifications.clock.advance(hours=1)
    assert remind(notifications) == 0

    closed_early = notifications.published_campaign(closes_at=notifications.clock() + timedelta(hours=30))
    ask(notifications, closed_family, closed_early["campaign_id"])
    closed = event("campaign.closed", campaign_id=closed_early["campaign_id"], at=notifications.clock().isoformat())
    notifications.apply(closed, closed)
    notifications.clock.advance(hours=10)
    assert remind(notifications) == 0
    late = ask(notifications, notifications.household(), closed_early["campaign_id"])
    assert late.status_code == 409 and late.json["code"] == "campaign-closed"
    notifications.deliver()
    assert len(closing_messages(notifications, extended_family)) == 2
    assert closing_messages(notifications, closed_family) == []


def test_only_published_campaigns_and_own_requests(notifications):
    account = notifications.household()
    unknown = ask(notifications, account, uuid.uuid4())
    assert unknown.status_code == 404 and unknown.json["code"] == "campaign-not-found"
    campaign = notifications.published_campaign()
    missing = notifications.client.delete(f"/notifications/closing-reminders/{campaign['campaign_id']}",
                                          headers=notifications.parent(account))
    assert missing.status_code == 404 and missing.json["code"] == "closing-reminder-not-found"
