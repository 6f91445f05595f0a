"""The courier's actions in the audit trail (docs/audit.md#notifications): each attempt's outcome is one entry on the
family's chain by `system:courier`, written with the outcome — delivered (and through which channels), an attempt
failed (the error's type, never its text), given up — and nothing for a round with nothing due."""
from __future__ import annotations

from sqlalchemy import select

from services.notifications.store.tables import audit
from services.registrations.domain.household import PostalAddress
from tests.support.notifications import TEST_RETRY

COURIER = ("system:courier", "system", None, None)  # subject, role, on whose behalf, request id


def trail(notifications, account: str) -> list[dict]:
    with notifications.engine.connect() as connection:
        return [dict(row) for row in connection.execute(
            select(audit.entries).where(audit.entries.c.chain == f"family:{account}").order_by(audit.entries.c.seq))
            .mappings()]


def who(entry: dict) -> tuple:
    return entry["actor_subject"], entry["actor_role"], entry["on_behalf_of"], entry["request_id"]


def test_a_delivery_leaves_one_entry_with_its_channels_and_a_round_with_nothing_due_none(notifications):
    account = notifications.household(email="famille@example.org", postal_mail=True,
                                      postal_address=PostalAddress("12 rue Oberkampf", "75011", "Paris"))
    notifications.received(account, notifications.published_campaign())
    assert notifications.deliver() == 1
    assert notifications.deliver() == 0

    (entry,) = trail(notifications, account)
    assert who(entry) == COURIER and (entry["action"], entry["target_type"]) == ("notification.delivered",
                                                                                   "notification")
    assert entry["changes"] == {"status": {"before": "pending", "after": "delivered"},
                                "channels": {"before": None, "after": ["inbox", "letter", "email"]}}
    assert entry["occurred_at"] == notifications.clock()


def test_each_failed_attempt_and_the_giving_up_leave_one_entry_without_the_errors_text(notifications):
    account = notifications.household(email="refuse@example.org")
    notifications.received(account, notifications.published_campaign())
    notifications.smtp.refuse_next(TEST_RETRY.max_attempts)
    for _ in range(TEST_RETRY.max_attempts):
        notifications.deliver()
        notifications.clock.advance(hours=1)

    entries = trail(notifications, account)
    assert [entry["action"] for entry in entries] == (
        ["notification.attempt_failed"] * (TEST_RETRY.max_attempts - 1) + ["notification.failed"])
    assert all(who(entry) == COURIER for entry in entries)
    assert entries[0]["changes"]["attempts"] == {"before": 0, "after": 1}
    assert entries[-1]["changes"]["status"] == {"before": "pending", "after": "failed"}
    assert {entry["changes"]["error"]["after"] for entry in entries} == {"SMTPDataError"}  # the type only
    assert "refuse@example.org" not in str([entry["changes"] for entry in entries])
