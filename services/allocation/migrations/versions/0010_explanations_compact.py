"""Explanations stored compact (issue 18): a draw stores each offer's cutoffs once, with its run, and each
application's explanation without them (`domain/stored_explanations.py`); the explanation is rendered on read.
The cutoffs repeated in 100,000 explanations were most of a large draw's 120 MB of explanations. Explanations
stored before (whole, with their cutoffs) read as they are: nothing to migrate.

Revision ID: allocation_0010
Revises: allocation_0009
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "allocation_0010"
down_revision = "allocation_0009"
branch_labels = None
depends_on = None

SCHEMA = "allocation"


def upgrade() -> None:
    op.add_column("allocation_runs", sa.Column("cutoffs", postgresql.JSONB), schema=SCHEMA)


def downgrade() -> None:
    # Compact explanations cannot be read without their run's cutoffs: render them whole before going down.
    op.drop_column("allocation_runs", "cutoffs", schema=SCHEMA)
