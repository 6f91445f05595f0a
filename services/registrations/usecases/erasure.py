"""Erasure (RGPD art. 17; issue 17, docs/privacy.md): a family's household and children deleted, its ledger
kept pseudonymised (appeals, statistics), and `family.erased` announced in the same transaction so that every
other service erases what it holds. Refused while the family has an application still open.

The erasure is audited like every write, without keeping what it erased: the family's chain `family:<account>`
goes whole (it names the household's facts and the children, before → after), and one entry starts the chain of
the records kept, `family:<pseudonym>`: who asked (the family, under its pseudonym, or the manager acting for it),
how many rows were pseudonymised or deleted, and the erased chain's length and last hash (a copy of that chain
handed over earlier can still be shown to be the one that was kept, and nothing of its content is)."""
from __future__ import annotations

import secrets
from dataclasses import replace
from datetime import datetime
from typing import Any

import redis
from sqlalchemy import Connection, Engine, cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONB

from services.registrations.domain.applications import ACTIVE_STATUSES, AGENT_ROLE
from services.registrations.store.audit import (
    PARENT_ROLE,
    chain_head,
    chain_of,
    family_itself,
    record_family_change,
)
from services.registrations.store.documents import delete_family_documents
from services.registrations.store.events import SOURCE
from services.registrations.store.household_cache import cache_key
from services.registrations.store.tables import (
    application_transitions,
    applications,
    audit,
    children,
    households,
    outbox,
)
from shared.audit import Actor, purge_chains
from shared.events import make_event
from shared.outbox import record_event


class ErasureRefused(Exception):
    """A legal hold: what the family must settle first."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


def erase_family(engine: Engine, client: redis.Redis, family_account: str, requested_by: str, now: datetime,
                 actor: Actor | None = None) -> str:
    """The pseudonym the family's kept records now carry. Idempotent: a family already erased has nothing left
    to erase, and a second request announces and records nothing. `actor`: the family itself by default, or the
    manager acting on its request."""
    pseudonym = f"erased-{secrets.token_hex(8)}"
    with engine.begin() as connection:
        connection.execute(select(households.c.family_account).where(households.c.family_account == family_account)
                           .with_for_update())
        open_count = connection.execute(select(func.count()).select_from(applications).where(
            applications.c.family_account == family_account,
            applications.c.status.in_([str(status) for status in ACTIVE_STATUSES]))).scalar_one()
        if open_count:
            raise ErasureRefused("open-application", f"{open_count} application(s) of this family are still open "
                                 "(received, offered, waitlisted or confirmed): withdraw them, or wait for the end "
                                 "of the activity, before erasing.")
        kept = connection.execute(update(applications).where(applications.c.family_account == family_account).values(
            family_account=pseudonym, child=cast({"erased": True}, JSONB), household=cast({"erased": True}, JSONB),
        )).rowcount
        forget_actors(connection, family_account, pseudonym)
        # The supporting documents (their large objects too) and the validations they support go first: they name
        # the household.
        documents_deleted = delete_family_documents(connection, family_account)
        counts = {"applications_pseudonymised": kept,
                  "children_deleted": connection.execute(delete(children).where(
                      children.c.family_account == family_account)).rowcount,
                  "households_deleted": connection.execute(delete(households).where(
                      households.c.family_account == family_account)).rowcount}
        counts["documents_deleted"] = documents_deleted
        erased_chain = chain_head(connection, family_account)
        # What agents did for the family names its facts (before → after): the chain goes whole, as retention
        # purges it, so that the chains kept stay checkable from their first entry.
        counts["audit_entries_deleted"] = purge_chains(connection, audit, [chain_of(family_account)])
        # Events already published still carry the family's data: the relay has sent them, they need not stay.
        connection.execute(delete(outbox).where(outbox.c.published_at.is_not(None),
                                                outbox.c.envelope["data"]["family_account"].astext
                                                == family_account))
        if any(counts.values()):
            record_event(connection, outbox, make_event(
                "family.erased", source=SOURCE, subject=f"families/{pseudonym}",
                data={"family_account": family_account, "pseudonym": pseudonym, "requested_by": requested_by,
                      "erased_at": now}), key=family_account)
            _audit_erasure(connection, actor or family_itself(family_account), family_account, pseudonym, now,
                           {**counts, "audit_chain_last_hash": erased_chain.hash if erased_chain else None})
    client.delete(cache_key(family_account))
    return pseudonym


def _audit_erasure(connection: Connection, actor: Actor, family_account: str, pseudonym: str, now: datetime,
                   counts: dict[str, Any]) -> None:
    """The erasure's one entry, on the kept records' chain: the family (its account replaced by the pseudonym) or
    the manager acting for it; counts and the erased chain's head, never a fact of the family's."""
    if actor.subject == family_account:
        actor = replace(actor, subject=pseudonym)
    actor = replace(actor, on_behalf_of=pseudonym if actor.on_behalf_of or actor.role != PARENT_ROLE else None)
    record_family_change(connection, actor, "family.erase", "family", pseudonym, None, counts, now,
                         family_account=pseudonym)


ERASED_REASON = "motif effacé avec les données de la famille"


def forget_actors(connection: Connection, family_account: str, pseudonym: str) -> None:
    """Who acted on the kept applications, without the family: an agent's reason is free text typed at the counter
    (often naming the child), it goes; Guichet's own reasons (an expiry, "withdrawn by the parent") name nobody."""
    kept = select(applications.c.application_id).where(applications.c.family_account == pseudonym)
    by_agents = (application_transitions.c.application_id.in_(kept)
                 & (application_transitions.c.actor_role == AGENT_ROLE))
    agents_words = select(application_transitions.c.reason).where(
        by_agents, application_transitions.c.application_id == applications.c.application_id)
    connection.execute(update(applications).where(applications.c.family_account == pseudonym,
                                                  applications.c.reason.in_(agents_words))
                       .values(reason=ERASED_REASON))
    connection.execute(update(application_transitions).where(by_agents).values(reason=ERASED_REASON))
    # The family's own answers name it as their actor: they now name its pseudonym, as its applications do.
    connection.execute(update(application_transitions).where(
        application_transitions.c.application_id.in_(kept), application_transitions.c.actor_subject == family_account)
        .values(actor_subject=pseudonym))
