"""The audit trail (issue 16): append-only entries chained by hash, one chain per campaign, and each chain's
head (locked by its writers so the chain never forks).

Revision ID: campaigns_0006
Revises: campaigns_0005
"""
from alembic import op

from shared.audit import create_audit_trail, drop_audit_trail_sql

revision = "campaigns_0006"
down_revision = "campaigns_0005"
branch_labels = None
depends_on = None

SCHEMA = "campaigns"


def upgrade() -> None:
    # The tables as shared/audit.py declares them (the service's store/tables.py declares the same) and the trigger.
    create_audit_trail(op.get_bind(), SCHEMA)


def downgrade() -> None:
    for statement in drop_audit_trail_sql(SCHEMA):
        op.execute(statement)
