"""The composition root of both notifications processes: `NotificationsComponents`, built once per process.

`app.py` attaches them to the Flask app (`init_app`), where the views reach them with
`NotificationsComponents.current()`; the worker builds the same components and, from them, the courier
it runs (`worker.build_courier`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

from sqlalchemy import Engine

from services.notifications.settings import NotificationsSettings
from shared.clock import Clock, utc_now
from shared.composition import Components
from shared.runtime import Runtime


@dataclass(frozen=True)
class NotificationsComponents(Components):
    extension: ClassVar[str] = "guichet.notifications"

    engine: Engine
    clock: Clock


def build_components(settings: NotificationsSettings, runtime: Runtime, clock: Clock = utc_now
                     ) -> NotificationsComponents:
    return NotificationsComponents(engine=runtime.engine, clock=clock)
