"""Outbox and inbox of the notifications service.

Revision ID: notifications_0001
Revises:
"""
from alembic import op

from shared.migrations import create_messaging_tables

revision = "notifications_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op, "notifications")


def downgrade() -> None:
    op.drop_table("processed_events", schema="notifications")
    op.drop_table("outbox", schema="notifications")
