"""The preview's one table, in its own PostgreSQL schema: every invoice line received, once."""
from sqlalchemy import BigInteger, Column, Date, DateTime, Identity, Index, Integer, String, Table, Text, func

from shared.db import service_metadata

SCHEMA = "billing_preview"
metadata = service_metadata(SCHEMA)

invoice_lines = Table(
    "invoice_lines", metadata,
    # The feed's stable line id: a redelivered line finds its row and is not counted twice.
    Column("line_id", String(200), primary_key=True),
    # Arrival order; a family's lines arrive in feed order because the feed is keyed by family.
    Column("position", BigInteger, Identity(always=True), nullable=False, unique=True),
    Column("event_id", String(64), nullable=False),
    Column("family_account", String(255), nullable=False),
    Column("reverses_line_id", String(200)),
    Column("child_name", Text, nullable=False),
    Column("campaign_title", Text, nullable=False),
    Column("offer_title", Text, nullable=False),
    Column("period_start", Date, nullable=False),
    Column("period_end", Date, nullable=False),
    Column("quotient_tranche", Integer, nullable=False),
    Column("unit_price_cents", Integer, nullable=False),
    Column("quantity", Integer, nullable=False),
    Column("currency", String(3), nullable=False),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_invoice_lines_family", "family_account", "period_start"),
)
