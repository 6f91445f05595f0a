"""The draw bundle stored uncompressed (issue 18): PostgreSQL compressed each published bundle with pglz, about
2 s of the server's CPU for the 81 MB of a 100,000-application draw, inside the draw's transaction and before
its decisions are written; stored out of line as is, it takes 0.7 s (its JSON still checked). The price is the
disk: twice the compressed size, once per published campaign. Reads serve the text as it was published, now
without decompressing it.

Revision ID: allocation_0009
Revises: allocation_0008
"""
from alembic import op

revision = "allocation_0009"
down_revision = "allocation_0008"
branch_labels = None
depends_on = None

SCHEMA = "allocation"


def upgrade() -> None:
    # Applies to bundles written from now on; those already stored stay compressed and read the same.
    op.execute(f"ALTER TABLE {SCHEMA}.allocation_runs ALTER COLUMN bundle SET STORAGE EXTERNAL")


def downgrade() -> None:
    op.execute(f"ALTER TABLE {SCHEMA}.allocation_runs ALTER COLUMN bundle SET STORAGE EXTENDED")
