"""Households and their children, in the registrations schema.

Children are never deleted: a removed child keeps its row (with `removed_at`) because the
application ledger names it by `child_id`.
"""
import sqlalchemy as sa

from services.registrations.domain.household import Language
from services.registrations.tables import metadata

households = sa.Table(
    "households", metadata,
    sa.Column("family_account", sa.Text, primary_key=True),
    sa.Column("single_parent", sa.Boolean, nullable=False),
    sa.Column("quotient_tranche", sa.SmallInteger),
    sa.Column("quotient_justified_on", sa.Date),
    sa.Column("arrondissement", sa.SmallInteger),
    sa.Column("postal_mail", sa.Boolean, nullable=False),
    sa.Column("postal_address", sa.JSON),  # {line1, line2, postal_code, city}
    sa.Column("email", sa.Text),
    # Stored as the code ("fr"), read back as the domain's Language.
    sa.Column("language", sa.Enum(Language, native_enum=False, create_constraint=False, length=2,
                                  values_callable=lambda languages: [language.value for language in languages]),
              nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
)

children = sa.Table(
    "children", metadata,
    sa.Column("child_id", sa.Uuid, primary_key=True),
    sa.Column("family_account", sa.Text, sa.ForeignKey(households.c.family_account), nullable=False),
    sa.Column("first_name", sa.Text, nullable=False),
    sa.Column("last_name", sa.Text, nullable=False),
    sa.Column("birth_date", sa.Date, nullable=False),
    sa.Column("school", sa.Text),
    sa.Column("school_arrondissement", sa.SmallInteger),
    sa.Column("disability_allowance", sa.Boolean, nullable=False),
    sa.Column("added_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
    sa.Column("removed_at", sa.DateTime(timezone=True)),
    sa.Index("ix_children_present", "family_account", postgresql_where=sa.text("removed_at IS NULL")),
)
