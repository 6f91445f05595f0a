"""Access and portability (issue 17, docs/privacy.md): everything registrations holds about a family,
its household, every child (removed ones too), every application with its history."""
from __future__ import annotations

from typing import Any

from sqlalchemy import Engine

from services.registrations.store.tables import application_transitions, applications, metadata
from shared.personal_data import family_records


def export_family(engine: Engine, family_account: str) -> dict[str, Any]:
    with engine.connect() as connection:
        records = family_records(connection, metadata, family_account,
                                 {application_transitions: ("application_id", applications, "application_id")})
    return {"service": "registrations", "family_account": family_account, "records": records}
