"""A campaign's lifecycle terms (issue 18): when its waitlists stop promoting, and how a confirmed
place is given up (free until a date, then a fee or no credit).

Revision ID: campaigns_0004
Revises: campaigns_0003
"""
import sqlalchemy as sa
from alembic import op

revision = "campaigns_0004"
down_revision = "campaigns_0003"
branch_labels = None
depends_on = None

SCHEMA = "campaigns"


def upgrade() -> None:
    instant = sa.DateTime(timezone=True)
    op.add_column("campaigns", sa.Column("waitlist_closes_at", instant), schema=SCHEMA)
    op.add_column("campaigns", sa.Column("free_withdrawal_until", instant), schema=SCHEMA)
    op.add_column("campaigns", sa.Column("late_withdrawal_fee_cents", sa.Integer), schema=SCHEMA)
    op.create_check_constraint("late_withdrawal_fee_not_negative", "campaigns", "late_withdrawal_fee_cents >= 0",
                               schema=SCHEMA)


def downgrade() -> None:
    op.drop_constraint("late_withdrawal_fee_not_negative", "campaigns", schema=SCHEMA, type_="check")
    for column in ("late_withdrawal_fee_cents", "free_withdrawal_until", "waitlist_closes_at"):
        op.drop_column("campaigns", column, schema=SCHEMA)
