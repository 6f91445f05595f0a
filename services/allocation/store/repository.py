"""Campaigns, applications, lottery seeds, runs and decisions in PostgreSQL.

Functions take the caller's connection, so a change and its outbox events share one transaction.
"""
from __future__ import annotations

import zlib
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

from psycopg.rows import dict_row
from sqlalchemy import JSON, Connection, Text, and_, bindparam, cast, exists, func, or_, select
from sqlalchemy.dialects.postgresql import ARRAY, insert

from services.allocation.domain.stored_explanations import offers_needing_cutoffs, rendered
from services.allocation.store import seed_vault
from services.allocation.store.application_rows import FamilyHistory
from services.allocation.store.bulk_copy import Copies, json_text
from services.allocation.store.campaign_copy import CampaignCopy
from services.allocation.store.tables import (
    allocation_runs,
    applications,
    campaigns,
    decisions,
    lottery_seeds,
    offer_cutoffs,
    places,
)
from shared.domain.policy import AllocationMode

# Two-key advisory locks: this namespace, then a 32-bit digest of the campaign id. Two campaigns that
# happen to share a digest only take turns; they never see each other's seats.
_CAMPAIGN_LOCKS = zlib.crc32(b"allocation:campaign") - 2**31


def campaign_lock_key(campaign_id: UUID) -> tuple[int, int]:
    return _CAMPAIGN_LOCKS, zlib.crc32(campaign_id.bytes) - 2**31


def lock_campaign(connection: Connection, campaign_id: UUID) -> None:
    """Until the transaction ends, nobody else changes this campaign's decisions, places or waitlists.

    An advisory lock, not a row lock: it also serialises an application arriving before the
    campaign's own copy, which has no row to lock yet.
    """
    connection.execute(select(func.pg_advisory_xact_lock(*campaign_lock_key(campaign_id))))


# --- campaigns --------------------------------------------------------------------------------------

def save_snapshot(connection: Connection, snapshot: Mapping[str, Any]) -> bool:
    """Keep the newest version; events arrive twice or late. True when this one was kept."""
    values = dict(campaign_id=UUID(snapshot["campaign_id"]), version=snapshot["version"], kind=snapshot["kind"],
                  mode=snapshot["policy"]["mode"], opens_at=datetime.fromisoformat(snapshot["opens_at"]),
                  closes_at=datetime.fromisoformat(snapshot["closes_at"]), snapshot=dict(snapshot))
    statement = insert(campaigns).values(**values)
    kept = connection.execute(statement.on_conflict_do_update(
        index_elements=["campaign_id"],
        set_={name: statement.excluded[name] for name in values if name != "campaign_id"} | {"updated_at": func.now()},
        where=campaigns.c.version < statement.excluded.version).returning(campaigns.c.campaign_id)).first()
    return kept is not None


def mark_closed(connection: Connection, campaign_id: UUID, at: datetime) -> None:
    connection.execute(campaigns.update().where(campaigns.c.campaign_id == campaign_id)
                       .where(campaigns.c.closed_at.is_(None)).values(closed_at=at))


def get_campaign(connection: Connection, campaign_id: UUID) -> CampaignCopy | None:
    row = connection.execute(select(campaigns).where(campaigns.c.campaign_id == campaign_id)).first()
    return None if row is None else CampaignCopy(row.campaign_id, row.version, row.snapshot, row.closed_at)


def campaigns_due_for_draw(connection: Connection, closed_before: datetime, *,
                           when_intake_drained: bool = True) -> list[UUID]:
    """Lottery campaigns not drawn yet, closed, and whose intake drained past the close (unless
    `when_intake_drained` is off), or, failing that announcement, closed before the instant (the fallback wait)."""
    drawn = exists().where(and_(allocation_runs.c.campaign_id == campaigns.c.campaign_id,
                                allocation_runs.c.kind == "published"))
    ready = campaigns.c.closed_at <= closed_before
    if when_intake_drained:
        ready = or_(campaigns.c.intake_drained_at.is_not(None), ready)
    return list(connection.execute(
        select(campaigns.c.campaign_id).where(campaigns.c.mode != AllocationMode.FIRST_COME.value,
                                              campaigns.c.closed_at.is_not(None), ready, ~drawn)
        .order_by(campaigns.c.closed_at)).scalars())


def mark_intake_drained(connection: Connection, campaign_id: UUID, at: datetime) -> bool:
    """Keep the first announcement; False when the campaign is unknown here or was already marked."""
    marked = connection.execute(campaigns.update().where(campaigns.c.campaign_id == campaign_id,
                                                         campaigns.c.intake_drained_at.is_(None))
                                .values(intake_drained_at=at).returning(campaigns.c.campaign_id)).first()
    return marked is not None


# --- applications -----------------------------------------------------------------------------------

