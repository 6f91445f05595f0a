"""Agents act for families (issue 16, item 1): each ledger transition names who made it (the token's subject
and the role it acted in; null for the workers), and the registrations audit trail (shared/audit.py), one
chain per family, `family:<account>`.

It follows the applications branch (it changes the transitions table); the households branch (0002, 0004) stays
independent: the release's schema gate (deploy/kubernetes/release.py) waits for every head.

Revision ID: registrations_0005_agents
Revises: registrations_0003_applications
"""
import sqlalchemy as sa
from alembic import op

from shared.audit import create_audit_trail, drop_audit_trail_sql

revision = "registrations_0005_agents"
down_revision = "registrations_0003_applications"
branch_labels = None
depends_on = None

SCHEMA = "registrations"


def upgrade() -> None:
    op.add_column("application_transitions", sa.Column("actor_subject", sa.Text), schema=SCHEMA)
    op.add_column("application_transitions", sa.Column("actor_role", sa.String(40)), schema=SCHEMA)
    create_audit_trail(op.get_bind(), SCHEMA)


def downgrade() -> None:
    for statement in drop_audit_trail_sql(SCHEMA):
        op.execute(statement)
    op.drop_column("application_transitions", "actor_role", schema=SCHEMA)
    op.drop_column("application_transitions", "actor_subject", schema=SCHEMA)
