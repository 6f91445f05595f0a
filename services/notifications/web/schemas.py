"""What the notifications API reads and answers (marshmallow): inbox messages, subscriptions, failures, letters."""
from __future__ import annotations

import marshmallow as ma

from services.notifications.domain.messages import CONTEXTS
from services.notifications.store.tables import CHANNELS
from shared.contracts.fields import described

KINDS = ", ".join(sorted(CONTEXTS))


class InboxQuerySchema(ma.Schema):
    unread = described(ma.fields.Boolean, "only the messages not read yet", load_default=False)


class InboxMessageSchema(ma.Schema):
    message_id = described(ma.fields.UUID, "id of the message")
    kind = described(ma.fields.String, f"what it is about: {KINDS}")
    language = described(ma.fields.String, "language it is written in (fr, en)")
    subject = described(ma.fields.String, "subject line")
    body = described(ma.fields.String, "the message, plain text")
    link = described(ma.fields.String, "where to read why a decision was made, when it is about one",
                     allow_none=True)
    created_at = described(ma.fields.AwareDateTime, "when it was delivered (UTC)")
    read_at = described(ma.fields.AwareDateTime, "when it was marked read (UTC); null while unread",
                        allow_none=True)


class SubscriptionSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign whose opening you will be told of")
    campaign_title = described(ma.fields.String, "its title")
    opens_at = described(ma.fields.AwareDateTime, "when applications open (UTC)")
    subscribed_at = described(ma.fields.AwareDateTime, "when you subscribed (UTC)")


class ClosingReminderSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign you will be reminded of 24 h before it closes")
    campaign_title = described(ma.fields.String, "its title")
    closes_at = described(ma.fields.AwareDateTime, "when applications close (UTC), as the campaign says now")
    subscribed_at = described(ma.fields.AwareDateTime, "when you asked (UTC)")
    reminded_for = described(ma.fields.AwareDateTime, "the close you were reminded of (UTC); null until the "
                             "reminder is sent, and again reminded when the close is extended", allow_none=True)


class FailureSchema(ma.Schema):
    notification_id = described(ma.fields.UUID, "the notification given up on; retry it with POST …/retry")
    family_account = described(ma.fields.String, "family it was for")
    kind = described(ma.fields.String, f"what it was about: {KINDS}")
    cause_event_id = described(ma.fields.String, "the event that caused it (null for reminders)", allow_none=True)
    attempts = described(ma.fields.Integer, "attempts made")
    last_error = described(ma.fields.String, "what the last attempt failed on", allow_none=True)
    created_at = described(ma.fields.AwareDateTime, "when it was queued (UTC)")
    failed_at = described(ma.fields.AwareDateTime, "when the last attempt failed (UTC)")
    delivered_channels = ma.fields.List(ma.fields.String(validate=ma.validate.OneOf(CHANNELS)), metadata={
        "description": "channels that did get through (e.g. the inbox while the email failed)"})


class RetrySchema(ma.Schema):
    notification_id = described(ma.fields.UUID, "the notification, due again now")
    status = described(ma.fields.String, "pending: a fresh series of attempts starts")


class LetterSchema(ma.Schema):
    letter_id = described(ma.fields.UUID, "id of the letter")
    family_account = described(ma.fields.String, "family to write to")
    postal_address = described(ma.fields.String, "the envelope's lines (street, second line, postal code and "
                               "city), from the household when the letter was queued", allow_none=True)
    language = described(ma.fields.String, "language it is written in (fr, en)")
    subject = described(ma.fields.String, "subject line (Objet)")
    body = described(ma.fields.String, "the letter, plain text")
    created_at = described(ma.fields.AwareDateTime, "when it was queued (UTC)")
    printed_at = described(ma.fields.AwareDateTime, "when the mail room printed it (UTC); null while queued",
                           allow_none=True)


class LetterQuerySchema(ma.Schema):
    printed = described(ma.fields.Boolean, "false (default): letters still to print; true: printed ones",
                        load_default=False)
