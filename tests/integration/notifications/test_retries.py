"""SMTP failures are retried with exponential backoff; after the last attempt a manager sees the
notification and retries it, and only what had failed is sent."""
from datetime import timedelta

from sqlalchemy import select

from services.notifications.store import tables
from tests.support.notifications import TEST_RETRY


def next_attempt_in(notifications) -> timedelta:
    with notifications.engine.connect() as connection:
        due = connection.execute(select(tables.notifications.c.next_attempt_at)).scalar_one()
    return due - notifications.clock()


def received_by_mail(notifications, address="famille@example.org"):
    account = notifications.household(email=address)
    notifications.received(account, notifications.published_campaign())
    return account


def test_a_busy_mail_server_is_retried_after_1_then_2_minutes_and_the_mail_sent_once(notifications):
    notifications.smtp.refuse_next(2)
    account = received_by_mail(notifications)

    notifications.deliver()
    assert next_attempt_in(notifications) == timedelta(minutes=1)
    notifications.deliver()  # not due yet: nothing is tried
    assert notifications.smtp.refusals_left == 1
    notifications.clock.advance(minutes=1)
    notifications.deliver()
    assert next_attempt_in(notifications) == timedelta(minutes=2)
    notifications.clock.advance(minutes=2)
    notifications.deliver()

    assert notifications.statuses() == {"application_received": "delivered"}
    assert len(notifications.smtp.to("famille@example.org")) == 1
    assert len(notifications.inbox(account)) == 1  # delivered at the first attempt, never repeated


def test_after_the_last_attempt_a_manager_sees_the_failure_and_retries_it(notifications):
    notifications.smtp.refuse_next(TEST_RETRY.max_attempts)
    account = received_by_mail(notifications)
    for _ in range(TEST_RETRY.max_attempts):
        notifications.deliver()
        notifications.clock.advance(hours=1)
    assert notifications.statuses() == {"application_received": "failed"}

    assert notifications.client.get("/notifications/failures", headers=notifications.parent(account)).status_code == 403
    (failure,) = notifications.client.get("/notifications/failures", headers=notifications.manager()).json
    assert failure["family_account"] == account and failure["kind"] == "application_received"
    assert failure["attempts"] == TEST_RETRY.max_attempts and "451" in failure["last_error"]
    assert failure["delivered_channels"] == ["inbox"]

    retry_url = f"/notifications/failures/{failure['notification_id']}/retry"
    retried = notifications.client.post(retry_url, headers=notifications.manager())
    assert retried.status_code == 200 and retried.json["status"] == "pending"
    assert notifications.client.post(retry_url, headers=notifications.manager()).status_code == 404  # not failed now
    notifications.deliver()

    assert notifications.statuses() == {"application_received": "delivered"}
    assert notifications.client.get("/notifications/failures", headers=notifications.manager()).json == []
    assert len(notifications.smtp.to("famille@example.org")) == 1 and len(notifications.inbox(account)) == 1


def test_an_address_corrected_before_the_retry_is_the_one_written_to(notifications):
    notifications.smtp.refuse_next(1)
    account = received_by_mail(notifications, "typo@exmple.org")
    notifications.deliver()
    notifications.correct_email(account, "right@example.org")
    notifications.clock.advance(minutes=1)
    notifications.deliver()

    assert notifications.smtp.to("typo@exmple.org") == [] and len(notifications.smtp.to("right@example.org")) == 1
    assert [row.recipient for row in notifications.deliveries("email")] == ["right@example.org"]
