"""Households and their children (children are soft-deleted: the ledger names them by id).

Revision ID: registrations_0002_households
Revises: registrations_0001
"""
import sqlalchemy as sa
from alembic import op

revision = "registrations_0002_households"
down_revision = "registrations_0001"
branch_labels = None
depends_on = None

SCHEMA = "registrations"


def upgrade() -> None:
    instant = sa.DateTime(timezone=True)
    op.create_table(
        "households",
        sa.Column("family_account", sa.Text, primary_key=True),
        sa.Column("single_parent", sa.Boolean, nullable=False),
        sa.Column("quotient_tranche", sa.SmallInteger),
        sa.Column("quotient_justified_on", sa.Date),
        sa.Column("arrondissement", sa.SmallInteger),
        sa.Column("postal_mail", sa.Boolean, nullable=False),
        sa.Column("email", sa.Text),
        sa.Column("language", sa.String(2), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("updated_at", instant, nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_table(
        "children",
        sa.Column("child_id", sa.Uuid, primary_key=True),
        sa.Column("family_account", sa.Text, sa.ForeignKey(f"{SCHEMA}.households.family_account"), nullable=False),
        sa.Column("first_name", sa.Text, nullable=False),
        sa.Column("last_name", sa.Text, nullable=False),
        sa.Column("birth_date", sa.Date, nullable=False),
        sa.Column("school", sa.Text),
        sa.Column("school_arrondissement", sa.SmallInteger),
        sa.Column("disability_allowance", sa.Boolean, nullable=False),
        sa.Column("added_at", instant, nullable=False, server_default=sa.func.now()),
        sa.Column("removed_at", instant),
        schema=SCHEMA,
    )
    op.create_index("ix_children_present", "children", ["family_account"], schema=SCHEMA,
                    postgresql_where=sa.text("removed_at IS NULL"))


def downgrade() -> None:
    op.drop_table("children", schema=SCHEMA)
    op.drop_table("households", schema=SCHEMA)