def save_application(connection: Connection, data: Mapping[str, Any]) -> bool:
    """Store an `application.received`; False when it was already stored. Call it under the campaign's
    lock: arrival ranks follow the order applications are stored. Since intake spreads a campaign over the
    intake log's partitions (issue 19) that order may trail `arrival_position` by a ledger writer's lag: the
    draw orders by `arrival_position`, and a first-come decision confirms the hold intake gave (usecases/arrivals.py)."""
    campaign_id = UUID(data["campaign_id"])
    last_rank = connection.execute(
        select(applications.c.arrival_rank).where(applications.c.campaign_id == campaign_id)
        .order_by(applications.c.arrival_position.desc()).limit(1)).scalar_one_or_none()
    rank = (last_rank or 0) + 1
    stored = connection.execute(insert(applications).values(
        application_id=UUID(data["application_id"]), campaign_id=campaign_id,
        family_account=data["family_account"], child_id=UUID(data["child"]["child_id"]), child=data["child"],
        household=data["household"], choices=[UUID(choice) for choice in data["choices"]],
        keep_with_applications=[UUID(sibling) for sibling in data["keep_with_applications"]],
        arrival_position=data["arrival_position"], arrival_rank=rank,
        submitted_at=datetime.fromisoformat(data["submitted_at"]), intake_hold=data.get("hold"),
    ).on_conflict_do_nothing(index_elements=["application_id"]).returning(applications.c.application_id)).first()
    return stored is not None


def get_application(connection: Connection, application_id: UUID) -> dict[str, Any] | None:
    row = connection.execute(select(applications).where(applications.c.application_id == application_id)
                             ).mappings().first()
    return None if row is None else dict(row)


def mark_withdrawn(connection: Connection, application_id: UUID, at: datetime) -> None:
    connection.execute(applications.update().where(applications.c.application_id == application_id)
                       .where(applications.c.withdrawn_at.is_(None)).values(withdrawn_at=at))


def replace_choices(connection: Connection, application_id: UUID, choices: list[UUID], keep_with: list[UUID]) -> bool:
    """The family's new choices (and siblings kept with) for an application still to be drawn; False (nothing
    changed) once it is withdrawn, decided, or its campaign's results are published, or when it is unknown."""
    decided = exists().where(decisions.c.application_id == applications.c.application_id)
    drawn = exists().where(allocation_runs.c.campaign_id == applications.c.campaign_id,
                           allocation_runs.c.kind == "published")
    changed = connection.execute(
        applications.update()
        .where(applications.c.application_id == application_id, applications.c.withdrawn_at.is_(None), ~decided,
               ~drawn)
        .values(choices=choices, keep_with_applications=keep_with).returning(applications.c.application_id)).first()
    return changed is not None

# What an allocation reads of an application: its columns, and the facts taken out of the intake
# documents by PostgreSQL (decoding 100,000 documents in Python would cost more than the draw).
_ALLOCATION_INPUTS = (
    applications.c.application_id, applications.c.campaign_id, applications.c.family_account,
    applications.c.child_id, applications.c.choices, applications.c.keep_with_applications,
    applications.c.arrival_position, applications.c.arrival_rank, applications.c.intake_hold,
    applications.c.child["birth_date"].astext.label("birth_date"),
    applications.c.child["disability_allowance"].as_boolean().label("disability_allowance"),
    applications.c.household["single_parent"].as_boolean().label("single_parent"),
    applications.c.household["quotient_tranche"].as_integer().label("quotient_tranche"),
    applications.c.household["residence_arrondissement"].as_integer().label("residence_arrondissement"),
    applications.c.household["validated_facts"].label("validated_facts"),  # issue 16; absent before it
)


def active_applications(connection: Connection, campaign_id: UUID) -> list[Mapping[str, Any]]:
    """Not withdrawn, in arrival order: the allocation's inputs (application_rows.domain_application)."""
    return connection.execute(
        select(*_ALLOCATION_INPUTS)
        .where(applications.c.campaign_id == campaign_id, applications.c.withdrawn_at.is_(None))
        .order_by(applications.c.arrival_position)).mappings().all()


# A draw's reading of the same columns, its ids as their text: the draw hands every id on as text (to the core, its
# documents and rows), and the driver's 500,000 UUID objects turned back into text were a third of its reading.
_AS_TEXT = {"application_id": Text(), "campaign_id": Text(), "child_id": Text(), "choices": ARRAY(Text),
            "keep_with_applications": ARRAY(Text)}
_DRAW_INPUTS = tuple(cast(column, _AS_TEXT[column.name]).label(column.name) if column.name in _AS_TEXT else column
                     for column in _ALLOCATION_INPUTS)


