"""The pending marker: an application acknowledged at intake but not yet in the ledger, kept in Redis a day so
its status page can show it while the intake consumer writes it."""
from __future__ import annotations

import json
from datetime import datetime
from typing import Any
from uuid import UUID

import redis

PENDING_SECONDS = 24 * 3600


def pending_key(application_id: UUID | str) -> str:
    return f"reg:pending:{application_id}"


def pending_application(client: redis.Redis, application_id: UUID | str) -> dict[str, Any] | None:
    """The `application.submitted` data intake kept for this application, or None; its instant read back as
    a datetime, as the ledger's rows give it (the status page serialises both the same way)."""
    pending = client.get(pending_key(application_id))
    if pending is None:
        return None
    data = json.loads(pending)
    data["submitted_at"] = datetime.fromisoformat(data["submitted_at"])
    return data
