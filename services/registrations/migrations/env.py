from alembic import context

from services.registrations.store.tables import metadata
from shared.migrations import run_migrations

run_migrations(context, metadata)
