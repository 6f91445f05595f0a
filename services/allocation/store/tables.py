"""Tables of the allocation service, in its own PostgreSQL schema.

Every change to one campaign's places happens under that campaign's advisory lock
(store.repository.lock_campaign), so "seats left" is read and used in one turn; the unique constraints
below are what make each decision, place, run and billing line exist at most once even if a bug
or a redelivery tried twice.

A draw writes its decisions, places and waitlist entries by the hundred thousand in one transaction,
next to the applications and run it reads: they carry no foreign keys (a lookup per row), and the
documents only ever read whole are json, not jsonb (not parsed into a tree on the way in).
"""
from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Identity,
    Index,
    Integer,
    LargeBinary,
    PrimaryKeyConstraint,
    String,
    Table,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.audit import AuditTables, audit_head_table, audit_table
from shared.db import service_metadata
from shared.outbox import inbox_table, outbox_table

SCHEMA = "allocation"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

LIVE_PLACE_STATES_SQL = "state IN ('offered', 'accepted')"

# The latest `campaign.*` snapshot of each campaign (by version), with its window instants as columns
# for the draw scheduler and the family-history queries.
campaigns = Table(
    "campaigns", metadata,
    Column("campaign_id", Uuid, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("kind", String(40), nullable=False),
    Column("mode", String(20), nullable=False),
    Column("opens_at", DateTime(timezone=True), nullable=False),
    Column("closes_at", DateTime(timezone=True), nullable=False),
    Column("snapshot", JSONB, nullable=False),
    Column("closed_at", DateTime(timezone=True)),  # from campaign.closed: the window is over
    # From registrations' application.intake_closed: every application acknowledged before the close is here.
    Column("intake_drained_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_campaigns_kind_closes_at", "kind", "closes_at"),
)

# Applications as the ledger announced them (`application.received`), facts as at intake.
applications = Table(
    "applications", metadata,
    Column("application_id", Uuid, primary_key=True),
    Column("campaign_id", Uuid, nullable=False),
    Column("family_account", String(255), nullable=False),
    Column("child_id", Uuid, nullable=False),
    Column("child", JSONB, nullable=False),
    Column("household", JSONB, nullable=False),
    Column("choices", ARRAY(Uuid), nullable=False),
    Column("keep_with_applications", ARRAY(Uuid), nullable=False),
    Column("arrival_position", BigInteger, nullable=False),
    # 1 for the first application of the campaign received: what first-come explanations show.
    Column("arrival_rank", Integer, nullable=False),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("withdrawn_at", DateTime(timezone=True)),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # What intake told the family (`hold` of application.received): a first-come decision confirms it.
    Column("intake_hold", JSONB),
    Index("ix_applications_campaign_arrival", "campaign_id", "arrival_position"),
    Index("ix_applications_child", "child_id"),
    Index("ix_applications_family", "family_account"),
)

# The secret seed of a lottery campaign: drawn at the opening, only its SHA-256 published until the draw.
lottery_seeds = Table(
    "lottery_seeds", metadata,
    Column("campaign_id", Uuid, primary_key=True),
    Column("seed", LargeBinary, nullable=False),
    Column("commitment", String(64), nullable=False),
    Column("committed_at", DateTime(timezone=True), nullable=False),
    Column("revealed_at", DateTime(timezone=True)),
)

# A dry run (statistics only, drawn with a throwaway seed) or THE published allocation of a campaign.
allocation_runs = Table(
    "allocation_runs", metadata,
    Column("run_id", Uuid, primary_key=True),
    Column("campaign_id", Uuid, nullable=False),
    Column("kind", String(10), nullable=False),
    Column("seed_hex", String(64)),  # None under first-come
    Column("statistics", JSONB),  # None for a first-come campaign, decided application by application
    # The published draw bundle, kept in the very text it was published as; None for dry runs and
    # first-come campaigns. Stored uncompressed (STORAGE EXTERNAL, migration allocation_0009): compressing
    # 81 MB was 2 s of the server's CPU inside a 100,000-application draw.
    Column("bundle", JSON),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("kind IN ('dry_run', 'published')", name="kind"),
    Index("uq_allocation_runs_published", "campaign_id", unique=True, postgresql_where=text("kind = 'published'")),
    Index("ix_allocation_runs_campaign_created", "campaign_id", "created_at"),
)

# The cutoffs (who the last admitted were) that a published draw's explanations show at each offer, stored once
# per offer rather than in each explanation (issue 18, stored_explanations; migration allocation_0012): read a few
# at a time, by explanation.
offer_cutoffs = Table(
    "offer_cutoffs", metadata,
    Column("run_id", Uuid, primary_key=True),
    Column("offer_id", Uuid, primary_key=True),
    Column("cutoffs", JSON, nullable=False),  # [{"seats", "tier", "lottery_number", "arrival_rank"}]
)

# The published decision of each application: at most one, whatever redelivery or restart happens.
decisions = Table(
    "decisions", metadata,
    Column("application_id", Uuid, primary_key=True),
    Column("run_id", Uuid, nullable=False),
    Column("campaign_id", Uuid, nullable=False),
    Column("outcome", String(12), nullable=False),
    Column("offer_id", Uuid),
    Column("waitlist", JSON, nullable=False),  # [{"offer_id", "position"}], the child's order of preference
    Column("reasons", JSON, nullable=False),  # [{"code", "offer_id"}]
    # The explanation, stored compact by draws since allocation_0010/0012 (stored_explanations: read it rendered).
    Column("explanation", JSON, nullable=False),
    Column("decided_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("outcome IN ('allocated', 'waitlisted', 'rejected')", name="outcome"),
    Index("ix_decisions_campaign", "campaign_id"),
)

# A place offered to an application, and what became of it.
places = Table(
    "places", metadata,
    Column("place_id", BigInteger, Identity(always=True), primary_key=True),
    Column("application_id", Uuid, nullable=False),
    Column("campaign_id", Uuid, nullable=False),
    Column("offer_id", Uuid, nullable=False),
    Column("state", String(10), nullable=False),
    Column("tier", Integer),  # the application's priority tier at this offer, for acceptance per tier
    Column("offered_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("settled_at", DateTime(timezone=True)),  # when it was accepted, declined, expired or withdrawn
    Column("freed_by_application_id", Uuid),  # for a place given from the waitlist
    CheckConstraint("state IN ('offered', 'accepted', 'declined', 'expired', 'withdrawn')", name="state"),
    # One place at a time per application (a child has one application per campaign).
    Index("uq_places_live_application", "application_id", unique=True, postgresql_where=text(LIVE_PLACE_STATES_SQL)),
    Index("ix_places_application", "application_id"),
    Index("ix_places_offer_state", "offer_id", "state"),
    Index("ix_places_offered_expires_at", "expires_at", postgresql_where=text("state = 'offered'")),
)

# Each offer's waitlist. Positions never change once given; `group_key` (the first application of a
# sibling group kept together) makes siblings move up together.
# Two indexes (migration 0013): an offer's line in order, and the key led by the application (its waitlists).
waitlist_entries = Table(
    "waitlist_entries", metadata,
    Column("offer_id", Uuid, nullable=False),
    Column("application_id", Uuid, nullable=False),
    Column("campaign_id", Uuid, nullable=False),
    Column("position", Integer, nullable=False),
    Column("group_key", Uuid, nullable=False),
    Column("state", String(10), nullable=False),
    PrimaryKeyConstraint("application_id", "offer_id"),
    CheckConstraint("state IN ('waiting', 'promoted', 'left')", name="state"),
    Index("uq_waitlist_entries_offer_position", "offer_id", "position", unique=True),
)

# The count of given places last announced for each offer (`offer.places_given`), and its revision.
announced_places = Table(
    "announced_places", metadata,
    Column("offer_id", Uuid, primary_key=True),
    Column("campaign_id", Uuid, nullable=False),
    Column("places_given", Integer, nullable=False),
    Column("revision", Integer, nullable=False),
    Column("counted_at", DateTime(timezone=True), nullable=False),
)

# Quotient tranches a city agent validated (`household.fact_validated`, issue 16; migration 0007): what prices a
# family's lines from each one's effective month. One per validating document; deleted at the family's erasure.
validated_tranches = Table(
    "validated_tranches", metadata,
    Column("family_account", String(255), primary_key=True),
    Column("document_id", Uuid, primary_key=True),
    Column("quotient_tranche", Integer, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("validated_at", DateTime(timezone=True), nullable=False),
)

# The billing line a confirmed registration currently stands on (issue 16; migration 0007): line 1 is
# `reg-<application id>` from its confirmation, line n > 1 `reg-<application id>-<n>` from its n-1-th repricing
# (docs/billing-feed.md). A withdrawal reverses this line. Registrations confirmed before it have no row: line 1,
# priced from the household.
billing_lines = Table(
    "billing_lines", metadata,
    Column("application_id", Uuid, primary_key=True),
    Column("line_number", Integer, nullable=False),
    Column("quotient_tranche", Integer, nullable=False),
    Column("unit_price_cents", Integer, nullable=False),
    Column("billed_at", DateTime(timezone=True), nullable=False),
)

# The audit trail (shared/audit.py; migration 0005): one chain per campaign, `campaign:<id>`, append-only.
audit = AuditTables(audit_table(metadata), audit_head_table(metadata))
