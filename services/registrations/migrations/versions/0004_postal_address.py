"""A household's postal address, where its paper letters go.

Revision ID: registrations_0004_address
Revises: registrations_0002_households
"""
import sqlalchemy as sa
from alembic import op

revision = "registrations_0004_address"
down_revision = "registrations_0002_households"
branch_labels = None
depends_on = None

SCHEMA = "registrations"


def upgrade() -> None:
    op.add_column("households", sa.Column("postal_address", sa.JSON), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("households", "postal_address", schema=SCHEMA)
