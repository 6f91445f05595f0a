"""COPY for the draw's bulk writes: a draw of 100,000 applications writes several hundred thousand
rows in one transaction, and COPY takes them several times faster than an INSERT per parameter set.
Lines are written in COPY's text format here rather than value by value through the driver's
adapters, which for that many rows cost as much as the rest of the write."""
from __future__ import annotations

import json
from typing import Any, Mapping, Sequence

from psycopg import sql
from psycopg.copy import QueuedLibpqWriter
from sqlalchemy import JSON, Connection, Table

NULL = "\\N"
ROWS_PER_WRITE = 5_000


def copy_rows(connection: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> None:
    """Rows as the table's insert would take them (the same keys in every row): json values as Python
    data; text, numbers, UUIDs and aware datetimes as themselves."""
    if not rows:
        return
    columns = list(rows[0])
    as_json = [isinstance(table.c[column].type, JSON) for column in columns]  # jsonb too
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table.schema, table.name), sql.SQL(", ").join(map(sql.Identifier, columns)))
    # The DBAPI connection under this SQLAlchemy connection: the COPY runs in the caller's transaction. The
    # queued writer sends from its own thread, so PostgreSQL takes one chunk while the next is formatted.
    with (connection.connection.driver_connection.cursor() as cursor,
          cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy):
        for start in range(0, len(rows), ROWS_PER_WRITE):
            copy.write("".join(
                "\t".join(_field(row[column], is_json) for column, is_json in zip(columns, as_json)) + "\n"
                for row in rows[start:start + ROWS_PER_WRITE]))


def _field(value: Any, is_json: bool) -> str:
    if value is None:
        return NULL
    if is_json:
        # json.dumps escapes every control character, so only its backslashes need COPY's escape.
        return json.dumps(value).replace("\\", "\\\\")
    if isinstance(value, str):
        return value.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return str(value)  # UUID, int, aware datetime: their text is what PostgreSQL reads back
