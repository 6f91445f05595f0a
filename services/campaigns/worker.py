"""The campaigns worker: `python -m services.campaigns.worker`.

Announces window instants (the scheduler) and publishes the outbox (the relay) until SIGTERM.
"""
from __future__ import annotations

from services.campaigns.clock import utc_now
from services.campaigns.scheduler import WindowScheduler
from services.campaigns.tables import outbox
from shared.config import Settings
from shared.kafka import ensure_topics
from shared.observability import configure_logging
from shared.outbox import OutboxRelay
from shared.runtime import Runtime
from shared.topics import CAMPAIGN_EVENTS
from shared.worker import run_loops


def main() -> None:
    settings = Settings.from_env("campaigns-worker")
    configure_logging(settings.service_name, settings.log_level)
    ensure_topics(settings, [CAMPAIGN_EVENTS])
    runtime = Runtime(settings)
    try:
        run_loops([WindowScheduler(runtime.engine, utc_now), OutboxRelay(runtime.engine, outbox, runtime.producer)])
    finally:
        runtime.close()


if __name__ == "__main__":
    main()
