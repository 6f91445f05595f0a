"""The campaigns worker: `python -m services.campaigns.worker`.

Announces window instants (the scheduler), publishes the outbox (the relay), and keeps each offer's
places given from allocation's announcements, until SIGTERM.
"""
from __future__ import annotations

from functools import partial

from services.campaigns.bootstrap import CampaignsComponents, build_components
from services.campaigns.handlers.lifecycle import SeasonArchiver, handle_campaign_topic_record
from services.campaigns.handlers.places_given import handle_allocation_record
from services.campaigns.handlers.window_scheduler import WindowScheduler
from services.campaigns.settings import CampaignsSettings
from services.campaigns.store.tables import outbox
from shared.clock import utc_now
from shared.kafka import ConsumerLoop, ensure_topics
from shared.observability import configure_logging
from shared.outbox import OutboxRelay
from shared.runtime import Runtime
from shared.topics import ALLOCATION_EVENTS, CAMPAIGN_EVENTS
from shared.worker import Loop, run_loops


def build_loops(runtime: Runtime, components: CampaignsComponents) -> list[Loop]:
    settings, engine = components.settings, components.engine
    return [
        WindowScheduler(engine, components.clock),
        ConsumerLoop(settings, f"{settings.kafka_topic_prefix}campaigns-places", [ALLOCATION_EVENTS],
                     handler=partial(handle_allocation_record, engine)),
        # The draw's publication (lottery.seed_revealed) makes the campaign `allocated`.
        ConsumerLoop(settings, f"{settings.kafka_topic_prefix}campaigns-lifecycle", [CAMPAIGN_EVENTS],
                     handler=partial(handle_campaign_topic_record, components.writer)),
        SeasonArchiver(components.writer),
        OutboxRelay(engine, outbox, runtime.producer),
    ]


def main() -> None:
    settings = CampaignsSettings.from_env("campaigns-worker")
    configure_logging(settings.service_name, settings.log_level)
    ensure_topics(settings, [CAMPAIGN_EVENTS, ALLOCATION_EVENTS])
    runtime = Runtime(settings)
    try:
        run_loops(build_loops(runtime, build_components(settings, runtime, utc_now)))
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
