"""The application ledger in PostgreSQL: rows, transitions, and the reads parents and managers make.

Every change is one transaction with its transition row and its outbox event (the use cases in
`usecases.ledger` and `usecases.answers` hold the transaction); the application id is the key.
"""
from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any
from uuid import UUID

import orjson
from sqlalchemy import Connection, Engine, Text, Uuid, any_, cast, func, select, text
from sqlalchemy.dialects.postgresql import ARRAY

from services.registrations.domain.applications import (
    AGENT_ROLE,
    ApplicationStatus,
    check_transition,
)
from services.registrations.store.tables import ACTIVE_STATUSES_SQL, application_transitions, applications
from shared.audit import Actor
from shared.db import insert_json_rows, json_rows


class ApplicationNotFound(Exception):
    pass


def known_ids(connection: Connection, ids: list[UUID]) -> set[UUID]:
    """Which of these applications the ledger holds. The ids go as one array parameter: an IN list of a batch's 500
    bound parameters cost the driver more to split and bind than the query cost PostgreSQL."""
    rows = connection.execute(select(applications.c.application_id)
                              .where(applications.c.application_id == any_(cast(ids, ARRAY(Uuid)))))
    return {row.application_id for row in rows}


def active_applications(connection: Connection, pairs: set[tuple[UUID, UUID]]) -> dict[tuple[UUID, UUID], UUID]:
    """The active application of each (campaign, child) pair that has one (the pairs as two arrays, one
    parameter each, for the reason `known_ids` gives; `uq_applications_active_child` answers each pair)."""
    campaigns, children = zip(*pairs) if pairs else ((), ())
    rows = connection.execute(text(f"""
        SELECT a.campaign_id, a.child_id, a.application_id
        FROM unnest(CAST(:campaigns AS uuid[]), CAST(:children AS uuid[])) AS p(campaign_id, child_id)
            JOIN {applications.fullname} AS a ON a.campaign_id = p.campaign_id AND a.child_id = p.child_id
        WHERE a.{ACTIVE_STATUSES_SQL}"""), {"campaigns": list(campaigns), "children": list(children)})
    return {(row.campaign_id, row.child_id): row.application_id for row in rows}


def ledger_row(data: dict[str, Any], partition: int, arrival_position: int, status: ApplicationStatus,
               reason: str | None) -> dict[str, Any]:
    """The ledger row of an `application.submitted` read from `partition` of the intake log, at its arrival
    position in the campaign (`usecases.ledger.IntakeRecord.arrival_position`)."""
    return {
        "application_id": UUID(data["application_id"]), "campaign_id": UUID(data["campaign_id"]),
        "child_id": UUID(data["child"]["child_id"]), "family_account": data["family_account"],
        "choices": [UUID(c) for c in data["choices"]],
        "keep_with_applications": [UUID(a) for a in data["keep_with_applications"]],
        "sworn_statement": data["sworn_statement"], "child": data["child"], "household": data["household"],
        "hold": data["hold"], "status": str(status), "reason": reason,
        "submitted_at": datetime.fromisoformat(data["submitted_at"]),
        "intake_partition": partition, "arrival_position": arrival_position,
        "placed_offer_id": None, "offer_expires_at": None, "decision": None,
    }


def submitted_by(data: dict[str, Any]) -> Actor | None:
    """The city agent who applied for the family (`acted_by_agent` on `application.submitted`); None when the
    family applied itself."""
    if not data.get("acted_by_agent"):
        return None
    return Actor(subject=data.get("agent_subject") or AGENT_ROLE, role=AGENT_ROLE, on_behalf_of=data["family_account"])


def intake_transition(data: dict[str, Any], application_id: UUID, status: str, reason: str | None) -> dict[str, Any]:
    """A submission's first transition in the ledger: by the agent who applied, with the reason the family reads
    (« fait par un agent, le …, motif : … »), when one did; by Guichet's intake otherwise."""
    agent = submitted_by(data)
    return {"application_id": application_id, "from_status": None, "to_status": str(status),
            "reason": data.get("agent_reason") if agent and reason is None else reason,
            "actor_subject": agent.subject if agent else None, "actor_role": agent.role if agent else None}


