"""The outbox holds one event or a chunk of events per row (`shared/outbox.py`, docs/PERFORMANCE.md "outbox chunks").
A draw writes its 100,000 `allocation.decided` as chunks of 1,000 events: one row per event cost PostgreSQL
about 1.7 s in the draw's transaction and the relay a read and a marking per event.

Revision ID: allocation_0011
Revises: allocation_0010
"""
from alembic import op

from shared.migrations import add_outbox_chunks, remove_outbox_chunks

revision = "allocation_0011"
down_revision = "allocation_0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_chunks(op, "allocation")


def downgrade() -> None:
    remove_outbox_chunks(op, "allocation")
