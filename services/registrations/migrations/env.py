from alembic import context

from services.registrations import household_tables  # noqa: F401 — registers its tables on the metadata
from services.registrations.tables import metadata
from shared.migrations import run_migrations

run_migrations(context, metadata)