def draw_applications(connection: Connection, campaign_id: UUID) -> list[dict[str, Any]]:
    """`active_applications` with ids as text, as plain dicts read through the driver's cursor: for a draw's 100,000
    rows, SQLAlchemy's row objects cost as much as the driver's reading."""
    compiled = (select(*_DRAW_INPUTS)
                .where(applications.c.campaign_id == campaign_id, applications.c.withdrawn_at.is_(None))
                .order_by(applications.c.arrival_position)).compile(dialect=connection.dialect)
    with connection.connection.driver_connection.cursor(row_factory=dict_row) as cursor:
        return cursor.execute(str(compiled), compiled.params).fetchall()


def undecided_applications(connection: Connection, campaign_id: UUID, among: list[UUID] | None = None
                           ) -> list[Mapping[str, Any]]:
    """Active and not decided, in arrival order; `among` limits the search to those applications."""
    decided = exists().where(decisions.c.application_id == applications.c.application_id)
    query = (select(*_ALLOCATION_INPUTS)
             .where(applications.c.campaign_id == campaign_id, applications.c.withdrawn_at.is_(None), ~decided)
             .order_by(applications.c.arrival_position))
    if among is not None:
        query = query.where(applications.c.application_id.in_(among))
    return connection.execute(query).mappings().all()


def family_histories(connection: Connection, campaign: CampaignCopy) -> dict[UUID, FamilyHistory]:
    """Per child applying to the campaign, from this service's own records of the decided campaigns of
    the same kind that closed before this one opened: how many the child applied to (and did not
    withdraw from) without ever being offered a place, and whether the latest of them was one."""
    earlier = (select(campaigns.c.campaign_id, campaigns.c.closes_at)
               .where(campaigns.c.kind == campaign.snapshot["kind"],
                      campaigns.c.closes_at < datetime.fromisoformat(campaign.snapshot["opens_at"]),
                      exists().where(and_(allocation_runs.c.campaign_id == campaigns.c.campaign_id,
                                          allocation_runs.c.kind == "published")))
               .subquery())
    latest = connection.execute(select(earlier.c.campaign_id).order_by(earlier.c.closes_at.desc()).limit(1)
                                ).scalar_one_or_none()
    if latest is None:
        return {}
    children = select(applications.c.child_id).where(applications.c.campaign_id == campaign.campaign_id)
    offered = exists().where(places.c.application_id == applications.c.application_id)
    rows = connection.execute(
        select(applications.c.child_id, applications.c.campaign_id)
        .join(earlier, earlier.c.campaign_id == applications.c.campaign_id)
        .join(decisions, decisions.c.application_id == applications.c.application_id)
        .where(applications.c.child_id.in_(children), applications.c.withdrawn_at.is_(None), ~offered))
    unsuccessful: dict[UUID, set[UUID]] = defaultdict(set)
    for row in rows:
        unsuccessful[row.child_id].add(row.campaign_id)
    return {child_id: FamilyHistory(len(campaign_ids), latest in campaign_ids)
            for child_id, campaign_ids in unsuccessful.items()}


# --- lottery seeds ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class StoredSeed:
    campaign_id: UUID
    seed: bytes  # opened: the lottery secret itself (store/seed_vault.py)
    commitment: str
    committed_at: datetime
    revealed_at: datetime | None


def save_seed(connection: Connection, campaign_id: UUID, seed: bytes, commitment: str, now: datetime) -> bool:
    """False when the campaign already has its seed: a seed, once committed, is never replaced."""
    stored = connection.execute(insert(lottery_seeds).values(
        campaign_id=campaign_id, seed=seed_vault.installed().seal(campaign_id, seed), commitment=commitment,
        committed_at=now,
    ).on_conflict_do_nothing(index_elements=["campaign_id"]).returning(lottery_seeds.c.campaign_id)).first()
    return stored is not None


def get_seed(connection: Connection, campaign_id: UUID) -> StoredSeed | None:
    row = connection.execute(select(lottery_seeds).where(lottery_seeds.c.campaign_id == campaign_id)).first()
    if row is None:
        return None
    return StoredSeed(row.campaign_id, seed_vault.installed().open(row.campaign_id, row.seed), row.commitment,
                      row.committed_at, row.revealed_at)


def seal_clear_seeds(connection: Connection) -> int:
    """Seal the seeds written in clear before the service had its key; the number sealed."""
    vault = seed_vault.installed()
    if not vault.seals:
        return 0
    sealed = 0
    for row in connection.execute(select(lottery_seeds.c.campaign_id, lottery_seeds.c.seed).with_for_update()):
        if not seed_vault.is_sealed(row.seed):
            connection.execute(lottery_seeds.update().where(lottery_seeds.c.campaign_id == row.campaign_id)
                               .values(seed=vault.seal(row.campaign_id, row.seed)))
            sealed += 1
    return sealed


def mark_revealed(connection: Connection, campaign_id: UUID, now: datetime) -> None:
    connection.execute(lottery_seeds.update().where(lottery_seeds.c.campaign_id == campaign_id)
                       .values(revealed_at=now))


