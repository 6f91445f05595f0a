"""`python -m examples.billing_preview`, from a checkout of the repository (examples are not in the wheel):

    python -m examples.billing_preview consume         read the feed until Ctrl-C / SIGTERM
    python -m examples.billing_preview show [--family F] [--month 2026-03] [--format text|json]

Both read DATABASE_URL, KAFKA_BOOTSTRAP_SERVERS and KAFKA_TOPIC_PREFIX like the services do.
"""
from __future__ import annotations

import argparse
import json
from datetime import date

from examples.billing_preview.consumer import feed_consumer
from examples.billing_preview.invoices import monthly_invoices
from examples.billing_preview.printing import as_json, as_text
from examples.billing_preview.store import ensure_schema, stored_lines
from shared.config import Settings
from shared.db import make_engine
from shared.kafka import ensure_topics
from shared.observability import configure_logging
from shared.topics import BILLING_FEED


def _month(text: str) -> date:
    return date.fromisoformat(f"{text}-01")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m examples.billing_preview",
                                     description="Monthly invoice previews built from Guichet's billing feed.")
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("consume", help="read the feed into the preview until stopped")
    show = commands.add_parser("show", help="print invoice previews")
    show.add_argument("--family", help="one family account (default: every family)")
    show.add_argument("--month", type=_month, help="one month, YYYY-MM (default: every month)")
    show.add_argument("--format", choices=("text", "json"), default="text")
    args = parser.parse_args(argv)

    settings = Settings.from_env("billing-preview")
    engine = make_engine(settings, pool_size=1)
    try:
        ensure_schema(engine)
        if args.command == "consume":
            configure_logging(settings.service_name, settings.log_level)
            ensure_topics(settings, [BILLING_FEED])
            consumer = feed_consumer(settings, engine)
            consumer.install_signal_handlers()
            consumer.run()
        else:
            with engine.connect() as connection:
                invoices = monthly_invoices(stored_lines(connection, args.family, args.month))
            text = (json.dumps(as_json(invoices), indent=2, ensure_ascii=False) + "\n" if args.format == "json"
                    else as_text(invoices))
            print(text, end="")
    finally:
        engine.dispose()
