"""The tables module (services/notifications/store/tables.py) says what the migrations create."""
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from services.notifications.store.tables import metadata


def test_tables_module_matches_the_migrations(notifications):
    with notifications.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={
            "include_schemas": True, "compare_type": True,
            "include_name": lambda name, kind, parent: {"schema": name == metadata.schema,
                                                        "table": name != "alembic_version"}.get(kind, True)})
        assert compare_metadata(context, metadata) == []
