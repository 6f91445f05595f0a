"""A family's records, read from a service's own tables: what access and portability (RGPD art. 15 and 20)
export. Every table with a `family_account` column gives the family's rows; `linked` adds tables that name
the family only through another table's key (an application's transitions, say)."""
from __future__ import annotations

import base64
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, MetaData, Table, select


def jsonable(value: Any) -> Any:
    """A row's value as JSON: ids and instants as text, bytes as base64."""
    if isinstance(value, UUID | Decimal):
        return str(value)
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, bytes | memoryview):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, Mapping):
        return {str(key): jsonable(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [jsonable(item) for item in value]
    if hasattr(value, "value") and not isinstance(value, str | int | float | bool):  # an Enum
        return value.value
    return value


def family_tables(metadata: MetaData) -> list[Table]:
    return [table for table in metadata.sorted_tables if "family_account" in table.c]


def family_records(connection: Connection, metadata: MetaData, family_account: str,
                   linked: Mapping[Table, tuple[str, Table, str]] = {}) -> dict[str, list[dict[str, Any]]]:
    """{table name: [row, …]} for every table holding the family's rows. `linked`: table → (its column, the
    family table, that table's column), e.g. transitions → ("application_id", applications, "application_id")."""
    records: dict[str, list[dict[str, Any]]] = {}
    for table in family_tables(metadata):
        rows = connection.execute(select(table).where(table.c.family_account == family_account)).mappings().all()
        records[table.name] = [jsonable(dict(row)) for row in rows]
    for table, (column, owner, owner_column) in linked.items():
        keys = select(owner.c[owner_column]).where(owner.c.family_account == family_account)
        rows = connection.execute(select(table).where(table.c[column].in_(keys))).mappings().all()
        records[table.name] = [jsonable(dict(row)) for row in rows]
    return records