# What a decision reads and moves of a row: all but the documents and lists intake copied in (the child, the
# household, the choices), which a batch of 500 would decode for nothing. The hold as text, read by orjson: the
# driver's jsonb loader (json.loads) was a tenth of the decisions consumer's time.
_DECISION_COLUMNS = [cast(column, Text).label("hold") if column.name == "hold" else column for column in applications.c
                     if column.name not in ("child", "household", "choices", "keep_with_applications")]


def locked_rows(connection: Connection, ids: Iterable[UUID]) -> dict[UUID, dict[str, Any]]:
    """The rows of these applications (without the child, household and choices intake copied in), locked until
    the transaction ends, in id order (the ORDER BY is applied before the locking clause), so two batches never
    wait on each other crosswise; unknown ids are absent."""
    query = (select(*_DECISION_COLUMNS)
             .where(applications.c.application_id == any_(cast(list(set(ids)), ARRAY(Uuid))))
             .order_by(applications.c.application_id).with_for_update())
    rows = {}
    for row in connection.execute(query).mappings().all():
        rows[row["application_id"]] = values = dict(row)
        values["hold"] = orjson.loads(values["hold"])
    return rows


def write_transitions(connection: Connection, changed: list[dict[str, Any]], transitions: list[dict[str, Any]]) -> None:
    """A batch of moves already checked against the state machine: each changed row's DECIDED_FIELDS (an
    application moved twice in a batch ends as its last move says) in one statement, and the transitions in
    another. Both take their rows as one JSON document (`jsonb_to_recordset`): a draw's 100,000 decisions
    come in batches of 500, and arrays of JSON texts cost the driver a regular expression per quote to escape,
    more than the rest of the batch (docs/PERFORMANCE.md, "Close to families")."""
    if not changed:
        return
    final = {row["application_id"]: row for row in changed}
    connection.execute(text(f"""
        UPDATE {applications.fullname} AS a
        SET status = v.status, reason = v.reason, placed_offer_id = v.placed_offer_id,
            offer_expires_at = v.offer_expires_at, decision = v.decision, updated_at = now()
        FROM jsonb_to_recordset(CAST(:rows AS jsonb))
             AS v(application_id uuid, status text, reason text, placed_offer_id uuid, offer_expires_at timestamptz,
                  decision jsonb)
        WHERE a.application_id = v.application_id"""), {"rows": json_rows(
        {"application_id": row["application_id"], "status": row["status"], "reason": row["reason"],
         "placed_offer_id": row["placed_offer_id"], "offer_expires_at": row["offer_expires_at"],
         "decision": row["decision"]} for row in final.values())})
    insert_json_rows(connection, application_transitions, transitions)


def insert_applications(connection: Connection, rows: list[dict[str, Any]],
                        transitions: Iterable[dict[str, Any]]) -> None:
    """A batch of new rows and their first transitions, one statement each of one JSON parameter: an executemany
    had the driver dump each row's three jsonb documents and bind 18 parameters a row."""
    insert_json_rows(connection, applications, rows)
    insert_json_rows(connection, application_transitions, list(transitions))


def locked(connection: Connection, application_id: UUID, family_account: str | None) -> dict[str, Any]:
    """The application's row, locked until the transaction ends; only the family's own when `family_account` is given."""
    query = select(applications).where(applications.c.application_id == application_id).with_for_update()
    if family_account is not None:
        query = query.where(applications.c.family_account == family_account)
    row = connection.execute(query).mappings().first()
    if row is None:
        raise ApplicationNotFound(application_id)
    return dict(row)


def transition(connection: Connection, row: dict[str, Any], wanted: ApplicationStatus, reason: str | None,
               *, actor: Actor | None = None, **placement: Any) -> None:
    """Move a locked row along the state machine, with its transition row naming who moved it (a worker: none)."""
    check_transition(ApplicationStatus(row["status"]), wanted)
    connection.execute(applications.update().where(applications.c.application_id == row["application_id"])
                       .values(status=str(wanted), reason=reason, updated_at=func.now(), **placement))
    connection.execute(application_transitions.insert().values(
        application_id=row["application_id"], from_status=row["status"], to_status=str(wanted), reason=reason,
        actor_subject=actor.subject if actor else None, actor_role=actor.role if actor else None))


def change_status(connection: Connection, application_id: UUID, wanted: ApplicationStatus, *,
                  family_account: str | None = None, reason: str | None = None, **placement: Any) -> dict[str, Any]:
    """Move one application along the state machine (row locked); returns the row as it was."""
    row = locked(connection, application_id, family_account)
    transition(connection, row, wanted, reason, **placement)
    return row


