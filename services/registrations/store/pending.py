"""The pending marker: an application acknowledged at intake but not yet in the ledger, kept in Redis a day so
its status page can show it while the intake consumer writes it."""
from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import redis

PENDING_SECONDS = 24 * 3600


def pending_key(application_id: UUID | str) -> str:
    return f"reg:pending:{application_id}"


def pending_application(client: redis.Redis, application_id: UUID | str) -> dict[str, Any] | None:
    """The `application.submitted` data intake kept for this application, or None."""
    pending = client.get(pending_key(application_id))
    return None if pending is None else json.loads(pending)
