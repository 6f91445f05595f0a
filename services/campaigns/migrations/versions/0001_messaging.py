"""Outbox and inbox of the campaigns service.

Revision ID: campaigns_0001
Revises:
"""
from alembic import op

from shared.migrations import create_messaging_tables

revision = "campaigns_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op, "campaigns")


def downgrade() -> None:
    op.drop_table("processed_events", schema="campaigns")
    op.drop_table("outbox", schema="campaigns")
