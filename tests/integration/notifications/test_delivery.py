"""A decision reaches the family by every channel it uses, in its language, once."""
from datetime import UTC, datetime

from tests.support.notifications import PORTAL, event, text_of

DEADLINE = datetime(2026, 3, 3, 10, 0, tzinfo=UTC)  # 11:00 in Paris (winter time)


def offered(application_id: str, account: str, campaign: dict, **data):
    return event("allocation.decided", **{
        "application_id": application_id, "campaign_id": campaign["campaign_id"], "family_account": account,
        "outcome": "allocated", "offer_id": campaign["offers"][0]["offer_id"], "offer_expires_at": DEADLINE.isoformat(),
        "explanation_url": f"/applications/{application_id}/explanation", **data})


def test_a_place_offered_is_told_by_inbox_email_and_letter_once_even_when_redelivered(notifications):
    account = notifications.household(email="famille.martin@example.org", postal_mail=True)
    campaign = notifications.published_campaign()
    application_id = notifications.received(account, campaign)
    decision = offered(application_id, account, campaign)

    notifications.apply(decision)
    notifications.deliver()
    notifications.apply(decision)  # the broker redelivers the same event
    notifications.deliver()

    place = next(m for m in notifications.inbox(account) if m["kind"] == "place_offered")
    assert place["subject"] == "Une place pour Inès Martin : Escalade — initiation"
    assert "« Paris Sport Vacances — test »" in place["body"]
    assert "avant le mardi 3 mars 2026 à 11 h 00 (heure de Paris)" in place["body"]
    assert place["link"] == f"{PORTAL}/applications/{application_id}/explanation" and place["link"] in place["body"]
    emails = notifications.smtp.to("famille.martin@example.org")
    assert [mail["Subject"] for mail in emails] == ["Demande reçue : Inès Martin — Paris Sport Vacances — test",
                                                    place["subject"]]
    assert text_of(emails[1]) == place["body"] and emails[1]["Content-Language"] == "fr"
    assert [row.subject for row in notifications.deliveries("letter")] == [emails[0]["Subject"], place["subject"]]
    assert len(notifications.deliveries("inbox")) == 2


def test_an_english_speaking_family_reads_english_with_the_deadline_in_paris_time(notifications):
    account = notifications.household(email="smith@example.org", language="en")
    campaign = notifications.published_campaign()
    application_id = notifications.received(account, campaign, first_name="Oliver")
    summer_deadline = datetime(2026, 7, 1, 16, 0, tzinfo=UTC)  # 18:00 in Paris (summer time)
    notifications.apply(offered(application_id, account, campaign, offer_expires_at=summer_deadline.isoformat()))
    notifications.deliver()

    (mail,) = [m for m in notifications.smtp.to("smith@example.org") if m["Subject"].startswith("A place")]
    assert mail["Subject"] == "A place for Oliver Martin: Escalade — initiation"
    assert "before Wednesday 1 July 2026 at 18:00 (Paris time)" in text_of(mail)
    assert mail["Content-Language"] == "en"


def test_a_family_without_household_or_address_gets_the_inbox_message_in_french(notifications):
    account = f"family-without-household-{datetime.now(UTC).timestamp()}"
    campaign = notifications.published_campaign()
    notifications.received(account, campaign)
    notifications.deliver()

    (message,) = notifications.inbox(account)
    assert message["kind"] == "application_received" and message["language"] == "fr"
    assert notifications.smtp.messages == [] and notifications.deliveries("letter") == []


def test_a_decision_read_before_its_application_waits_for_it_then_names_the_child(notifications):
    account = notifications.household()
    campaign = notifications.published_campaign()
    application_id = "3f0c1d2e-4b5a-4c6d-8e7f-9a0b1c2d3e4f"
    notifications.apply(offered(application_id, account, campaign))
    notifications.deliver()
    assert notifications.statuses() == {"place_offered": "pending"}
    assert notifications.inbox(account) == []

    notifications.apply(event("application.received", application_id=application_id,
                              campaign_id=campaign["campaign_id"], family_account=account,
                              choices=[campaign["offers"][0]["offer_id"]]))
    notifications.clock.advance(minutes=1)  # the first retry's backoff (TEST_RETRY)
    notifications.deliver()
    assert notifications.statuses() == {"place_offered": "delivered", "application_received": "delivered"}
    assert {m["subject"] for m in notifications.inbox(account)} >= {"Une place pour Inès Martin : Escalade — initiation"}
