"""A campaign's waiting room (issue 15): on, off or the default (null: on for first-come campaigns), how long
before the opening its pre-queue opens, and the most families it admits per minute.

Revision ID: campaigns_0005
Revises: campaigns_0004
"""
import sqlalchemy as sa
from alembic import op

revision = "campaigns_0005"
down_revision = "campaigns_0004"
branch_labels = None
depends_on = None

SCHEMA = "campaigns"


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("waiting_room", sa.Boolean), schema=SCHEMA)
    op.add_column("campaigns", sa.Column("waiting_room_opens_before_minutes", sa.Integer, nullable=False,
                                         server_default="30"), schema=SCHEMA)
    op.add_column("campaigns", sa.Column("waiting_room_admissions_per_minute", sa.Integer, nullable=False,
                                         server_default="1200"), schema=SCHEMA)


def downgrade() -> None:
    for column in ("waiting_room_admissions_per_minute", "waiting_room_opens_before_minutes", "waiting_room"):
        op.drop_column("campaigns", column, schema=SCHEMA)
