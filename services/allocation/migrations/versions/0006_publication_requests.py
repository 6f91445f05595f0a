"""Four eyes on a draw's publication (issue 16): the request a manager files and another approves.

Revision ID: allocation_0006
Revises: allocation_0005
"""
import sqlalchemy as sa
from alembic import op

revision = "allocation_0006"
down_revision = "allocation_0005"
branch_labels = None
depends_on = None

SCHEMA = "allocation"


def upgrade() -> None:
    op.create_table(
        "publication_requests",
        sa.Column("campaign_id", sa.Uuid, primary_key=True),
        sa.Column("requested_by", sa.Text, nullable=False),
        sa.Column("requested_role", sa.String(40), nullable=False),
        sa.Column("requested_by_name", sa.Text),
        sa.Column("requested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.Text),
        sa.Column("approved_at", sa.DateTime(timezone=True)),
        sa.Column("run_id", sa.Uuid),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("publication_requests", schema=SCHEMA)
