"""The audit trail (issue 16): append-only entries chained by hash, one chain per campaign (its draws), and each chain's
head (locked by its writers so the chain never forks).

Revision ID: allocation_0005
Revises: allocation_0004
"""
from alembic import op

from shared.audit import create_audit_trail, drop_audit_trail_sql

revision = "allocation_0005"
down_revision = "allocation_0004"
branch_labels = None
depends_on = None

SCHEMA = "allocation"


def upgrade() -> None:
    # The tables as shared/audit.py declares them (the service's store/tables.py declares the same) and the trigger.
    create_audit_trail(op.get_bind(), SCHEMA)


def downgrade() -> None:
    for statement in drop_audit_trail_sql(SCHEMA):
        op.execute(statement)
