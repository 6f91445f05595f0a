"""Tables of the registrations service, in its own PostgreSQL schema: the application ledger, the campaign
terms intake checks against, and households with their children.

A removed child keeps its row (with `removed_at`) while the application ledger names it by `child_id`;
the retention purge deletes it afterwards, and erasure at once (docs/privacy.md).
"""
from sqlalchemy import (
    ARRAY,
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB, OID

from services.registrations.domain.household import Language
from shared.audit import AuditTables, audit_head_table, audit_table
from shared.db import service_metadata
from shared.outbox import inbox_table, outbox_table

SCHEMA = "registrations"
metadata = service_metadata(SCHEMA)
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

ACTIVE_STATUSES_SQL = "status IN ('received', 'allocated', 'waitlisted', 'confirmed')"

# The application ledger: one row per application acknowledged at intake, whatever became of it.
applications = Table(
    "applications", metadata,
    Column("application_id", Uuid, primary_key=True),
    Column("campaign_id", Uuid, nullable=False),
    Column("child_id", Uuid, nullable=False),
    Column("family_account", String(255), nullable=False),
    Column("choices", ARRAY(Uuid), nullable=False),
    Column("keep_with_applications", ARRAY(Uuid), nullable=False),
    Column("sworn_statement", Boolean, nullable=False),
    Column("child", JSONB, nullable=False),
    Column("household", JSONB, nullable=False),
    Column("hold", JSONB, nullable=False),
    Column("status", String(20), nullable=False),
    Column("reason", Text),
    # Set from allocation's events: the place offered, until when, and the decision as published.
    Column("placed_offer_id", Uuid),
    Column("offer_expires_at", DateTime(timezone=True)),
    Column("decision", JSONB),
    Column("submitted_at", DateTime(timezone=True), nullable=False),
    Column("intake_partition", Integer, nullable=False),
    Column("arrival_position", BigInteger, nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # The database, not only Redis, refuses a second active application for a child.
    Index("uq_applications_active_child", "campaign_id", "child_id", unique=True,
          postgresql_where=text(ACTIVE_STATUSES_SQL)),
    Index("ix_applications_family", "family_account"),
    Index("ix_applications_arrival", "campaign_id", "intake_partition", "arrival_position"),
)

# Every status change, for the parent's history and the explanation of decisions.
application_transitions = Table(
    "application_transitions", metadata,
    Column("transition_id", BigInteger, primary_key=True, autoincrement=True),
    Column("application_id", Uuid, ForeignKey("registrations.applications.application_id"), nullable=False),
    Column("from_status", String(20)),
    Column("to_status", String(20), nullable=False),
    Column("reason", Text),
    Column("at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    # Who moved it (migration 0005): the token's subject and the role it acted in (`parent`, `agent`); null for
    # the workers (intake, allocation's decisions, expiries).
    Column("actor_subject", Text),
    Column("actor_role", String(40)),
    Index("ix_application_transitions_application", "application_id"),
)

# The latest `campaign.*` snapshot of each campaign: what intake checks applications against.
campaign_terms = Table(
    "campaign_terms", metadata,
    Column("campaign_id", Uuid, primary_key=True),
    Column("version", Integer, nullable=False),
    Column("snapshot", JSONB, nullable=False),
    Column("closed_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

# A family's household: the facts priority criteria and tariffs use.
households = Table(
    "households", metadata,
    Column("family_account", Text, primary_key=True),
    Column("single_parent", Boolean, nullable=False),
    Column("quotient_tranche", SmallInteger),
    Column("quotient_justified_on", Date),
    Column("arrondissement", SmallInteger),
    Column("postal_mail", Boolean, nullable=False),
    Column("postal_address", JSON),  # {line1, line2, postal_code, city}
    Column("email", Text),
    # Stored as the code ("fr"), read back as the domain's Language.
    Column("language", Enum(Language, native_enum=False, create_constraint=False, length=2,
                            values_callable=lambda languages: [language.value for language in languages]),
           nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
)

children = Table(
    "children", metadata,
    Column("child_id", Uuid, primary_key=True),
    Column("family_account", Text, ForeignKey(households.c.family_account), nullable=False),
    Column("first_name", Text, nullable=False),
    Column("last_name", Text, nullable=False),
    Column("birth_date", Date, nullable=False),
    Column("school", Text),
    Column("school_arrondissement", SmallInteger),
    Column("disability_allowance", Boolean, nullable=False),
    Column("added_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("removed_at", DateTime(timezone=True)),
    Index("ix_children_present", "family_account", postgresql_where=text("removed_at IS NULL")),
)

# Supporting documents a family (or an agent for it) uploaded (migration 0006): their description here, their bytes
# in a PostgreSQL large object (`content_oid`, pg_largeobject), out of every table a query reads (docs/registrations.md
# #documents). The same bytes uploaded twice by a family are one document.
documents = Table(
    "documents", metadata,
    Column("document_id", Uuid, primary_key=True),
    Column("family_account", Text, ForeignKey(households.c.family_account), nullable=False),
    Column("fact", String(40), nullable=False),  # what the family sent it for: one of the validated facts
    Column("child_id", Uuid),  # the child, for the disability allowance
    Column("media_type", String(40), nullable=False),  # from the content's first bytes
    Column("size_bytes", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("content_oid", OID, nullable=False),
    Column("filename", Text),  # as the client named it, shown back only
    Column("uploaded_at", DateTime(timezone=True), nullable=False),
    Column("uploaded_by_subject", Text, nullable=False),
    Column("uploaded_by_role", String(40), nullable=False),
    Index("uq_documents_family_content", "family_account", "sha256", unique=True),
)

# The household facts an agent validated from a document (domain/facts.py), those still in force: one per fact (per
# child for the allowance). A parent changing the value deletes it with the change (the household's save).
fact_validations = Table(
    "fact_validations", metadata,
    Column("validation_id", BigInteger, primary_key=True, autoincrement=True),
    Column("family_account", Text, ForeignKey(households.c.family_account), nullable=False),
    Column("fact", String(40), nullable=False),
    Column("child_id", Uuid),
    Column("value", JSONB, nullable=False),
    Column("effective_from", Date, nullable=False),
    Column("validated_at", DateTime(timezone=True), nullable=False),
    Column("validated_by", Text, nullable=False),
    Column("document_id", Uuid, ForeignKey(documents.c.document_id), nullable=False),
    Index("uq_fact_validations_fact", "family_account", "fact", "child_id", unique=True,
          postgresql_nulls_not_distinct=True),
)

# The audit trail (shared/audit.py; migration 0005): one chain per family, `family:<account>`, append-only.
audit = AuditTables(audit_table(metadata), audit_head_table(metadata))
