"""When registrations announced that intake had drained past a campaign's close (issue 18): the draw
starts then.

Revision ID: allocation_0004
Revises: allocation_0003
"""
import sqlalchemy as sa
from alembic import op

revision = "allocation_0004"
down_revision = "allocation_0003"
branch_labels = None
depends_on = None

SCHEMA = "allocation"


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("intake_drained_at", sa.DateTime(timezone=True)), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("campaigns", "intake_drained_at", schema=SCHEMA)