def counted_position(row: dict[str, Any]) -> tuple[UUID | None, bool]:
    """Where a first-come application counts in intake's Redis counters: (offer, holds a place there).
    (None, False) for applications that count nowhere (lottery campaigns)."""
    hold = row["hold"]
    if hold["kind"] == "none":
        return None, False
    if row["status"] in (ApplicationStatus.ALLOCATED, ApplicationStatus.CONFIRMED) and row.get("placed_offer_id"):
        return row["placed_offer_id"], True
    return UUID(str(hold["offer_id"])), hold["kind"] == "held" and row["status"] == ApplicationStatus.RECEIVED


def application_view(engine: Engine, application_id: UUID, family_account: str | None = None) -> dict[str, Any] | None:
    with engine.connect() as connection:
        query = select(applications).where(applications.c.application_id == application_id)
        if family_account is not None:
            query = query.where(applications.c.family_account == family_account)
        row = connection.execute(query).mappings().first()
        if row is None:
            return None
        history = connection.execute(
            select(application_transitions.c.from_status, application_transitions.c.to_status,
                   application_transitions.c.reason, application_transitions.c.at,
                   application_transitions.c.actor_role)
            .where(application_transitions.c.application_id == application_id)
            .order_by(application_transitions.c.transition_id)).mappings().all()
    return {**row, "history": [{**h, "acted_by_agent": h["actor_role"] == AGENT_ROLE} for h in history]}


def intake_counters(engine: Engine, campaign_id: UUID) -> dict[str, Any]:
    """A campaign's applications received per minute and per offer (first choice and ranked at all)."""
    with engine.connect() as connection:
        minutes = connection.execute(text(
            "SELECT date_trunc('minute', submitted_at) AS minute, count(*) AS received "
            "FROM registrations.applications WHERE campaign_id = :c GROUP BY 1 ORDER BY 1"),
            {"c": campaign_id}).mappings().all()
        offers = connection.execute(text(
            "SELECT offer_id, count(*) FILTER (WHERE rank = 1) AS first_choice, count(*) AS ranked "
            "FROM registrations.applications, unnest(choices) WITH ORDINALITY AS c(offer_id, rank) "
            "WHERE campaign_id = :c GROUP BY offer_id ORDER BY first_choice DESC, ranked DESC"),
            {"c": campaign_id}).mappings().all()
    return {"campaign_id": campaign_id, "received": sum(m["received"] for m in minutes),
            "per_minute": minutes, "per_offer": offers}


def family_applications(engine: Engine, family_account: str) -> list[dict[str, Any]]:
    """The family's applications, newest first, each saying whether a city agent applied for the family."""
    by_agent = (select(application_transitions.c.transition_id)
                .where(application_transitions.c.application_id == applications.c.application_id,
                       application_transitions.c.from_status.is_(None),
                       application_transitions.c.actor_role == AGENT_ROLE).exists().label("applied_by_agent"))
    with engine.connect() as connection:
        rows = connection.execute(select(applications, by_agent).where(applications.c.family_account == family_account)
                                  .order_by(applications.c.submitted_at.desc())).mappings().all()
    return [dict(r) for r in rows]


def family_campaign_statuses(connection: Connection, family_account: str, campaign_id: UUID) -> dict[UUID, str]:
    """The family's applications to one campaign: id → status."""
    rows = connection.execute(select(applications.c.application_id, applications.c.status)
                              .where(applications.c.family_account == family_account,
                                     applications.c.campaign_id == campaign_id))
    return {row.application_id: row.status for row in rows}


def replace_choices(connection: Connection, row: dict[str, Any], choices: list[UUID], keep_with: list[UUID],
                    reason: str, actor: Actor) -> None:
    """New ranked choices (and siblings kept with) for a locked row, with a history entry that moves no status:
    the row keeps its id, arrival position and status."""
    connection.execute(applications.update().where(applications.c.application_id == row["application_id"])
                       .values(choices=choices, keep_with_applications=keep_with, updated_at=func.now()))
    connection.execute(application_transitions.insert().values(
        application_id=row["application_id"], from_status=row["status"], to_status=row["status"], reason=reason,
        actor_subject=actor.subject, actor_role=actor.role))
