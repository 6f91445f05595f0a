"""24 h before an offered place expires, the family is reminded once; not after answering, not for
an offer made too late for a reminder to help."""
import threading
from datetime import timedelta

from services.notifications.handlers.reminders import remind_due
from tests.support.notifications import event


def applied(notifications):
    account = notifications.household(email="rappel@example.org")
    campaign = notifications.published_campaign()
    return account, campaign, notifications.received(account, campaign)


def decide(notifications, application, expires_in: timedelta):
    account, campaign, application_id = application
    notifications.apply(event("allocation.decided", application_id=application_id, family_account=account,
                              campaign_id=campaign["campaign_id"], outcome="allocated",
                              offer_id=campaign["offers"][0]["offer_id"],
                              offer_expires_at=(notifications.clock() + expires_in).isoformat()))


def accept(notifications, application):
    account, campaign, application_id = application
    notifications.apply(event("offer.accepted", application_id=application_id, campaign_id=campaign["campaign_id"],
                              family_account=account, offer_id=campaign["offers"][0]["offer_id"]))


def offer(notifications, expires_in: timedelta):
    application = applied(notifications)
    decide(notifications, application, expires_in)
    return application


def remind(notifications) -> int:
    return remind_due(notifications.engine, notifications.clock)


def reminders(notifications, account):
    return [m for m in notifications.inbox(account) if m["kind"] == "offer_reminder"]


def test_the_reminder_comes_24_hours_before_the_deadline_exactly_once(notifications):
    account, _, _ = offer(notifications, expires_in=timedelta(hours=72))
    notifications.clock.advance(hours=47, minutes=59)
    assert remind(notifications) == 0

    notifications.clock.advance(minutes=1)
    racing = [threading.Thread(target=remind, args=(notifications,)) for _ in range(4)]
    for scheduler in racing:
        scheduler.start()
    for scheduler in racing:
        scheduler.join()
    notifications.clock.advance(hours=1)
    assert remind(notifications) == 0
    notifications.deliver()

    (reminder,) = reminders(notifications, account)
    assert reminder["subject"] == "Rappel : la place proposée à Inès Martin expire dans moins de 24 heures"
    assert len([m for m in notifications.smtp.to("rappel@example.org") if m["Subject"] == reminder["subject"]]) == 1


def test_no_reminder_once_answered_even_read_before_its_offer_nor_for_an_offer_made_late(notifications):
    answered = offer(notifications, expires_in=timedelta(hours=72))
    accept(notifications, answered)
    answered_first = applied(notifications)
    accept(notifications, answered_first)  # the answer's topic was read before the offer's
    decide(notifications, answered_first, expires_in=timedelta(hours=72))
    late = offer(notifications, expires_in=timedelta(hours=12))

    notifications.clock.advance(hours=50)
    assert remind(notifications) == 0
    notifications.deliver()
    assert not any(reminders(notifications, account) for account, _, _ in (answered, answered_first, late))
