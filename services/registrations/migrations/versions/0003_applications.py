"""The application ledger, its transitions, and the campaign terms intake checks against.

Revision ID: registrations_0003_applications
Revises: registrations_0001
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "registrations_0003_applications"
down_revision = "registrations_0001"
branch_labels = None
depends_on = None

SCHEMA = "registrations"
ACTIVE = "status IN ('received', 'allocated', 'waitlisted', 'confirmed')"


def upgrade() -> None:
    op.create_table(
        "applications",
        sa.Column("application_id", sa.Uuid, primary_key=True),
        sa.Column("campaign_id", sa.Uuid, nullable=False),
        sa.Column("child_id", sa.Uuid, nullable=False),
        sa.Column("family_account", sa.String(255), nullable=False),
        sa.Column("choices", sa.ARRAY(sa.Uuid), nullable=False),
        sa.Column("keep_with_applications", sa.ARRAY(sa.Uuid), nullable=False),
        sa.Column("sworn_statement", sa.Boolean, nullable=False),
        sa.Column("child", JSONB, nullable=False),
        sa.Column("household", JSONB, nullable=False),
        sa.Column("hold", JSONB, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("placed_offer_id", sa.Uuid),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True)),
        sa.Column("decision", JSONB),
        sa.Column("submitted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("intake_partition", sa.Integer, nullable=False),
        sa.Column("arrival_position", sa.BigInteger, nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("uq_applications_active_child", "applications", ["campaign_id", "child_id"], unique=True,
                    schema=SCHEMA, postgresql_where=sa.text(ACTIVE))
    op.create_index("ix_applications_family", "applications", ["family_account"], schema=SCHEMA)
    op.create_index("ix_applications_arrival", "applications", ["campaign_id", "intake_partition", "arrival_position"],
                    schema=SCHEMA)
    op.create_table(
        "application_transitions",
        sa.Column("transition_id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("application_id", sa.Uuid, sa.ForeignKey(f"{SCHEMA}.applications.application_id"), nullable=False),
        sa.Column("from_status", sa.String(20)),
        sa.Column("to_status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )
    op.create_index("ix_application_transitions_application", "application_transitions", ["application_id"],
                    schema=SCHEMA)
    op.create_table(
        "campaign_terms",
        sa.Column("campaign_id", sa.Uuid, primary_key=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("snapshot", JSONB, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("campaign_terms", schema=SCHEMA)
    op.drop_table("application_transitions", schema=SCHEMA)
    op.drop_table("applications", schema=SCHEMA)
