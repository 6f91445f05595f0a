"""Places given, fed by allocation's offer.places_given: the revision last applied, and a capacity
that may be found below the places given (a capacity lowered while allocation was giving places).

Revision ID: campaigns_0003
Revises: campaigns_0002
"""
import sqlalchemy as sa
from alembic import op

revision = "campaigns_0003"
down_revision = "campaigns_0002"
branch_labels = None
depends_on = None

SCHEMA = "campaigns"


def upgrade() -> None:
    op.add_column("offers", sa.Column("places_given_revision", sa.Integer, nullable=False, server_default="0"),
                  schema=SCHEMA)
    op.drop_constraint("capacity_covers_places_given", "offers", schema=SCHEMA, type_="check")
    op.create_check_constraint("places_given_not_negative", "offers", "places_given >= 0", schema=SCHEMA)


def downgrade() -> None:
    op.drop_constraint("places_given_not_negative", "offers", schema=SCHEMA, type_="check")
    op.create_check_constraint("capacity_covers_places_given", "offers", "places_given >= 0 AND capacity >= places_given",
                               schema=SCHEMA)
    op.drop_column("offers", "places_given_revision", schema=SCHEMA)
