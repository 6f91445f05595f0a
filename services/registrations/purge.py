"""`python -m services.registrations.purge`: enforce the retention periods once (docs/privacy.md); run daily."""
from __future__ import annotations

import sys

from services.registrations.settings import RegistrationsSettings
from services.registrations.usecases.purge import RegistrationsRetention, purge
from shared.retention import command


def retention(settings: RegistrationsSettings) -> RegistrationsRetention:
    return RegistrationsRetention(applications=settings.application_retention,
                                  removed_children=settings.removed_child_retention, inbox=settings.inbox_retention)


def main() -> int:
    settings = RegistrationsSettings.from_env("registrations-purge")
    return command(settings, lambda engine, now: purge(engine, now, retention(settings)))


if __name__ == "__main__":
    sys.exit(main())
