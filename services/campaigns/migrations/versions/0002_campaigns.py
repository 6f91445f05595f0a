"""Campaigns, their offers, and the window transitions the scheduler has announced.

Revision ID: campaigns_0002
Revises: campaigns_0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "campaigns_0002"
down_revision = "campaigns_0001"
branch_labels = None
depends_on = None

SCHEMA = "campaigns"


def upgrade() -> None:
    instant = sa.DateTime(timezone=True)
    op.create_table(
        "campaigns",
        sa.Column("id", sa.Uuid(as_uuid=False), primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("kind", sa.String(40), nullable=False),
        sa.Column("description", sa.Text, nullable=False),
        sa.Column("opens_at", instant, nullable=False),
        sa.Column("closes_at", instant, nullable=False),
        sa.Column("reference_date", sa.Date, nullable=False),
        sa.Column("max_choices", sa.SmallInteger, nullable=False),
        sa.Column("policy", JSONB, nullable=False),
        sa.Column("published_at", instant),
        sa.Column("closed_early_at", instant),
        sa.Column("allocated_at", instant),
        sa.Column("archived_at", instant),
        sa.Column("cloned_from_id", sa.Uuid(as_uuid=False),
                  sa.ForeignKey(f"{SCHEMA}.campaigns.id", ondelete="SET NULL")),
        sa.Column("created_at", instant, nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", instant, nullable=False, server_default=sa.func.now()),
        sa.CheckConstraint("closes_at > opens_at", name="window"),
        schema=SCHEMA,
    )
    op.create_index("ix_campaigns_published_closes_at", "campaigns", ["closes_at"], schema=SCHEMA,
                    postgresql_where=sa.text("published_at IS NOT NULL AND archived_at IS NULL"))
    op.create_table(
        "offers",
        sa.Column("id", sa.Uuid(as_uuid=False), primary_key=True),
        sa.Column("campaign_id", sa.Uuid(as_uuid=False), sa.ForeignKey(f"{SCHEMA}.campaigns.id", ondelete="CASCADE"),
                  nullable=False, index=True),
        sa.Column("position", sa.SmallInteger, nullable=False),
        sa.Column("title", sa.Text, nullable=False),
        sa.Column("site", sa.Text, nullable=False),
        sa.Column("arrondissement", sa.SmallInteger, nullable=False),
        sa.Column("starts_on", sa.Date, nullable=False),
        sa.Column("ends_on", sa.Date, nullable=False),
        sa.Column("min_age", sa.SmallInteger, nullable=False),
        sa.Column("max_age", sa.SmallInteger, nullable=False),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("waitlist_limit", sa.Integer),
        sa.Column("tariffs_cents", sa.ARRAY(sa.Integer), nullable=False),
        sa.Column("places_given", sa.Integer, nullable=False, server_default="0"),
        sa.CheckConstraint("places_given >= 0 AND capacity >= places_given", name="capacity_covers_places_given"),
        sa.CheckConstraint("cardinality(tariffs_cents) = 10", name="ten_tranches"),
        schema=SCHEMA,
    )
    op.create_table(
        "emitted_transitions",
        sa.Column("transition_key", sa.String(200), primary_key=True),
        sa.Column("campaign_id", sa.Uuid(as_uuid=False),
                  sa.ForeignKey(f"{SCHEMA}.campaigns.id", ondelete="CASCADE"), nullable=False, index=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", instant, nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("emitted_at", instant, nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("emitted_transitions", schema=SCHEMA)
    op.drop_table("offers", schema=SCHEMA)
    op.drop_table("campaigns", schema=SCHEMA)
