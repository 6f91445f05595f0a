"""The outbox holds one event or a chunk of events per row (`shared/outbox.py`, docs/PERFORMANCE.md "outbox chunks").
This service writes one event per row as before (a chunk of one would be no cheaper); its outbox has the
same columns as every service's, which `shared/outbox.py`'s table and relay expect.

Revision ID: campaigns_0008
Revises: campaigns_0007
"""
from alembic import op

from shared.migrations import add_outbox_chunks, remove_outbox_chunks

revision = "campaigns_0008"
down_revision = "campaigns_0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    add_outbox_chunks(op, "campaigns")


def downgrade() -> None:
    remove_outbox_chunks(op, "campaigns")
