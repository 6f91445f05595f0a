"""What the API's views reach through the application: the database and the clock."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Callable

from flask import current_app
from sqlalchemy import Engine

EXTENSION = "notifications"


@dataclass(frozen=True)
class NotificationsContext:
    engine: Engine
    clock: Callable[[], datetime]


def context() -> NotificationsContext:
    return current_app.extensions[EXTENSION]
