"""SQLAlchemy 2 engine and transaction handling. Each service owns one PostgreSQL schema."""
from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any

import orjson
from sqlalchemy import Connection, Engine, MetaData, Table, create_engine, text
from sqlalchemy.orm import Session, sessionmaker

from shared.config import Settings

# Constraint names that Alembic can find again when a later migration alters them.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def service_metadata(schema: str) -> MetaData:
    return MetaData(schema=schema, naming_convention=NAMING_CONVENTION)


def make_engine(settings: Settings, **overrides) -> Engine:
    options = dict(
        pool_size=settings.db_pool_size,
        max_overflow=settings.db_max_overflow,
        # A connection dropped by a PostgreSQL restart is noticed here, not in the middle of a request.
        pool_pre_ping=True,
        pool_recycle=1800,
        connect_args={"connect_timeout": 5, "application_name": settings.service_name},
    )
    options.update(overrides)
    return create_engine(settings.database_url, **options)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


@contextmanager
def transaction(engine: Engine) -> Iterator[Connection]:
    """One unit of work: state changes and their outbox events commit together or not at all."""
    with engine.begin() as connection:
        yield connection


def ping(engine: Engine) -> None:
    with engine.connect() as connection:
        connection.execute(text("SELECT 1"))


def json_rows(rows: Iterable[Mapping[str, Any]]) -> str:
    """Rows as one JSON array: UUIDs and aware datetimes as their text, which PostgreSQL reads back."""
    return orjson.dumps(list(rows)).decode()


def insert_json_rows(connection: Connection, table: Table, rows: list[Mapping[str, Any]]) -> None:
    """`table.insert()` of rows with the same keys, in one statement of one JSON parameter (`jsonb_to_recordset`),
    inserted in their order (an identity column numbers them as given: the outbox's positions). An executemany
    binds every value of every row and has the driver dump each json column's document, and a multi-row VALUES is
    compiled anew for each number of rows; a worker's batches of hundreds paid both."""
    if not rows:
        return
    columns = list(rows[0])
    types = ", ".join(f"{name} {table.c[name].type.compile(dialect=connection.dialect)}" for name in columns)
    names = ", ".join(columns)
    connection.execute(text(f"INSERT INTO {table.fullname} ({names}) SELECT {names} "
                            f"FROM ROWS FROM (jsonb_to_recordset(CAST(:rows AS jsonb)) AS ({types})) "
                            f"WITH ORDINALITY AS v({names}, row_number) ORDER BY v.row_number"),
                       {"rows": json_rows(rows)})
