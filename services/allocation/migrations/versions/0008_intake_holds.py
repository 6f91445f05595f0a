"""What intake told the family of a first-come application (issue 19): the hold (`held` at an offer, or
`waitlisted`), kept with the application, so that a first-come decision confirms it whatever order the ledger's
writers announce the applications in.

Revision ID: allocation_0008
Revises: allocation_0007
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "allocation_0008"
down_revision = "allocation_0007"
branch_labels = None
depends_on = None

SCHEMA = "allocation"


def upgrade() -> None:
    # Nullable: applications stored before it carry no hold and keep the arrival-order rule.
    op.add_column("applications", sa.Column("intake_hold", JSONB, nullable=True), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("applications", "intake_hold", schema=SCHEMA)
