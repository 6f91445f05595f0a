"""Every Kafka topic Guichet uses, with its partition count. Created at start-up when missing.

Keys: campaign events and application traffic are keyed by campaign id, so one campaign's
history keeps its order; the intake log is keyed by family account, so that one campaign's applications
spread over its partitions (several consumers write one campaign's ledger) while a family's submissions stay
in order in one partition — their arrival order is the number intake took in Redis, not the offset; the
billing feed (registration.* events, produced by allocation) is keyed by family account, so one family's
invoice lines arrive in order.
"""
from __future__ import annotations

from dataclasses import dataclass, field

DEAD_LETTER_SUFFIX = ".dlt"


@dataclass(frozen=True)
class TopicSpec:
    name: str
    partitions: int
    description: str
    configs: dict[str, str] = field(default_factory=dict)

    @property
    def dead_letter(self) -> str:
        return self.name + DEAD_LETTER_SUFFIX


# Retention of the topics that carry personal data (docs/privacy.md), explicit rather than the broker's default:
# a record is consumed within seconds, and a week covers any outage a consumer must catch up from. The billing
# feed is read by the city's billing, which keeps its own accounting record of every line: a month, so that a
# billing run late by weeks still finds its lines. Dead-letter topics keep their topic's period
# (shared.kafka.ensure_topics). The campaign topic carries nobody's data (campaigns, lottery commitments).
PERSONAL_DATA_RETENTION = {"retention.ms": str(7 * 24 * 3600 * 1000)}
BILLING_FEED_RETENTION = {"retention.ms": str(31 * 24 * 3600 * 1000)}

CAMPAIGN_EVENTS = TopicSpec("guichet.campaign-events", 6,
                            "campaign.* and lottery.* (seed commitment, reveal) events, keyed by campaign id")
APPLICATION_SUBMISSIONS = TopicSpec(
    "guichet.application-submissions", 12,
    "applications acknowledged at intake (202), keyed by family account (arrival order: the record's "
    "`arrival_number`); the intake consumer writes them to the ledger",
    PERSONAL_DATA_RETENTION,
)
APPLICATION_EVENTS = TopicSpec("guichet.application-events", 12, "application.* ledger events, keyed by campaign id",
                               PERSONAL_DATA_RETENTION)
ALLOCATION_EVENTS = TopicSpec(
    "guichet.allocation-events", 6, "allocation.decided, waitlist.promoted, offer.expired, keyed by campaign id",
    PERSONAL_DATA_RETENTION,
)
# The billing feed: produced by allocation (a place is confirmed when its family accepts it, or given back),
# read by the city's billing (examples/billing_preview is a reference consumer) and by notifications. The
# topic keeps its published name "registration-events" (its events are registration.confirmed and
# registration.cancelled, docs/billing-feed.md); the constant says what it is.
BILLING_FEED = TopicSpec(
    "guichet.registration-events", 6,
    "the billing feed: registration.confirmed and its reversals, produced by allocation, keyed by family account",
    BILLING_FEED_RETENTION,
)

ALL_TOPICS: tuple[TopicSpec, ...] = (
    CAMPAIGN_EVENTS,
    APPLICATION_SUBMISSIONS,
    APPLICATION_EVENTS,
    ALLOCATION_EVENTS,
    BILLING_FEED,
)


def physical_name(name: str, prefix: str = "") -> str:
    """Tests and side-by-side stacks share a broker by prefixing every topic."""
    return f"{prefix}{name}"
