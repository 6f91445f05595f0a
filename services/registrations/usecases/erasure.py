"""Erasure (RGPD art. 17; issue 17, docs/privacy.md): a family's household and children deleted, its ledger
kept pseudonymised (appeals, statistics), and `family.erased` announced in the same transaction so that every
other service erases what it holds. Refused while the family has an application still open."""
from __future__ import annotations

import secrets
from datetime import datetime

import redis
from sqlalchemy import Connection, Engine, cast, delete, func, select, update
from sqlalchemy.dialects.postgresql import JSONB

from services.registrations.domain.applications import ACTIVE_STATUSES, AGENT_ROLE
from services.registrations.store.audit import chain_of
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
from shared.audit import purge_chains
from shared.events import make_event
from shared.outbox import record_event


class ErasureRefused(Exception):
    """A legal hold: what the family must settle first."""

    def __init__(self, code: str, detail: str):
        super().__init__(detail)
        self.code, self.detail = code, detail


def erase_family(engine: Engine, client: redis.Redis, family_account: str, requested_by: str, now: datetime) -> str:
    """The pseudonym the family's kept records now carry. Idempotent: a family already erased has nothing left
    to erase, and a second request announces nothing."""
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
        deleted = connection.execute(delete(children).where(children.c.family_account == family_account)).rowcount
        deleted += connection.execute(delete(households).where(households.c.family_account == family_account)).rowcount
        # What agents did for the family names its facts (before → after): the chain goes whole, as retention
        # purges it, so that the chains kept stay checkable from their first entry.
        deleted += purge_chains(connection, audit, [chain_of(family_account)])
        # Events already published still carry the family's data: the relay has sent them, they need not stay.
        connection.execute(delete(outbox).where(outbox.c.published_at.is_not(None),
                                                outbox.c.envelope["data"]["family_account"].astext
                                                == family_account))
        if kept or deleted:
            record_event(connection, outbox, make_event(
                "family.erased", source=SOURCE, subject=f"families/{pseudonym}",
                data={"family_account": family_account, "pseudonym": pseudonym, "requested_by": requested_by,
                      "erased_at": now}), key=family_account)
    client.delete(cache_key(family_account))
    return pseudonym


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
