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

from shared.audit import append_only_trigger_sql, audit_head_table, audit_table
from shared.db import service_metadata

revision = "registrations_0005_agents"
down_revision = "registrations_0003_applications"
branch_labels = None
depends_on = None

SCHEMA = "registrations"


def upgrade() -> None:
    op.add_column("application_transitions", sa.Column("actor_subject", sa.Text), schema=SCHEMA)
    op.add_column("application_transitions", sa.Column("actor_role", sa.String(40)), schema=SCHEMA)
    # The tables as shared/audit.py declares them (the service's tables.py declares the same), created once here.
    audit_metadata = service_metadata(SCHEMA)
    for table in (audit_table(audit_metadata), audit_head_table(audit_metadata)):
        table.create(op.get_bind())
    for statement in append_only_trigger_sql(SCHEMA):
        op.execute(statement)


def downgrade() -> None:
    op.drop_table("audit_chain_heads", schema=SCHEMA)
    op.drop_table("audit_entries", schema=SCHEMA)
    op.execute(f"DROP FUNCTION IF EXISTS {SCHEMA}.audit_entries_append_only()")
    op.drop_column("application_transitions", "actor_role", schema=SCHEMA)
    op.drop_column("application_transitions", "actor_subject", schema=SCHEMA)
