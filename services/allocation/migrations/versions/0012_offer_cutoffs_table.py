"""A draw's cutoffs per offer in a table of their own (issue 18), rather than one `allocation_runs.cutoffs` jsonb
(allocation_0010): an explanation reads the cutoffs of the one to three offers it was not admitted at, and each
key read from the jsonb of a 1,000-offer draw (about 120 kB stored, compressed) decompressed the whole value
again, 1.5 ms or more per key; the table's rows are read by their key. The column held nothing yet: it was
added and replaced on the same day, before any release.

Revision ID: allocation_0012
Revises: allocation_0011
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "allocation_0012"
down_revision = "allocation_0011"
branch_labels = None
depends_on = None

SCHEMA = "allocation"


def upgrade() -> None:
    op.create_table(
        "offer_cutoffs",
        sa.Column("run_id", sa.Uuid, primary_key=True),
        sa.Column("offer_id", sa.Uuid, primary_key=True),
        sa.Column("cutoffs", sa.JSON, nullable=False),
        schema=SCHEMA,
    )
    op.drop_column("allocation_runs", "cutoffs", schema=SCHEMA)


def downgrade() -> None:
    op.add_column("allocation_runs", sa.Column("cutoffs", postgresql.JSONB), schema=SCHEMA)
    op.drop_table("offer_cutoffs", schema=SCHEMA)
