"""Tables of the campaigns service, in its own PostgreSQL schema.

Instants are timestamptz (UTC), money integer cents. A campaign's status is never stored: it is
derived from its instants and the clock (domain.status_at).
"""
from sqlalchemy import (
    ARRAY,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
    true,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.audit import AuditTables, audit_head_table, audit_table
from shared.db import service_metadata
from shared.outbox import inbox_table, outbox_table

SCHEMA = "campaigns"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

campaigns = Table(
    "campaigns", metadata,
    Column("id", Uuid(as_uuid=False), primary_key=True),
    # Increases by one with every committed change: the ETag, and the optimistic-concurrency check.
    Column("version", Integer, nullable=False),
    Column("title", Text, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("description", Text, nullable=False),
    Column("opens_at", DateTime(timezone=True), nullable=False),
    Column("closes_at", DateTime(timezone=True), nullable=False),
    Column("reference_date", Date, nullable=False),
    Column("max_choices", SmallInteger, nullable=False),
    Column("policy", JSONB, nullable=False),
    Column("published_at", DateTime(timezone=True)),
    Column("closed_early_at", DateTime(timezone=True)),
    Column("allocated_at", DateTime(timezone=True)),
    Column("archived_at", DateTime(timezone=True)),
    Column("cloned_from_id", Uuid(as_uuid=False), ForeignKey("campaigns.campaigns.id", ondelete="SET NULL")),
    # Lifecycle terms (campaigns_0004): waitlist promotion's end, and how a confirmed place is given up.
    Column("waitlist_closes_at", DateTime(timezone=True)),
    Column("free_withdrawal_until", DateTime(timezone=True)),
    Column("late_withdrawal_fee_cents", Integer),
    # Four eyes on publishing a draw (campaigns_0007).
    Column("publication_needs_second_manager", Boolean, nullable=False, server_default=true()),
    # The waiting room (domain/waiting_room.py; migration 0005): null = on for first-come campaigns only.
    Column("waiting_room", Boolean),
    Column("waiting_room_opens_before_minutes", Integer, nullable=False, server_default="30"),
    Column("waiting_room_admissions_per_minute", Integer, nullable=False, server_default="1200"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("closes_at > opens_at", name="window"),
    CheckConstraint("late_withdrawal_fee_cents >= 0", name="late_withdrawal_fee_not_negative"),
    # The public listing and the scheduler only look at published campaigns not yet archived.
    Index("ix_campaigns_published_closes_at", "closes_at",
          postgresql_where=text("published_at IS NOT NULL AND archived_at IS NULL")),
)

offers = Table(
    "offers", metadata,
    Column("id", Uuid(as_uuid=False), primary_key=True),
    Column("campaign_id", Uuid(as_uuid=False), ForeignKey("campaigns.campaigns.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("position", SmallInteger, nullable=False),
    Column("title", Text, nullable=False),
    Column("site", Text, nullable=False),
    Column("arrondissement", SmallInteger, nullable=False),
    Column("starts_on", Date, nullable=False),
    Column("ends_on", Date, nullable=False),
    Column("min_age", SmallInteger, nullable=False),
    Column("max_age", SmallInteger, nullable=False),
    Column("capacity", Integer, nullable=False),
    Column("waitlist_limit", Integer),
    Column("tariffs_cents", ARRAY(Integer), nullable=False),
    # Places already offered or accepted, from allocation's `offer.places_given` (the revision last
    # applied beside it); manager writes never touch it, and refuse a capacity below it. It can still
    # exceed the capacity for a while when a capacity was lowered while allocation gave places.
    Column("places_given", Integer, nullable=False, server_default="0"),
    Column("places_given_revision", Integer, nullable=False, server_default="0"),
    CheckConstraint("places_given >= 0", name="places_given_not_negative"),
    CheckConstraint("cardinality(tariffs_cents) = 10", name="ten_tranches"),
)

# One row per window instant announced: the unique key is what makes `campaign.opened` and
# `campaign.closed` exactly-once across scheduler restarts and concurrent schedulers.
emitted_transitions = Table(
    "emitted_transitions", metadata,
    Column("transition_key", String(200), primary_key=True),
    Column("campaign_id", Uuid(as_uuid=False), ForeignKey("campaigns.campaigns.id", ondelete="CASCADE"),
           nullable=False, index=True),
    Column("kind", String(16), nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("event_id", String(64), nullable=False),
    Column("emitted_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# The audit trail (shared/audit.py; migration 0006): one chain per campaign, `campaign:<id>`, append-only.
audit = AuditTables(audit_table(metadata), audit_head_table(metadata))
