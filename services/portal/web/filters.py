"""The templates' filters: instants and days in French (Paris time), euros, and the services' codes in
plain words."""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from flask import Flask

from services.portal.wording import APPLICATION_STATUSES, CAMPAIGN_STATUSES, KINDS, MODES, ROOM_PHASES
from shared.formatting import euros, long_date, paris_instant


def install_filters(app: Flask) -> None:
    app.jinja_env.filters.update(
        paris=lambda value: paris_instant(as_datetime(value), "fr") if value else "—",
        day=lambda value: long_date(date.fromisoformat(str(value)[:10]), "fr") if value else "—",
        euros=lambda cents: euros(int(cents), "fr"),
        application_status=lambda code: APPLICATION_STATUSES.get(code, code),
        campaign_status=lambda code: CAMPAIGN_STATUSES.get(code, code),
        room_phase=lambda code: ROOM_PHASES.get(code, code),
        mode=lambda code: MODES.get(code, code),
        kind=lambda code: KINDS.get(code, code),
        percent=lambda rate: f"{round(float(rate or 0) * 100)} %",
    )


def as_datetime(value: Any) -> datetime:
    return value if isinstance(value, datetime) else datetime.fromisoformat(str(value).replace("Z", "+00:00"))
