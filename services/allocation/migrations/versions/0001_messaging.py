"""Outbox and inbox of the allocation service.

Revision ID: allocation_0001
Revises:
"""
from alembic import op

from shared.migrations import create_messaging_tables

revision = "allocation_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op, "allocation")


def downgrade() -> None:
    op.drop_table("processed_events", schema="allocation")
    op.drop_table("outbox", schema="allocation")
