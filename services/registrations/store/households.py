"""Households in PostgreSQL: load one with its present children and its validated facts, save one as a whole,
find families (agents)."""
from __future__ import annotations

from dataclasses import asdict, replace
from datetime import date

import sqlalchemy as sa
from sqlalchemy import Connection
from sqlalchemy.dialects.postgresql import insert

from services.registrations.domain.facts import FactValidation
from services.registrations.domain.household import Child, Household, PostalAddress
from services.registrations.store.tables import applications, children, fact_validations, households

FACT_COLUMNS = ("single_parent", "quotient_tranche", "quotient_justified_on", "arrondissement", "postal_mail",
                "email", "language")
CHILD_COLUMNS = ("first_name", "last_name", "birth_date", "school", "school_arrondissement", "disability_allowance")
VALIDATION_COLUMNS = ("fact", "child_id", "value", "effective_from", "validated_at", "validated_by", "document_id")


class StaleHousehold(Exception):
    """The household changed since it was loaded: its stored version is no longer the one saved over."""


def load_household(connection: Connection, family_account: str, *, for_update: bool = False) -> Household | None:
    """`for_update` locks the household row until the transaction ends, so changes queue instead of failing."""
    query = sa.select(households).where(households.c.family_account == family_account)
    row = connection.execute(query.with_for_update() if for_update else query).mappings().first()
    if row is None:
        return None
    present = connection.execute(
        sa.select(children)
        .where(children.c.family_account == family_account, children.c.removed_at.is_(None))
        .order_by(children.c.added_at, children.c.child_id)).mappings()
    address = row["postal_address"]
    return Household(
        family_account=family_account, **{column: row[column] for column in FACT_COLUMNS},
        postal_address=None if address is None else PostalAddress(**address),
        children=tuple(Child(child_id=child["child_id"], **{column: child[column] for column in CHILD_COLUMNS})
                       for child in present),
        version=row["version"], validations=_validations(connection, family_account))


def _validations(connection: Connection, family_account: str) -> tuple[FactValidation, ...]:
    rows = connection.execute(
        sa.select(*(fact_validations.c[column] for column in VALIDATION_COLUMNS))
        .where(fact_validations.c.family_account == family_account)
        .order_by(fact_validations.c.validation_id)).mappings()
    return tuple(FactValidation(**row) for row in rows)


def save_household(connection: Connection, household: Household) -> Household:
    """Store the household over the version it was loaded at; returns it at its new version.

    Children missing from `household` but present in the table are marked removed, not deleted.
    """
    facts = {column: getattr(household, column) for column in FACT_COLUMNS}
    facts["postal_address"] = None if household.postal_address is None else asdict(household.postal_address)
    new_version = household.version + 1
    # RETURNING, not rowcount: psycopg reports -1 for INSERT … ON CONFLICT DO NOTHING.
    if household.version == 0:
        written = connection.execute(insert(households).values(
            family_account=household.family_account, version=new_version, **facts).on_conflict_do_nothing()
            .returning(households.c.family_account)).first()
    else:
        written = connection.execute(
            sa.update(households)
            .where(households.c.family_account == household.family_account,
                   households.c.version == household.version)
            .values(version=new_version, updated_at=sa.func.now(), **facts)
            .returning(households.c.family_account)).first()
    if written is None:
        raise StaleHousehold(household.family_account)
    _store_children(connection, household)
    _store_validations(connection, household)
    return replace(household, version=new_version)


def _store_validations(connection: Connection, household: Household) -> None:
    """The household's validations replace the stored ones (a handful of rows, at most one per fact)."""
    connection.execute(sa.delete(fact_validations).where(fact_validations.c.family_account == household.family_account))
    if household.validations:
        connection.execute(sa.insert(fact_validations), [
            {"family_account": household.family_account,
             **{column: getattr(validation, column) for column in VALIDATION_COLUMNS}}
            for validation in household.validations])


def _store_children(connection: Connection, household: Household) -> None:
    connection.execute(
        sa.update(children)
        .where(children.c.family_account == household.family_account, children.c.removed_at.is_(None),
               children.c.child_id.not_in([child.child_id for child in household.children]))
        .values(removed_at=sa.func.now()))
    if not household.children:
        return
    upsert = insert(children).values([
        {"child_id": child.child_id, "family_account": household.family_account,
         **{column: getattr(child, column) for column in CHILD_COLUMNS}}
        for child in household.children])
    connection.execute(upsert.on_conflict_do_update(
        index_elements=[children.c.child_id],
        set_={column: upsert.excluded[column] for column in CHILD_COLUMNS},
        # A child id is only ever updated within the household that owns it.
        where=children.c.family_account == upsert.excluded.family_account))


def family_known(connection: Connection, family_account: str) -> bool:
    """The family has a household here, or applications (an agent may act on an application of a family whose
    household is gone)."""
    return connection.execute(sa.select(sa.or_(
        sa.exists().where(households.c.family_account == family_account),
        sa.exists().where(applications.c.family_account == family_account)))).scalar_one()


def find_households(connection: Connection, *, account: str | None = None, email: str | None = None,
                    child_name: str | None = None, birth_date: date | None = None,
                    limit: int = 20) -> list[Household]:
    """Households matching every criterion given: the account exactly, the email without regard to case, a present
    child born on `birth_date` whose first name, last name or full name (either order) is `child_name` without
    regard to case or surrounding spaces."""
    query = sa.select(households.c.family_account).order_by(households.c.family_account).limit(limit)
    if account is not None:
        query = query.where(households.c.family_account == account)
    if email is not None:
        query = query.where(sa.func.lower(households.c.email) == email.strip().lower())
    if child_name is not None and birth_date is not None:
        name = " ".join(child_name.split()).lower()
        first, last = sa.func.lower(children.c.first_name), sa.func.lower(children.c.last_name)
        query = query.where(sa.exists().where(
            children.c.family_account == households.c.family_account, children.c.removed_at.is_(None),
            children.c.birth_date == birth_date,
            sa.or_(first == name, last == name, first + " " + last == name, last + " " + first == name)))
    found = connection.execute(query).scalars().all()
    return [household for account_found in found
            if (household := load_household(connection, account_found)) is not None]
