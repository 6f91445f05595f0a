"""Validated household facts (issue 16) in allocation's tables: the facts counted by applications not yet
drawn, the quotient tranches agents validated, and the billing line each confirmed registration stands on."""
from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection, exists, select, update
from sqlalchemy.dialects.postgresql import insert

from services.allocation.domain.pricing import ValidatedTranche
from services.allocation.store.tables import (
    allocation_runs,
    applications,
    billing_lines,
    decisions,
    places,
    validated_tranches,
)


def family_campaigns(connection: Connection, family_account: str) -> list[UUID]:
    """The campaigns of the family's applications still in them, in the order their locks are taken."""
    return list(connection.execute(
        select(applications.c.campaign_id).distinct()
        .where(applications.c.family_account == family_account, applications.c.withdrawn_at.is_(None))
        .order_by(applications.c.campaign_id)).scalars())


def undrawn_applications(connection: Connection, family_account: str) -> list[Mapping[str, Any]]:
    """The family's applications still to be drawn: not withdrawn, not decided, their campaign's results not
    published (as store.repository.replace_choices)."""
    decided = exists().where(decisions.c.application_id == applications.c.application_id)
    drawn = exists().where(allocation_runs.c.campaign_id == applications.c.campaign_id,
                           allocation_runs.c.kind == "published")
    return connection.execute(
        select(applications.c.application_id, applications.c.child_id, applications.c.household,
               applications.c.child)
        .where(applications.c.family_account == family_account, applications.c.withdrawn_at.is_(None), ~decided,
               ~drawn)
        .order_by(applications.c.application_id)).mappings().all()


def replace_facts(connection: Connection, application_id: UUID, household: Mapping[str, Any],
                  child: Mapping[str, Any]) -> None:
    connection.execute(update(applications).where(applications.c.application_id == application_id)
                       .values(household=dict(household), child=dict(child)))


def save_validated_tranche(connection: Connection, family_account: str, document_id: UUID, tranche: int,
                           effective_from: date, validated_at: datetime) -> bool:
    """False when this document's validation was already recorded."""
    return connection.execute(insert(validated_tranches).values(
        family_account=family_account, document_id=document_id, quotient_tranche=tranche,
        effective_from=effective_from, validated_at=validated_at,
    ).on_conflict_do_nothing().returning(validated_tranches.c.document_id)).first() is not None


def validated_tranches_of(connection: Connection, family_account: str) -> list[ValidatedTranche]:
    rows = connection.execute(select(validated_tranches).where(validated_tranches.c.family_account == family_account))
    return [ValidatedTranche(row.quotient_tranche, row.effective_from, row.validated_at) for row in rows]


def forget_validated_tranches(connection: Connection, family_account: str) -> None:
    """At the family's erasure: its lines keep their prices, the quotients go."""
    connection.execute(validated_tranches.delete().where(validated_tranches.c.family_account == family_account))


def confirmed_registrations(connection: Connection, family_account: str) -> list[Mapping[str, Any]]:
    """The family's confirmed places still held: the registrations its billing lines are for."""
    return connection.execute(
        select(places.c.application_id, places.c.campaign_id, places.c.offer_id,
               places.c.settled_at.label("confirmed_at"))
        .join(applications, applications.c.application_id == places.c.application_id)
        .where(applications.c.family_account == family_account, places.c.state == "accepted")
        .order_by(places.c.application_id)).mappings().all()


def current_line(connection: Connection, application_id: UUID) -> tuple[int, int, int] | None:
    """(line number, tranche, unit price) of the line the registration stands on; None: line 1, confirmed
    before lines were recorded (priced from the household)."""
    row = connection.execute(select(billing_lines).where(billing_lines.c.application_id == application_id)).first()
    return None if row is None else (row.line_number, row.quotient_tranche, row.unit_price_cents)


def save_line(connection: Connection, application_id: UUID, number: int, tranche: int, price_cents: int,
              at: datetime) -> None:
    values = dict(line_number=number, quotient_tranche=tranche, unit_price_cents=price_cents, billed_at=at)
    connection.execute(insert(billing_lines).values(application_id=application_id, **values)
                       .on_conflict_do_update(index_elements=["application_id"], set_=values))
