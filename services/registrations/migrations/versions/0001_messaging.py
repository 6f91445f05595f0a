"""Outbox and inbox of the registrations service.

Revision ID: registrations_0001
Revises:
"""
from alembic import op

from shared.migrations import create_messaging_tables

revision = "registrations_0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_messaging_tables(op, "registrations")


def downgrade() -> None:
    op.drop_table("processed_events", schema="registrations")
    op.drop_table("outbox", schema="registrations")
