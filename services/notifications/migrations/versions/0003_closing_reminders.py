"""Families who asked to be reminded before a campaign closes, and when a campaign closed (early closes
included).

Revision ID: notifications_0003
Revises: notifications_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "notifications_0003"
down_revision = "notifications_0002"
branch_labels = None
depends_on = None

SCHEMA = "notifications"
INSTANT = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("closed_at", INSTANT), schema=SCHEMA)
    op.create_table(
        "closing_reminders",
        sa.Column("family_account", sa.String(255), primary_key=True),
        sa.Column("campaign_id", sa.Uuid, primary_key=True),
        sa.Column("subscribed_at", INSTANT, nullable=False),
        sa.Column("reminded_for", INSTANT),
        schema=SCHEMA,
    )
    op.create_index("ix_closing_reminders_campaign", "closing_reminders", ["campaign_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("closing_reminders", schema=SCHEMA)
    op.drop_column("campaigns", "closed_at", schema=SCHEMA)
