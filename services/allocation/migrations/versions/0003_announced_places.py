"""The count of given places last announced per offer (offer.places_given).

Revision ID: allocation_0003
Revises: allocation_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "allocation_0003"
down_revision = "allocation_0002"
branch_labels = None
depends_on = None

SCHEMA = "allocation"


def upgrade() -> None:
    op.create_table(
        "announced_places",
        sa.Column("offer_id", sa.Uuid, primary_key=True),
        sa.Column("campaign_id", sa.Uuid, nullable=False),
        sa.Column("places_given", sa.Integer, nullable=False),
        sa.Column("revision", sa.Integer, nullable=False),
        sa.Column("counted_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("announced_places", schema=SCHEMA)
