"""Demo data: `python -m services.campaigns.demo` (run by `make run`).

Inserts the winter 2026 demo campaigns with their fixed ids, published as the demo data says, and
announces them through the outbox. When a demo campaign's window is already over (the demo data is
dated), its clone for the coming season is published too, the way a manager prepares next winter
from last winter's campaign, so a fresh stack shows upcoming campaigns. A campaign already there is
left as it is, so re-running changes nothing.
"""
from __future__ import annotations

import itertools
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from services.campaigns.bootstrap import build_components
from services.campaigns.demo_data import DEMO_CAMPAIGNS
from services.campaigns.domain import Campaign, clone_campaign, publish_campaign
from services.campaigns.settings import CampaignsSettings
from services.campaigns.usecases.writing import CampaignWriter
from shared.clock import utc_now
from shared.runtime import Runtime

# 52 weeks: the same weekdays, so Monday-to-Friday stages stay Monday to Friday.
SEASON = timedelta(days=364)


def next_season(demo: Campaign, now: datetime) -> Campaign | None:
    """The clone of a past demo campaign for its next season, with ids that are the same at every run."""
    seasons = 0
    while demo.closes_at + seasons * SEASON <= now:
        seasons += 1
    if seasons == 0:
        return None
    serial = itertools.count()
    title = demo.title.replace(str(demo.opens_at.year), str(demo.opens_at.year + seasons))
    return clone_campaign(demo, shift=seasons * SEASON, title=title,
                          new_id=lambda: str(uuid.uuid5(uuid.UUID(str(demo.id)), f"season-{seasons}-{next(serial)}")))


def load_demo_campaigns(writer: CampaignWriter, now: datetime) -> list[str]:
    """Titles of the campaigns inserted by this call."""
    inserted = []
    for demo in DEMO_CAMPAIGNS:
        # Published through the domain at the demo's own publication instant, so its rules are checked.
        published = publish_campaign(replace(demo, published_at=None), demo.published_at)
        if writer.add(published) is not None:
            inserted.append(demo.title)
        upcoming = next_season(demo, now)
        if upcoming is not None and writer.add(publish_campaign(upcoming, now)) is not None:
            inserted.append(upcoming.title)
    return inserted


def main() -> None:
    settings = CampaignsSettings.from_env("campaigns-demo")
    runtime = Runtime(settings)
    try:
        inserted = load_demo_campaigns(build_components(settings, runtime, utc_now).writer, utc_now())
    finally:
        runtime.close()
    for title in inserted:
        print(f"demo campaign loaded: {title}")
    if not inserted:
        print("demo campaigns already there, left as they were")


if __name__ == "__main__":
    main()
