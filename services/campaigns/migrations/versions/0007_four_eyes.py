"""Four eyes on publishing a draw (issue 16): a campaign setting, on unless a manager turns it off.

Revision ID: campaigns_0007
Revises: campaigns_0006
"""
import sqlalchemy as sa
from alembic import op

revision = "campaigns_0007"
down_revision = "campaigns_0006"
branch_labels = None
depends_on = None

SCHEMA = "campaigns"


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("publication_needs_second_manager", sa.Boolean, nullable=False,
                                         server_default=sa.true()), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("campaigns", "publication_needs_second_manager", schema=SCHEMA)
