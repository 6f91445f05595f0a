"""The audit trail (issue 16): append-only entries chained by hash, one chain per campaign (its draws), and each chain's
head (locked by its writers so the chain never forks).

Revision ID: allocation_0005
Revises: allocation_0004
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

from shared.audit import append_only_trigger_sql

revision = "allocation_0005"
down_revision = "allocation_0004"
branch_labels = None
depends_on = None

SCHEMA = "allocation"


def upgrade() -> None:
    op.create_table(
        "audit_entries",
        sa.Column("chain", sa.String(200), nullable=False),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_subject", sa.Text, nullable=False),
        sa.Column("actor_role", sa.String(40), nullable=False),
        sa.Column("on_behalf_of", sa.Text),
        sa.Column("action", sa.String(80), nullable=False),
        sa.Column("target_type", sa.String(40), nullable=False),
        sa.Column("target_id", sa.String(200), nullable=False),
        sa.Column("changes", JSONB, nullable=False),
        sa.Column("request_id", sa.String(128)),
        sa.Column("previous_hash", sa.String(64), nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("chain", "seq", name="pk_audit_entries"),
        schema=SCHEMA,
    )
    op.create_index("ix_audit_entries_chain_occurred_at", "audit_entries", ["chain", "occurred_at"], schema=SCHEMA)
    op.create_table(
        "audit_chain_heads",
        sa.Column("chain", sa.String(200), primary_key=True),
        sa.Column("seq", sa.BigInteger, nullable=False),
        sa.Column("hash", sa.String(64), nullable=False),
        sa.PrimaryKeyConstraint("chain", name="pk_audit_chain_heads"),
        schema=SCHEMA,
    )
    for statement in append_only_trigger_sql(SCHEMA):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("audit_chain_heads", schema=SCHEMA)
    op.drop_table("audit_entries", schema=SCHEMA)
    op.execute(f"DROP FUNCTION IF EXISTS {SCHEMA}.audit_entries_append_only()")
