"""Delivers queued notifications: the in-app inbox always, a letter to families who chose paper, an
email to families with an address.

Each attempt reads the family's contact, renders the message in its language, records the inbox
message and the letter (once each: one delivery per channel), then sends the email unless an
earlier attempt already did. Any failure (registrations or the SMTP server unreachable, an address
refused, the campaign not known yet) counts an attempt: the notification is tried again after an
exponential backoff, and after the last attempt it is set aside for a manager to see and retry.

Each attempt's outcome is one entry on the family's audit chain, by `system:courier`, in the transaction that
records it (docs/audit.md#notifications): `notification.delivered` (the channels it went through),
`notification.attempt_failed` (due again later) or `notification.failed` (given up, for a manager to retry).
"""
from __future__ import annotations

import logging
from datetime import timedelta
from typing import Protocol
from uuid import UUID

from sqlalchemy import Engine

from services.notifications.domain.messages import written_language
from services.notifications.store.audit import record_family_change
from services.notifications.store.contacts import Contact
from services.notifications.store.queue import (
    Queued,
    claim_due,
    mark_delivered,
    mark_sent,
    record_delivery,
    record_failure,
)
from services.notifications.store.read_model import facts_for
from services.notifications.store.templates import render
from shared.audit import Actor
from shared.clock import Clock
from shared.formatting import DEFAULT_HELP_CHANNEL, HelpChannel
from shared.kafka import RetryPolicy

log = logging.getLogger(__name__)
COURIER = Actor.system("courier")

# Eight attempts over about two hours (1, 2, 4 … 32, then 60 min apart) before a manager is asked to look.
DELIVERY_RETRY = RetryPolicy(max_attempts=8, first_backoff_s=60, max_backoff_s=3600)


class Contacts(Protocol):
    def contact_of(self, family_account: str) -> Contact: ...


class Mailer(Protocol):
    def send(self, delivery_id: UUID, recipient: str, subject: str, body: str, language: str) -> None: ...


class Courier:
    def __init__(self, engine: Engine, contacts: Contacts, mailer: Mailer, clock: Clock,
                 portal_url: str, retry: RetryPolicy = DELIVERY_RETRY, lease: timedelta = timedelta(minutes=2),
                 batch_size: int = 50, help: HelpChannel = DEFAULT_HELP_CHANNEL):
        self.engine = engine
        self.contacts = contacts
        self.mailer = mailer
        self.clock = clock
        self.portal_url = portal_url
        self.retry = retry
        self.lease = lease
        self.batch_size = batch_size
        self.help = help

    def deliver_due(self) -> int:
        """One round: every notification due now gets an attempt. Returns how many were claimed."""
        with self.engine.begin() as connection:
            claimed = claim_due(connection, self.clock(), self.lease, self.batch_size)
        for queued in claimed:
            self._attempt(queued)
        return len(claimed)

    def _attempt(self, queued: Queued) -> None:
        try:
            self._deliver(queued)
        except Exception as error:  # noqa: BLE001 — whatever failed, the attempt counts and is retried
            with self.engine.begin() as connection:
                now = self.clock()
                gave_up = record_failure(connection, queued, f"{type(error).__name__}: {error}", now, self.retry)
                # The error's type only: its text may quote an address, which the trail would keep for years.
                record_family_change(
                    connection, COURIER, queued.family_account,
                    "notification.failed" if gave_up else "notification.attempt_failed", "notification",
                    str(queued.notification_id), {"status": "pending", "attempts": queued.attempts, "error": None},
                    {"status": "failed" if gave_up else "pending", "attempts": queued.attempts + 1,
                     "error": type(error).__name__}, now)
            log.log(logging.ERROR if gave_up else logging.WARNING, "notification not delivered",
                    extra={"notification": str(queued.notification_id), "attempt": queued.attempts + 1,
                           "gave_up": gave_up, "error": repr(error)})

    def _deliver(self, queued: Queued) -> None:
        contact = self.contacts.contact_of(queued.family_account)
        language = written_language(contact.language)
        with self.engine.connect() as connection:
            facts = facts_for(connection, queued.kind, queued.data)
        message = render(queued.kind, language, queued.data, facts, self.portal_url, self.help)
        now = self.clock()
        with self.engine.begin() as connection:
            record_delivery(connection, queued, "inbox", language, message, now)
            if contact.postal_mail:
                record_delivery(connection, queued, "letter", language, message, now,
                                recipient=contact.postal_address)
            email = (record_delivery(connection, queued, "email", language, message, now, recipient=contact.email)
                     if contact.email else None)
        sending = email is not None and email["sent_at"] is None
        if sending:
            self.mailer.send(email["delivery_id"], email["recipient"], email["subject"], email["body"], language)
        with self.engine.begin() as connection:
            now = self.clock()
            if sending:
                mark_sent(connection, email["delivery_id"], now)
            if mark_delivered(connection, queued.notification_id, now):
                channels = ["inbox", *(["letter"] if contact.postal_mail else []), *(["email"] if email else [])]
                record_family_change(connection, COURIER, queued.family_account, "notification.delivered",
                                     "notification", str(queued.notification_id),
                                     {"status": "pending", "channels": None},
                                     {"status": "delivered", "channels": channels}, now)