# --- runs and decisions -----------------------------------------------------------------------------

def save_run(connection: Connection, run_id: UUID, campaign_id: UUID, kind: str, now: datetime, *,
             seed: bytes | None = None, statistics: dict | None = None, bundle: dict | None = None) -> None:
    # The bundle goes as text the server casts, not through the driver's JSON adapter: see json_text.
    connection.execute(allocation_runs.insert().values(
        run_id=run_id, campaign_id=campaign_id, kind=kind, seed_hex=None if seed is None else seed.hex(),
        statistics=statistics, created_at=now,
        bundle=None if bundle is None else cast(bindparam("bundle_text", json_text(bundle), type_=Text), JSON)))


def queue_run(copies: Copies, run_id: UUID, campaign_id: UUID, kind: str, now: datetime, *,
              seed: bytes | None = None, statistics: dict | None = None, bundle: dict | None = None) -> None:
    """`save_run` through `copies` (bulk_copy.copies_in_order): a large draw's bundle is about a second of the
    server's CPU, taken on the other core while the draw makes its decisions. The bundle is stored in the same text
    as by `save_run` (bulk_copy.json_text)."""
    copies.copy(allocation_runs, [dict(
        run_id=run_id, campaign_id=campaign_id, kind=kind, seed_hex=None if seed is None else seed.hex(),
        statistics=statistics, bundle=bundle, created_at=now)])


# A run without its bundle, which for a large campaign is tens of megabytes read only to be served.
_RUN = select(*(column for column in allocation_runs.c if column.name != "bundle"))


def allocation_run(connection: Connection, run_id: UUID):
    return connection.execute(_RUN.where(allocation_runs.c.run_id == run_id)).first()


def published_run(connection: Connection, campaign_id: UUID):
    return connection.execute(_RUN.where(allocation_runs.c.campaign_id == campaign_id,
                                         allocation_runs.c.kind == "published")).first()


def latest_dry_run(connection: Connection, campaign_id: UUID):
    return connection.execute(_RUN.where(allocation_runs.c.campaign_id == campaign_id,
                                         allocation_runs.c.kind == "dry_run")
                              .order_by(allocation_runs.c.created_at.desc()).limit(1)).first()


def published_bundle(connection: Connection, campaign_id: UUID) -> str | None:
    """The draw bundle, in the very text it was published as."""
    return connection.execute(select(allocation_runs.c.bundle.cast(Text))
                              .where(allocation_runs.c.campaign_id == campaign_id,
                                     allocation_runs.c.kind == "published",
                                     allocation_runs.c.bundle.is_not(None))).scalar_one_or_none()


def family_decision(connection: Connection, application_id: UUID, family_account: str):
    """The decision on one of the family's applications, with the application; None if not theirs."""
    return connection.execute(
        select(applications.c.application_id, applications.c.campaign_id, applications.c.choices,
               decisions.c.outcome, decisions.c.offer_id, decisions.c.waitlist, decisions.c.reasons,
               decisions.c.explanation, decisions.c.decided_at, decisions.c.run_id)
        .join(decisions, decisions.c.application_id == applications.c.application_id, isouter=True)
        .where(applications.c.application_id == application_id,
               applications.c.family_account == family_account)).first()


def campaign_decisions(connection: Connection, campaign_id: UUID):
    return connection.execute(select(decisions).where(decisions.c.campaign_id == campaign_id)
                              .order_by(decisions.c.application_id)).all()


def decision_explanation(connection: Connection, application_id: UUID) -> dict[str, Any]:
    return connection.execute(select(decisions.c.explanation).where(decisions.c.application_id == application_id)
                              ).scalar_one()


def queue_cutoffs(copies: Copies, run_id: UUID, cutoffs: Mapping[str, list[dict[str, Any]]]) -> None:
    """Each offer's cutoffs of a draw whose explanations are stored compact (ResultDocuments.cutoffs)."""
    copies.copy(offer_cutoffs, (dict(run_id=run_id, offer_id=offer_id, cutoffs=documents)
                                for offer_id, documents in cutoffs.items()))


def explanation(connection: Connection, run_id: UUID, stored: dict[str, Any]) -> dict[str, Any]:
    """The explanation document of a decision of run `run_id` whose stored explanation is `stored` (either form)."""
    needed = sorted(set(offers_needing_cutoffs(stored)))
    if not needed:
        return rendered(stored, {})
    found = connection.execute(select(offer_cutoffs.c.offer_id, offer_cutoffs.c.cutoffs)
                               .where(offer_cutoffs.c.run_id == run_id,
                                      offer_cutoffs.c.offer_id.in_([UUID(offer_id) for offer_id in needed])))
    return rendered(stored, {str(offer_id): cutoffs for offer_id, cutoffs in found})
