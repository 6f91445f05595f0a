"""Invoice lines in PostgreSQL: written once per line id, read back in arrival order."""
from __future__ import annotations

import zlib
from dataclasses import asdict
from datetime import date

from sqlalchemy import Connection, Engine, func, select, text
from sqlalchemy.dialects.postgresql import insert

from examples.billing_preview.invoices import InvoiceLine
from examples.billing_preview.tables import SCHEMA, invoice_lines, metadata

LINE_COLUMNS = tuple(InvoiceLine.__dataclass_fields__)


def ensure_schema(engine: Engine) -> None:
    """Create the preview's table when missing. The preview is an example for downstream teams, not
    a Guichet service: it has no migration history and is not part of Guichet's deployment."""
    with engine.begin() as connection:
        connection.execute(select(func.pg_advisory_xact_lock(zlib.crc32(SCHEMA.encode()))))  # two starts at once
        connection.execute(text(f'CREATE SCHEMA IF NOT EXISTS "{SCHEMA}"'))
        metadata.create_all(connection, checkfirst=True)


def record_lines(connection: Connection, received: list[tuple[str, InvoiceLine]]) -> int:
    """Store (event id, line) pairs in the order given; a line id already stored is skipped, so a
    redelivered record changes nothing. Returns how many lines were new."""
    if not received:
        return 0
    inserted = connection.execute(
        insert(invoice_lines).values([{"event_id": event_id, **asdict(line)} for event_id, line in received])
        .on_conflict_do_nothing(index_elements=["line_id"]).returning(invoice_lines.c.line_id)).all()
    return len(inserted)


def stored_lines(connection: Connection, family_account: str | None = None, month: date | None = None
                 ) -> list[InvoiceLine]:
    query = select(*(invoice_lines.c[column] for column in LINE_COLUMNS)).order_by(invoice_lines.c.position)
    if family_account is not None:
        query = query.where(invoice_lines.c.family_account == family_account)
    lines = [InvoiceLine(**row) for row in connection.execute(query).mappings()]
    return [line for line in lines if month is None or line.month == month]
