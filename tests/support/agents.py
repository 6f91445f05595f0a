"""Helpers for the agents' tests: a family's application put straight into the ledger, as intake and then
allocation's decision leave it, and the calls an agent makes."""
from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

from sqlalchemy import Engine, select

from services.registrations.store.ledger import insert_applications
from services.registrations.store.tables import outbox

CHILD_BORN = date(2015, 6, 1)


def ledger_application(engine: Engine, family_account: str, child_id: uuid.UUID, *, status: str = "allocated",
                       offer_expires_in: timedelta = timedelta(hours=72)) -> uuid.UUID:
    """An application of a lottery campaign in the ledger at `status` (an allocated one with its place offered
    until now + `offer_expires_in`), with the transitions that led there."""
    application_id, offer_id, now = uuid.uuid4(), uuid.uuid4(), datetime.now(UTC)
    placed = status in ("allocated", "confirmed")
    row = {
        "application_id": application_id, "campaign_id": uuid.uuid4(), "child_id": child_id,
        "family_account": family_account, "choices": [offer_id], "keep_with_applications": [],
        "sworn_statement": True,
        "child": {"child_id": str(child_id), "first_name": "Enfant0", "last_name": "Durand",
                  "birth_date": "2015-06-01", "disability_allowance": False, "school": None},
        "household": {"single_parent": False, "quotient_tranche": None, "quotient_justified_on": None,
                      "residence_arrondissement": None, "postal_mail": False},
        "hold": {"kind": "none", "offer_id": None, "position": None}, "status": status, "reason": None,
        "submitted_at": now - timedelta(days=1), "intake_partition": 0, "arrival_position": 1,
        "placed_offer_id": offer_id if placed else None,
        "offer_expires_at": now + offer_expires_in if placed else None, "decision": None,
    }
    transitions = [{"application_id": application_id, "from_status": None, "to_status": "received"}]
    if status != "received":
        transitions.append({"application_id": application_id, "from_status": "received", "to_status": status})
    with engine.begin() as connection:
        insert_applications(connection, [row], transitions)
    return application_id


def last_event(engine: Engine) -> dict[str, Any]:
    with engine.connect() as connection:
        return connection.execute(select(outbox.c.envelope).order_by(outbox.c.position.desc()).limit(1)).scalar_one()


def events_of(engine: Engine, application_id: uuid.UUID) -> list[str]:
    with engine.connect() as connection:
        envelopes = connection.execute(select(outbox.c.envelope).order_by(outbox.c.position)).scalars().all()
    return [envelope["type"] for envelope in envelopes
            if envelope["data"].get("application_id") == str(application_id)]


def new_family(engine: Engine, *, first_name: str = "Enfant0", last_name: str = "Durand",
               birth_date: date = CHILD_BORN, **facts: Any) -> tuple[str, uuid.UUID]:
    """A family with a household and one child, stored as a parent's declaration leaves them."""
    from services.registrations.domain.household import Child, Household
    from services.registrations.store.households import save_household

    account, child = f"family-{uuid.uuid4().hex[:8]}", Child(uuid.uuid4(), first_name, last_name, birth_date)
    with engine.begin() as connection:
        save_household(connection, Household(account, children=(child,), **facts))
    return account, child.child_id
