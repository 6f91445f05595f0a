"""Validated facts (issue 16): the quotient tranches agents validated, and the billing line each confirmed
registration stands on, so that a validated tranche reprices the lines from its effective month.

Revision ID: allocation_0007
Revises: allocation_0006
"""
import sqlalchemy as sa
from alembic import op

revision = "allocation_0007"
down_revision = "allocation_0006"
branch_labels = None
depends_on = None

SCHEMA = "allocation"


def upgrade() -> None:
    op.create_table(
        "validated_tranches",
        sa.Column("family_account", sa.String(255), primary_key=True),
        sa.Column("document_id", sa.Uuid, primary_key=True),
        sa.Column("quotient_tranche", sa.Integer, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )
    op.create_table(
        "billing_lines",
        sa.Column("application_id", sa.Uuid, primary_key=True),
        sa.Column("line_number", sa.Integer, nullable=False),
        sa.Column("quotient_tranche", sa.Integer, nullable=False),
        sa.Column("unit_price_cents", sa.Integer, nullable=False),
        sa.Column("billed_at", sa.DateTime(timezone=True), nullable=False),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("billing_lines", schema=SCHEMA)
    op.drop_table("validated_tranches", schema=SCHEMA)
