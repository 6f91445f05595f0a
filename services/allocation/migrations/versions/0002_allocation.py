"""Campaign and application copies, lottery seeds, allocation runs, decisions, places and waitlists.

Revision ID: allocation_0002
Revises: allocation_0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "allocation_0002"
down_revision = "allocation_0001"
branch_labels = None
depends_on = None

SCHEMA = "allocation"
LIVE_PLACE_STATES = "state IN ('offered', 'accepted')"


def upgrade() -> None:
    instant = sa.DateTime(timezone=True)
    op.create_table(
        "campaigns",
        sa.Column("campaign_id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("mode", sa.String(20), nullable=False),
        sa.Column("opens_at", instant, nullable=False),
        sa.Column("closes_at", instant, nullable=False),
        sa.Column("snapshot", JSONB, nullable=False),
        sa.Column("closed_at", instant),
        sa.Column("updated_at", instant, nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("ix_campaigns_kind_closes_at", "campaigns", ["kind", "closes_at"], schema=SCHEMA)
    op.create_table(
        "applications",
        sa.Column("application_id", sa.Uuid, primary_key=True),
        sa.Column("campaign_id", sa.Uuid, nullable=False),
        sa.Column("family_account", sa.String(255), nullable=False),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("child", JSONB, nullable=False),
        sa.Column("household", JSONB, nullable=False),
        sa.Column("choices", sa.ARRAY(sa.Uuid), nullable=False),
        sa.Column("keep_with_applications", sa.ARRAY(sa.Uuid), nullable=False),
        sa.Column("arrival_position", sa.BigInteger, nullable=False),
        sa.Column("arrival_rank", sa.Integer, nullable=False),
        sa.Column("submitted_at", instant, nullable=False),
        sa.Column("withdrawn_at", instant),
        sa.Column("recorded_at", instant, nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("ix_applications_campaign_arrival", "applications", ["campaign_id", "arrival_position"],
                    schema=SCHEMA)
    op.create_index("ix_applications_child", "applications", ["child_id"], schema=SCHEMA)
    op.create_index("ix_applications_family", "applications", ["family_account"], schema=SCHEMA)
    op.create_table(
        "lottery_seeds",
        sa.Column("campaign_id", sa.Uuid, primary_key=True),
        sa.Column("seed", sa.LargeBinary, nullable=False),
        sa.Column("commitment", sa.String(64), nullable=False),
        sa.Column("committed_at", instant, nullable=False),
        sa.Column("revealed_at", instant),
        schema=SCHEMA,
    )
    op.create_table(
        "allocation_runs",
        sa.Column("run_id", sa.Uuid, primary_key=True),
        sa.Column("campaign_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        sa.Column("seed_hex", sa.String(64)),
        sa.Column("statistics", JSONB),
        sa.Column("bundle", sa.JSON),
        sa.Column("created_at", instant, nullable=False),
        sa.CheckConstraint("kind IN ('dry_run', 'published')", name="kind"),
        schema=SCHEMA,
    )
    op.create_index("uq_allocation_runs_published", "allocation_runs", ["campaign_id"], unique=True, schema=SCHEMA,
                    postgresql_where=sa.text("kind = 'published'"))
    op.create_index("ix_allocation_runs_campaign_created", "allocation_runs", ["campaign_id", "created_at"],
                    schema=SCHEMA)
    op.create_table(
        "decisions",
        sa.Column("application_id", sa.Uuid, primary_key=True),
        sa.Column("run_id", sa.Uuid, nullable=False),
        sa.Column("campaign_id", sa.Uuid, nullable=False),
        sa.Column("outcome", sa.String(12), nullable=False),
        sa.Column("offer_id", sa.Uuid),
        sa.Column("waitlist", sa.JSON, nullable=False),
        sa.Column("reasons", sa.JSON, nullable=False),
        sa.Column("explanation", sa.JSON, nullable=False),
        sa.Column("decided_at", instant, nullable=False),
        sa.CheckConstraint("outcome IN ('allocated', 'waitlisted', 'rejected')", name="outcome"),
        schema=SCHEMA,
    )
    op.create_index("ix_decisions_campaign", "decisions", ["campaign_id"], schema=SCHEMA)
    op.create_table(
        "places",
        sa.Column("place_id", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("application_id", sa.Uuid, nullable=False),
        sa.Column("campaign_id", sa.Uuid, nullable=False),
        sa.Column("offer_id", sa.Uuid, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("tier", sa.Integer),
        sa.Column("offered_at", instant, nullable=False),
        sa.Column("expires_at", instant, nullable=False),
        sa.Column("settled_at", instant),
        sa.Column("freed_by_application_id", sa.Uuid),
        sa.CheckConstraint("state IN ('offered', 'accepted', 'declined', 'expired', 'withdrawn')", name="state"),
        schema=SCHEMA,
    )
    op.create_index("uq_places_live_application", "places", ["application_id"], unique=True, schema=SCHEMA,
                    postgresql_where=sa.text(LIVE_PLACE_STATES))
    op.create_index("ix_places_application", "places", ["application_id"], schema=SCHEMA)
    op.create_index("ix_places_offer_state", "places", ["offer_id", "state"], schema=SCHEMA)
    op.create_index("ix_places_offered_expires_at", "places", ["expires_at"], schema=SCHEMA,
                    postgresql_where=sa.text("state = 'offered'"))
    op.create_table(
        "waitlist_entries",
        sa.Column("offer_id", sa.Uuid, primary_key=True),
        sa.Column("application_id", sa.Uuid, primary_key=True),
        sa.Column("campaign_id", sa.Uuid, nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("group_key", sa.Uuid, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.CheckConstraint("state IN ('waiting', 'promoted', 'left')", name="state"),
        schema=SCHEMA,
    )
    op.create_index("uq_waitlist_entries_offer_position", "waitlist_entries", ["offer_id", "position"], unique=True,
                    schema=SCHEMA)
    op.create_index("ix_waitlist_entries_application", "waitlist_entries", ["application_id"], schema=SCHEMA)


def downgrade() -> None:
    for table in ("waitlist_entries", "places", "decisions", "allocation_runs", "lottery_seeds", "applications",
                  "campaigns"):
        op.drop_table(table, schema=SCHEMA)
