"""`python -m services.campaigns.purge`: enforce the retention periods once (docs/privacy.md); run daily."""
from __future__ import annotations

import sys

from services.campaigns.settings import CampaignsSettings
from services.campaigns.usecases.purge import purge
from shared.retention import command


def main() -> int:
    settings = CampaignsSettings.from_env("campaigns-purge")
    return command(settings, lambda engine, now: purge(engine, now, settings.inbox_retention,
                                                       settings.audit_retention))


if __name__ == "__main__":
    sys.exit(main())
