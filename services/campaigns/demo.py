"""Demo data: `python -m services.campaigns.demo` (run by `make run`).

Inserts the winter 2026 demo campaigns with their fixed ids, published as the demo data says, and
announces them through the outbox. A campaign already there is left as it is, so re-running
changes nothing.
"""
from __future__ import annotations

from dataclasses import replace

from services.campaigns.bootstrap import build_components
from services.campaigns.campaign_service import CampaignService
from services.campaigns.clock import utc_now
from services.campaigns.demo_data import DEMO_CAMPAIGNS
from services.campaigns.domain import publish_campaign
from shared.config import Settings
from shared.runtime import Runtime


def load_demo_campaigns(service: CampaignService) -> list[str]:
    """Titles of the campaigns inserted by this call."""
    inserted = []
    for demo in DEMO_CAMPAIGNS:
        # Published through the domain at the demo's own publication instant, so its rules are checked.
        published = publish_campaign(replace(demo, published_at=None), demo.published_at)
        if service.add(published) is not None:
            inserted.append(demo.title)
    return inserted


def main() -> None:
    runtime = Runtime(Settings.from_env("campaigns-demo"))
    try:
        inserted = load_demo_campaigns(build_components(runtime, utc_now).service)
    finally:
        runtime.close()
    for title in inserted:
        print(f"demo campaign loaded: {title}")
    print(f"{len(DEMO_CAMPAIGNS) - len(inserted)} demo campaign(s) already there, left as they were")


if __name__ == "__main__":
    main()
