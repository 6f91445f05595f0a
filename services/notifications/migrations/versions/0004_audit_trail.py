"""The notifications audit trail (shared/audit.py, docs/audit.md): what managers did to a family's notifications
and letters, one chain per family, `family:<account>`.

Revision ID: notifications_0004
Revises: notifications_0003
"""
from alembic import op

from shared.audit import create_audit_trail, drop_audit_trail_sql

revision = "notifications_0004"
down_revision = "notifications_0003"
branch_labels = None
depends_on = None

SCHEMA = "notifications"


def upgrade() -> None:
    create_audit_trail(op.get_bind(), SCHEMA)


def downgrade() -> None:
    for statement in drop_audit_trail_sql(SCHEMA):
        op.execute(statement)
