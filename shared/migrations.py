"""Alembic, one migration history per service, each in the service's own schema.

`python -m shared.migrations campaigns` upgrades that service to head. Services migrate at start-up
of `make run` and in test fixtures; an advisory lock lets several start at once safely.
"""
from __future__ import annotations

import argparse
import importlib
import zlib
from pathlib import Path

from alembic import command
from alembic.config import Config
from sqlalchemy import MetaData, func, select, text

from shared.config import Settings
from shared.db import make_engine


def migrations_folder(service: str) -> Path:
    package = importlib.import_module(f"services.{service}")
    return Path(list(package.__path__)[0]).resolve() / "migrations"


def alembic_config(service: str, settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations_folder(service)))
    config.set_main_option("sqlalchemy.url", settings.database_url.replace("%", "%%"))
    return config


def upgrade(service: str, settings: Settings, revision: str = "heads") -> None:
    config = alembic_config(service, settings)
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    try:
        with engine.begin() as connection:
            connection.execute(select(func.pg_advisory_xact_lock(zlib.crc32(f"migrate:{service}".encode()))))
            if settings.database_migration_role:
                # What the migrations create belongs to the schema's owner, not to the login that ran them.
                role = settings.database_migration_role.format(service=service)
                connection.execute(text("SELECT set_config('role', :role, true)"), {"role": role})
            config.attributes["connection"] = connection
            command.upgrade(config, revision)
    finally:
        engine.dispose()


def run_migrations(context, metadata: MetaData) -> None:
    """Called from a service's migrations/env.py."""
    schema = metadata.schema
    connection = context.config.attributes.get("connection")
    if connection is None:
        raise RuntimeError("run migrations with `python -m shared.migrations SERVICE`")
    exists = connection.execute(text("SELECT 1 FROM pg_namespace WHERE nspname = :schema"), {"schema": schema}).first()
    if exists is None:  # CREATE SCHEMA IF NOT EXISTS would need CREATE on the database even when it exists
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    context.configure(connection=connection, target_metadata=metadata, version_table_schema=schema,
                      include_schemas=False, compare_type=True)
    with context.begin_transaction():
        context.run_migrations()


def create_messaging_tables(op, schema: str) -> None:
    """The outbox and inbox every service has; called from each service's first migration."""
    import sqlalchemy as sa
    from sqlalchemy.dialects.postgresql import JSONB

    op.create_table(
        "outbox",
        sa.Column("position", sa.BigInteger, sa.Identity(always=True), primary_key=True),
        sa.Column("event_id", sa.String(64), nullable=False, unique=True),
        sa.Column("event_type", sa.String(128), nullable=False),
        sa.Column("topic", sa.String(200), nullable=False),
        sa.Column("message_key", sa.String(200), nullable=False),
        sa.Column("envelope", JSONB, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        schema=schema,
    )
    op.create_index("ix_outbox_unpublished", "outbox", ["position"], schema=schema,
                    postgresql_where=sa.text("published_at IS NULL"))
    op.create_table(
        "processed_events",
        sa.Column("consumer", sa.String(128), primary_key=True),
        sa.Column("event_id", sa.String(64), primary_key=True),
        sa.Column("event_type", sa.Text),
        sa.Column("processed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=schema,
    )


def add_outbox_chunks(op, schema: str) -> None:
    """An outbox row holds one event or a chunk of them (`shared/outbox.py`); called from each service's migration.
    Existing rows are single events (`event_count` 1). A chunk is stored out of line as is: compressing its 1.5 MB
    with pglz would cost the writing transaction more than its JSON check."""
    import sqlalchemy as sa

    op.alter_column("outbox", "envelope", nullable=True, schema=schema)
    op.add_column("outbox", sa.Column("chunk", sa.JSON), schema=schema)
    op.add_column("outbox", sa.Column("event_count", sa.Integer, nullable=False, server_default=sa.text("1")),
                  schema=schema)
    op.create_check_constraint("outbox_one_event_or_a_chunk", "outbox", "(envelope IS NULL) <> (chunk IS NULL)",
                               schema=schema)
    op.execute(f"ALTER TABLE {schema}.outbox ALTER COLUMN chunk SET STORAGE EXTERNAL")


def remove_outbox_chunks(op, schema: str) -> None:
    """Down again: only once the chunks are published and purged (their events have no single rows)."""
    op.drop_constraint("outbox_one_event_or_a_chunk", "outbox", schema=schema)
    op.drop_column("outbox", "event_count", schema=schema)
    op.drop_column("outbox", "chunk", schema=schema)
    op.alter_column("outbox", "envelope", nullable=False, schema=schema)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Upgrade a service's database schema to the latest migration.")
    parser.add_argument("services", nargs="+", help="service names, e.g. campaigns registrations")
    args = parser.parse_args(argv)
    for service in args.services:
        upgrade(service, Settings.from_env(f"{service}-migrations"))
        print(f"{service}: migrated to head")


if __name__ == "__main__":
    main()
