"""COPY for the draw's bulk writes: a draw of 100,000 applications writes several hundred thousand
rows in one transaction, and COPY takes them a few times faster than an INSERT per parameter set."""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from psycopg import sql
from sqlalchemy import Connection, Table
from sqlalchemy.dialects.postgresql import JSONB


def copy_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows as the table's insert would take them (same keys in every row); JSONB values as Python data."""
    if not rows:
        return
    columns = list(rows[0])
    as_json = [isinstance(table.c[column].type, JSONB) for column in columns]
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.schema, table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))
    # The DBAPI connection under this SQLAlchemy connection: the COPY runs in the caller's transaction.
    with connection.connection.driver_connection.cursor() as cursor, cursor.copy(statement) as copy:
        for row in rows:
            copy.write_row([json.dumps(row[column]) if is_json else row[column]
                            for column, is_json in zip(columns, as_json)])
