"""Tables of the notifications service, in its own PostgreSQL schema.

A notification is one thing to tell one family (an event's consequence, a reminder); it is
delivered once per channel: `deliveries` holds at most one row per (notification, channel), and
each event-caused notification exists once per event (`dedup_key`), so redelivered events and
repeated delivery attempts never send twice.
"""
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.audit import AuditTables, audit_head_table, audit_table
from shared.db import service_metadata
from shared.outbox import inbox_table, outbox_table

SCHEMA = "notifications"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)
# What managers did to a family's notifications and letters (docs/audit.md): one chain per family.
audit = AuditTables(audit_table(metadata), audit_head_table(metadata))

CHANNELS = ("inbox", "email", "letter")
NOTIFICATION_STATUSES = ("pending", "delivered", "failed")

# The latest `campaign.*` snapshot of each campaign: titles and offers that messages name.
campaigns = Table(
    "campaigns", metadata,
    Column("campaign_id", Uuid, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("snapshot", JSONB, nullable=False),
    Column("opened_at", DateTime(timezone=True)),
    # From `campaign.closed`: at `closes_at`, or earlier when a manager closed it. No closing reminder after it.
    Column("closed_at", DateTime(timezone=True)),
)

# The child each application is for, from `application.received`: decisions name only ids.
applications = Table(
    "applications", metadata,
    Column("application_id", Uuid, primary_key=True),
    Column("campaign_id", Uuid, nullable=False),
    Column("family_account", String(255), nullable=False),
    Column("child_first_name", Text, nullable=False),
    Column("child_last_name", Text, nullable=False),
)

# Offered places awaiting the parent's answer; a row leaves when the offer is answered, expires
# or the application is withdrawn. `remind_at` is null when the offer came too late for a reminder.
open_offers = Table(
    "open_offers", metadata,
    Column("application_id", Uuid, primary_key=True),
    Column("family_account", String(255), nullable=False),
    Column("campaign_id", Uuid, nullable=False),
    Column("offer_id", Uuid, nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("remind_at", DateTime(timezone=True)),
    Column("reminded", Boolean, nullable=False, server_default=text("false")),
    Index("ix_open_offers_due", "remind_at", postgresql_where=text("NOT reminded AND remind_at IS NOT NULL")),
)

# Applications whose offer was answered, expired or withdrawn. An application is offered a place at
# most once, and the answer travels on another topic than the offer, so it can be read first: the
# offer read after it must not open a reminder.
closed_offers = Table(
    "closed_offers", metadata,
    Column("application_id", Uuid, primary_key=True),
)

# Parents who asked to be told when a campaign opens.
subscriptions = Table(
    "subscriptions", metadata,
    Column("family_account", String(255), primary_key=True),
    Column("campaign_id", Uuid, primary_key=True),
    Column("subscribed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_subscriptions_campaign", "campaign_id"),
)

# Parents who asked to be reminded 24 h before a campaign closes. `reminded_for` is the close they were
# reminded of: a close extended after the reminder is reminded again, a redelivered one never.
closing_reminders = Table(
    "closing_reminders", metadata,
    Column("family_account", String(255), primary_key=True),
    Column("campaign_id", Uuid, primary_key=True),
    Column("subscribed_at", DateTime(timezone=True), nullable=False),
    Column("reminded_for", DateTime(timezone=True)),
    Index("ix_closing_reminders_campaign", "campaign_id"),
)

notifications = Table(
    "notifications", metadata,
    Column("notification_id", Uuid, primary_key=True),
    # Queue order: a family's messages go out, and are listed, in the order their causes arrived.
    Column("position", BigInteger, Identity(always=True), nullable=False, unique=True),
    # The event id, or what makes a reminder or a subscriber's message unique: one notification each.
    Column("dedup_key", String(300), nullable=False, unique=True),
    Column("family_account", String(255), nullable=False),
    Column("kind", String(40), nullable=False),
    Column("data", JSONB, nullable=False),
    Column("cause_event_id", String(64)),
    Column("status", String(12), nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    CheckConstraint(f"status IN {NOTIFICATION_STATUSES}", name="status"),
    Index("ix_notifications_due", "position", postgresql_where=text("status = 'pending'")),
    Index("ix_notifications_failed", "updated_at", postgresql_where=text("status = 'failed'")),
)

deliveries = Table(
    "deliveries", metadata,
    Column("delivery_id", Uuid, primary_key=True),
    Column("notification_id", Uuid, ForeignKey("notifications.notifications.notification_id"), nullable=False),
    Column("channel", String(10), nullable=False),
    Column("family_account", String(255), nullable=False),
    Column("language", String(2), nullable=False),
    Column("subject", Text, nullable=False),
    Column("body", Text, nullable=False),
    Column("link", Text),
    # The address an email went (or goes) to; null for the inbox and letters.
    Column("recipient", Text),
    Column("created_at", DateTime(timezone=True), nullable=False),
    # Email: when the SMTP server accepted it. Inbox and letters: null.
    Column("sent_at", DateTime(timezone=True)),
    Column("read_at", DateTime(timezone=True)),
    Column("printed_at", DateTime(timezone=True)),
    UniqueConstraint("notification_id", "channel", name="uq_deliveries_notification_channel"),
    CheckConstraint(f"channel IN {CHANNELS}", name="channel"),
    Index("ix_deliveries_family_inbox", "family_account", "created_at", postgresql_where=text("channel = 'inbox'")),
    Index("ix_deliveries_letters_to_print", "created_at",
          postgresql_where=text("channel = 'letter' AND printed_at IS NULL")),
)
