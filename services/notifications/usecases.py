"""What parents and managers change through the API, each in one transaction: subscribing to a
campaign's opening or a reminder before its close, reading a message, retrying a failed notification, recording a printed letter.

A manager's change leaves one entry on the family's audit chain (store/audit.py) in its transaction; a repeat
that changes nothing leaves none. A parent's changes to its own subscriptions and inbox are not audited
(docs/audit.md#notifications says why).

Each raises its own exception when what it is asked about does not exist or cannot be done;
`web/errors.py` says which problem response each one is.
"""
from __future__ import annotations

from datetime import datetime
from uuid import UUID

from sqlalchemy import Engine, RowMapping

from services.notifications.domain.closing import still_open_to_reminders
from services.notifications.store import mailbox, subscriptions
from services.notifications.store.audit import family_entries, record_family_change
from services.notifications.store.queue import retry_failed
from services.notifications.store.read_model import campaign
from shared.audit import Actor, AuditEntry
from shared.clock import Clock


class CampaignNotFound(LookupError):
    """No published campaign has this id."""


class CampaignAlreadyOpen(Exception):
    """The campaign is open already: there is nothing to wait for."""


class CampaignClosed(Exception):
    """The campaign's applications are closed: there is nothing left to remind of."""


class ClosingReminderNotFound(LookupError):
    """The family asked for no reminder before this campaign closes."""


class SubscriptionNotFound(LookupError):
    """The family is not subscribed to this campaign."""


class MessageNotFound(LookupError):
    """The family has no message with this id (whoever else may have one)."""


class FailureNotFound(LookupError):
    """No failed notification has this id."""


class LetterNotFound(LookupError):
    """No letter has this id."""


def subscribe(engine: Engine, clock: Clock, family_account: str, campaign_id: UUID) -> RowMapping:
    """Tell the family when the campaign opens; subscribing twice is one subscription."""
    with engine.begin() as connection:
        known = campaign(connection, campaign_id)
        if known is None:
            raise CampaignNotFound(campaign_id)
        if known["opened_at"] is not None:
            raise CampaignAlreadyOpen(campaign_id)
        return subscriptions.subscribe(connection, family_account, campaign_id, clock())


def ask_closing_reminder(engine: Engine, clock: Clock, family_account: str, campaign_id: UUID) -> RowMapping:
    """Remind the family 24 h before the campaign closes (at once when it closes sooner); asking twice is one
    request. Before the opening too: a family may ask for both messages at once."""
    with engine.begin() as connection:
        known = campaign(connection, campaign_id)
        if known is None:
            raise CampaignNotFound(campaign_id)
        now = clock()
        if not still_open_to_reminders(datetime.fromisoformat(known["closes_at"]), known["closed_at"], now):
            raise CampaignClosed(campaign_id)
        return subscriptions.ask_closing_reminder(connection, family_account, campaign_id, now)


def cancel_closing_reminder(engine: Engine, family_account: str, campaign_id: UUID) -> None:
    with engine.begin() as connection:
        if not subscriptions.cancel_closing_reminder(connection, family_account, campaign_id):
            raise ClosingReminderNotFound(campaign_id)


def unsubscribe(engine: Engine, family_account: str, campaign_id: UUID) -> None:
    with engine.begin() as connection:
        if not subscriptions.unsubscribe(connection, family_account, campaign_id):
            raise SubscriptionNotFound(campaign_id)


def mark_read(engine: Engine, clock: Clock, family_account: str, message_id: UUID) -> RowMapping:
    with engine.begin() as connection:
        message = mailbox.mark_read(connection, family_account, message_id, clock())
    if message is None:
        raise MessageNotFound(message_id)
    return message


def retry_failure(engine: Engine, clock: Clock, notification_id: UUID, actor: Actor) -> None:
    """A manager's retry: the failed notification is due now with a fresh series of attempts."""
    with engine.begin() as connection:
        now = clock()
        failed = retry_failed(connection, notification_id, now)
        if failed is None:
            raise FailureNotFound(notification_id)
        record_family_change(connection, actor, failed["family_account"], "notification.retry", "notification",
                             str(notification_id), {"status": failed["status"], "attempts": failed["attempts"]},
                             {"status": "pending", "attempts": 0}, now)


def mark_printed(engine: Engine, clock: Clock, letter_id: UUID, actor: Actor) -> RowMapping:
    """Record that the mail room printed a letter; marked again, it keeps the first printing (and no entry)."""
    with engine.begin() as connection:
        now = clock()
        before = mailbox.printed_at(connection, letter_id)
        if before is None:
            raise LetterNotFound(letter_id)
        letter = mailbox.mark_printed(connection, letter_id, now)
        if before["printed_at"] is None:
            record_family_change(connection, actor, before["family_account"], "letter.printed", "letter",
                                 str(letter_id), {"printed_at": None}, {"printed_at": letter["printed_at"]}, now)
    return letter


def family_audit(engine: Engine, family_account: str, *, since: datetime | None = None,
                 until: datetime | None = None, actor: str | None = None) -> list[AuditEntry]:
    """What managers did to the family's notifications and letters, in chain order (none: an empty list)."""
    if not family_account.isprintable():  # no token subject has control characters; PostgreSQL refuses a NUL
        return []
    with engine.connect() as connection:
        return family_entries(connection, family_account, since=since, until=until, actor=actor)


def export_family(engine: Engine, family_account: str) -> dict:
    """Access and portability (docs/privacy.md): every message, delivery, subscription, application name and
    open offer notifications holds for the family."""
    from services.notifications.store.tables import applications, closed_offers, metadata
    from shared.personal_data import family_records

    with engine.connect() as connection:
        return {"service": "notifications", "family_account": family_account,
                "records": family_records(connection, metadata, family_account,
                                          {closed_offers: ("application_id", applications, "application_id")})}
