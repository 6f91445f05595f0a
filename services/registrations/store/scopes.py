"""What a manager's scope (GUICHET_MANAGER_SCOPES, shared.auth) is checked against in registrations: a campaign's
kind, from the latest `campaign.*` snapshot the directory keeps."""
from __future__ import annotations

from uuid import UUID

from sqlalchemy import Engine, select

from services.registrations.store.tables import campaign_terms


def campaign_kind(engine: Engine, campaign_id: UUID) -> str | None:
    """The campaign's kind; None for a campaign registrations has not heard of."""
    with engine.connect() as connection:
        return connection.execute(select(campaign_terms.c.snapshot["kind"].astext)
                                  .where(campaign_terms.c.campaign_id == campaign_id)).scalar_one_or_none()
