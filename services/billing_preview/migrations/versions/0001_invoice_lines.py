"""The invoice lines the billing preview received.

Revision ID: billing_preview_0001
Revises:
"""
import sqlalchemy as sa
from alembic import op

revision = "billing_preview_0001"
down_revision = None
branch_labels = None
depends_on = None

SCHEMA = "billing_preview"


def upgrade() -> None:
    op.create_table(
        "invoice_lines",
        sa.Column("line_id", sa.String(200), primary_key=True),
        sa.Column("position", sa.BigInteger, sa.Identity(always=True), nullable=False),
        sa.Column("event_id", sa.String(64), nullable=False),
        sa.Column("family_account", sa.String(255), nullable=False),
        sa.Column("reverses_line_id", sa.String(200)),
        sa.Column("child_name", sa.Text, nullable=False),
        sa.Column("campaign_title", sa.Text, nullable=False),
        sa.Column("offer_title", sa.Text, nullable=False),
        sa.Column("period_start", sa.Date, nullable=False),
        sa.Column("period_end", sa.Date, nullable=False),
        sa.Column("quotient_tranche", sa.Integer, nullable=False),
        sa.Column("unit_price_cents", sa.Integer, nullable=False),
        sa.Column("quantity", sa.Integer, nullable=False),
        sa.Column("currency", sa.String(3), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.UniqueConstraint("position", name="uq_invoice_lines_position"),
        schema=SCHEMA,
    )
    op.create_index("ix_invoice_lines_family", "invoice_lines", ["family_account", "period_start"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("invoice_lines", schema=SCHEMA)
