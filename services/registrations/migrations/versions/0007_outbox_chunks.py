"""The outbox holds one event or a chunk of events per row (`shared/outbox.py`, docs/PERFORMANCE.md "outbox chunks").
This service writes one event per row as before (a chunk of one would be no cheaper); its outbox has the
same columns as every service's, which `shared/outbox.py`'s table and relay expect.

A branch of its own from the outbox's creation (registrations_0001), as the other migrations here branch.

Revision ID: registrations_0007_outbox_chunks
Revises: registrations_0001
"""
from alembic import op

from shared.migrations import add_outbox_chunks, remove_outbox_chunks

revision = "registrations_0007_outbox_chunks"
down_revision = "registrations_0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_chunks(op, "registrations")


def downgrade() -> None:
    remove_outbox_chunks(op, "registrations")
