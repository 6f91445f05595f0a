"""Erasure of a family (`family.erased`, docs/privacy.md): allocation keeps its copies of the family's
applications (decisions, places and waitlists refer to them; the published draw stays verifiable) under the
pseudonym registrations chose, without the child's and the household's documents; deletes the published
events of its outbox that named the family; and tells billing, on the billing feed, to pseudonymise the family's
lines it keeps for accounting (`family.pseudonymised`). Redelivered, it finds nothing more to change."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, cast, delete, update
from sqlalchemy.dialects.postgresql import JSONB

from services.allocation.store import outbox_events
from services.allocation.store.tables import applications, outbox
from services.allocation.store.validated_facts import forget_validated_tranches
from shared.outbox import forget_in_published_chunks

ERASED = {"erased": True}


def erase_family(connection: Connection, family_account: str, pseudonym: str, erased_at: datetime) -> None:
    kept = connection.execute(update(applications).where(applications.c.family_account == family_account).values(
        family_account=pseudonym, child=cast(ERASED, JSONB), household=cast(ERASED, JSONB))).rowcount
    forget_validated_tranches(connection, family_account)
    connection.execute(delete(outbox).where(outbox.c.published_at.is_not(None),
                                            outbox.c.envelope["data"]["family_account"].astext == family_account,
                                            outbox.c.event_type != "family.pseudonymised"))
    forget_in_published_chunks(connection, outbox, family_account)  # a draw's decisions
    if kept:
        # Billing keeps the family's lines for accounting: it is told to pseudonymise them (docs/billing-feed.md).
        # Only once: afterwards no application carries the account any more.
        outbox_events.publish(connection, outbox_events.family_pseudonymised(family_account, pseudonym, erased_at),
                              key=family_account)
