"""Validated household facts (issue 16, item 4): the supporting documents families upload (their bytes in
PostgreSQL large objects) and the facts agents validated from them.

It follows the households branch (0002, 0004), whose tables it references; the applications branch (0003, 0005)
stays independent, as the release's schema gate expects (tests/unit/test_kubernetes_manifests.py).

Revision ID: registrations_0006_facts
Revises: registrations_0004_address
"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB, OID

revision = "registrations_0006_facts"
down_revision = "registrations_0004_address"
branch_labels = None
depends_on = None

SCHEMA = "registrations"


def upgrade() -> None:
    op.create_table(
        "documents",
        sa.Column("document_id", sa.Uuid, primary_key=True),
        sa.Column("family_account", sa.Text, sa.ForeignKey(f"{SCHEMA}.households.family_account"), nullable=False),
        sa.Column("fact", sa.String(40), nullable=False),
        sa.Column("child_id", sa.Uuid),
        sa.Column("media_type", sa.String(40), nullable=False),
        sa.Column("size_bytes", sa.Integer, nullable=False),
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("content_oid", OID, nullable=False),
        sa.Column("filename", sa.Text),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("uploaded_by_subject", sa.Text, nullable=False),
        sa.Column("uploaded_by_role", sa.String(40), nullable=False),
        schema=SCHEMA)
    op.create_index("uq_documents_family_content", "documents", ["family_account", "sha256"], unique=True,
                    schema=SCHEMA)
    op.create_table(
        "fact_validations",
        sa.Column("validation_id", sa.BigInteger, primary_key=True, autoincrement=True),
        sa.Column("family_account", sa.Text, sa.ForeignKey(f"{SCHEMA}.households.family_account"), nullable=False),
        sa.Column("fact", sa.String(40), nullable=False),
        sa.Column("child_id", sa.Uuid),
        sa.Column("value", JSONB, nullable=False),
        sa.Column("effective_from", sa.Date, nullable=False),
        sa.Column("validated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("validated_by", sa.Text, nullable=False),
        sa.Column("document_id", sa.Uuid, sa.ForeignKey(f"{SCHEMA}.documents.document_id"), nullable=False),
        schema=SCHEMA)
    op.create_index("uq_fact_validations_fact", "fact_validations", ["family_account", "fact", "child_id"],
                    unique=True, postgresql_nulls_not_distinct=True, schema=SCHEMA)


def downgrade() -> None:
    op.drop_table("fact_validations", schema=SCHEMA)
    # The documents' bytes are large objects, not rows: unlinked before their references go.
    op.execute(f"SELECT lo_unlink(content_oid) FROM {SCHEMA}.documents")
    op.drop_table("documents", schema=SCHEMA)
