"""The bench's data, made with the services' own functions, and what it reads back afterwards.

- campaigns: the winter 2026 demo campaigns cloned into the future and published through the
  campaigns service's own use case (CampaignService.add), so `campaign.published` goes through
  the outbox, the campaigns worker and Kafka to the registrations worker, as in production;
- households: saved with `save_household` and written through to intake's Redis copy, as the
  households API does after a parent's change;
- tokens: RS256 parent tokens, signed with the bench's development key (the claims of
  `shared.devtokens.issue_token`, without re-reading the key file for each of 20,000 tokens);
- afterwards: the ledger's count and its lag behind the 202s, the listing cache's counters.
"""
from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, fields
from datetime import UTC, date, datetime, timedelta

import jwt
from cryptography.hazmat.primitives import serialization
from sqlalchemy import func, select, text

from bench.submissions import OfferAges, Parent
from services.campaigns.bootstrap import build_components
from services.campaigns.demo_data import (
    CENTRES_LOISIRS_MERCREDI_PRINTEMPS_2026,
    CONSERVATOIRE_ADMISSIONS_2026,
    SPORT_VACANCES_HIVER_2026,
)
from services.campaigns.domain import Campaign, publish_campaign
from services.campaigns.domain.cloning import clone_campaign
from services.campaigns.settings import CampaignsSettings
from services.registrations.domain.household import Child, Household
from services.registrations.store.household_cache import HouseholdReader
from services.registrations.store.households import save_household
from services.registrations.store.intake_guard import READY_KEY
from shared.clock import utc_now
from shared.config import Settings
from shared.devtokens import ensure_dev_keys
from shared.runtime import Runtime
from shared.waiting import WaitTimedOut, wait_until

# The intake campaign: Paris Sport Vacances, a priority lottery — every valid first submission is
# a 202 ("received"), places are drawn after the close, so the surge measures the 202 path.
INTAKE_SOURCE = SPORT_VACANCES_HIVER_2026
UPCOMING_SOURCES = (CENTRES_LOISIRS_MERCREDI_PRINTEMPS_2026, CONSERVATOIRE_ADMISSIONS_2026)
# The demo season moved a year on (364 days keeps weekdays): listed as upcoming.
UPCOMING_SHIFT = timedelta(days=364)


# -- campaigns ----------------------------------------------------------------------------------------

def publish(runtime: Runtime, campaign: Campaign, now: datetime) -> Campaign:
    published = publish_campaign(campaign, now)
    # The campaigns composition root, on the bench's servers, with the campaigns defaults for its own settings.
    shared_settings = {f.name: getattr(runtime.settings, f.name) for f in fields(Settings)}
    if build_components(CampaignsSettings(**shared_settings), runtime, utc_now).writer.add(published) is None:
        raise RuntimeError(f"campaign {published.id} already exists")
    return published


def publish_intake_campaign(runtime: Runtime, label: str) -> Campaign:
    """A copy of Paris Sport Vacances that opened at the start of this second (open now)."""
    now = utc_now()
    draft = clone_campaign(INTAKE_SOURCE, new_opens_at=now.replace(microsecond=0),
                           title=f"{INTAKE_SOURCE.title} — bench {label}")
    return publish(runtime, draft, now)


def publish_upcoming_campaigns(runtime: Runtime) -> list[Campaign]:
    """The other demo campaigns a year later: scheduled, so the public listing shows them."""
    now = utc_now()
    return [publish(runtime, clone_campaign(source, shift=UPCOMING_SHIFT), now) for source in UPCOMING_SOURCES]


def offer_ages(campaign: Campaign) -> list[OfferAges]:
    return [OfferAges(str(offer.id), offer.min_age, offer.max_age) for offer in campaign.offers]


def wait_until_registrations_knows(runtime: Runtime, campaign_id: str, timeout: float = 60) -> None:
    """campaign.published went outbox → campaigns worker → Kafka → registrations worker → campaign_terms."""
    from services.registrations.store.tables import campaign_terms

    def known() -> bool:
        with runtime.engine.connect() as connection:
            return connection.execute(select(campaign_terms.c.campaign_id)
                                      .where(campaign_terms.c.campaign_id == uuid.UUID(campaign_id))).first() is not None

    wait_until(known, timeout=timeout, interval=0.2, what=f"campaign {campaign_id} in the registrations directory")


def wait_until_intake_ready(runtime: Runtime, timeout: float = 90) -> None:
    """The registrations worker marks intake's Redis guard ready once it caught up with the intake log."""
    wait_until(lambda: runtime.redis.exists(READY_KEY), timeout=timeout, interval=0.2, what="intake guard ready (reg:ready)")


# -- households and tokens -----------------------------------------------------------------------------

def household_of(parent: Parent, number: int) -> Household:
    """A family with its child and the facts criteria read (tranche and arrondissement spread evenly)."""
    child = Child(parent.child_id, "Enfant", f"Famille{number:06d}", parent.birth_date)
    return Household(parent.account, quotient_tranche=1 + number % 10, quotient_justified_on=date(2026, 1, 15),
                     arrondissement=1 + number % 20, children=(child,))


def save_households(runtime: Runtime, parents: Sequence[Parent], *, batch: int = 500, threads: int = 4) -> None:
    """In batches of one transaction each, then written through to intake's Redis copy (as the API does)."""
    reader = HouseholdReader(runtime.engine, runtime.redis)

    def save(start: int) -> None:
        chunk = parents[start:start + batch]
        with runtime.engine.begin() as connection:
            saved = [save_household(connection, household_of(parent, start + n)) for n, parent in enumerate(chunk)]
        for household in saved:
            reader.write_through(household)

    with ThreadPoolExecutor(max_workers=threads) as pool:
        list(pool.map(save, range(0, len(parents), batch)))


def open_intake_campaign(stack, runtime: Runtime, label: str) -> Campaign:
    """The registrations and campaigns workers started on `stack` (a BenchStack), an open copy of Paris Sport
    Vacances published and known to registrations."""
    stack.start_worker("registrations")
    stack.start_worker("campaigns")
    campaign = publish_intake_campaign(runtime, label)
    wait_until_registrations_knows(runtime, str(campaign.id))
    return campaign


def ready_parents(runtime: Runtime, settings: Settings, parents: Sequence[Parent]) -> list[str]:
    """The parents' households saved, their tokens (in their order), once intake is ready."""
    save_households(runtime, parents)
    tokens = mint_parent_tokens(settings, [parent.account for parent in parents])
    wait_until_intake_ready(runtime)
    return tokens


def mint_parent_tokens(settings: Settings, accounts: Iterable[str], ttl_seconds: int = 4 * 3600) -> list[str]:
    """Parent tokens with the claims `shared.devtokens.issue_token` puts in (checked by a unit test)."""
    ensure_dev_keys(settings.jwt_private_key_file, settings.jwt_public_key_file)
    key = serialization.load_pem_private_key(settings.jwt_private_key_file.read_bytes(), password=None)
    now = int(time.time())
    common = {"iss": settings.jwt_issuer, "aud": settings.jwt_audience, "roles": ["parent"], "iat": now, "nbf": now,
              "exp": now + ttl_seconds}
    return [jwt.encode({**common, "sub": account, "jti": str(uuid.uuid4())}, key, algorithm="RS256")
            for account in accounts]


# -- what the ledger says afterwards ---------------------------------------------------------------------

@dataclass(frozen=True)
class LedgerStats:
    applications: int
    lag_p50_ms: float | None
    lag_p99_ms: float | None
    lag_max_ms: float | None
    written_over_s: float | None  # first → last recorded_at


def ledger_stats(runtime: Runtime, campaign_id: str) -> LedgerStats:
    """Lag from the 202 (submitted_at, the intake's clock) to the ledger row (recorded_at, the writing
    transaction's start in PostgreSQL) — both clocks of this one machine."""
    query = text("""
        SELECT count(*),
               percentile_cont(0.50) WITHIN GROUP (ORDER BY extract(epoch FROM recorded_at - submitted_at)),
               percentile_cont(0.99) WITHIN GROUP (ORDER BY extract(epoch FROM recorded_at - submitted_at)),
               max(extract(epoch FROM recorded_at - submitted_at)),
               extract(epoch FROM max(recorded_at) - min(recorded_at))
        FROM registrations.applications WHERE campaign_id = :campaign_id""")
    with runtime.engine.connect() as connection:
        count, p50, p99, worst, span = connection.execute(query, {"campaign_id": uuid.UUID(campaign_id)}).one()

    def ms(seconds) -> float | None:
        return None if seconds is None else float(seconds) * 1000

    return LedgerStats(count, ms(p50), ms(p99), ms(worst), None if span is None else float(span))


def ledger_count(runtime: Runtime, campaign_id: str) -> int:
    from services.registrations.store.tables import applications

    with runtime.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(applications)
                                  .where(applications.c.campaign_id == uuid.UUID(campaign_id))).scalar_one()


def wait_for_ledger(runtime: Runtime, campaign_id: str, expected: int, timeout: float = 180,
                    settle: float = 10) -> int:
    """Until the intake consumer wrote `expected` applications (or nothing moved for `settle` s); the count."""
    last, last_change = -1, time.monotonic()

    def written_or_settled() -> bool:
        nonlocal last, last_change
        count = ledger_count(runtime, campaign_id)
        if count != last:
            last, last_change = count, time.monotonic()
        return count >= expected or time.monotonic() - last_change > settle

    try:
        wait_until(written_or_settled, timeout=timeout, interval=0.25, what=f"{expected} applications in the ledger")
    except WaitTimedOut:
        pass
    return last


# -- the listing cache's counters --------------------------------------------------------------------------

CACHE_METRIC = "guichet_campaigns_cache_reads_total"
_SAMPLE = re.compile(r'^(?P<name>[a-zA-Z_:][\w:]*)\{(?P<labels>[^}]*)\}\s+(?P<value>[-+\deE.naif]+)\s*$')


def cache_reads(metrics_text: str, cache: str) -> dict[str, float]:
    """`guichet_campaigns_cache_reads_total{cache=…, served_from=…}` of one cache, by layer."""
    reads: dict[str, float] = {}
    for line in metrics_text.splitlines():
        match = _SAMPLE.match(line.strip())
        if not match or match.group("name") != CACHE_METRIC:
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group("labels")))
        if labels.get("cache") == cache:
            layer = labels.get("served_from", "?")
            reads[layer] = reads.get(layer, 0.0) + float(match.group("value"))
    return reads


def server_time(metrics_text: str, endpoint: str, method: str) -> tuple[float, float]:
    """(requests, seconds) the service itself measured for one endpoint: the count and sum of
    `guichet_http_request_duration_seconds` (shared.observability), summed over its workers."""
    count = total = 0.0
    for line in metrics_text.splitlines():
        match = _SAMPLE.match(line.strip())
        if not match or match.group("name") not in ("guichet_http_request_duration_seconds_count",
                                                     "guichet_http_request_duration_seconds_sum"):
            continue
        labels = dict(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group("labels")))
        if labels.get("endpoint") == endpoint and labels.get("method") == method:
            if match.group("name").endswith("_count"):
                count += float(match.group("value"))
            else:
                total += float(match.group("value"))
    return count, total


def reads_between(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    return {layer: after.get(layer, 0.0) - before.get(layer, 0.0) for layer in sorted(set(before) | set(after))}


def cache_share(reads: dict[str, float]) -> float | None:
    """Share of reads served from a cache layer (memory or Redis) rather than built from the database."""
    total = sum(reads.values())
    if not total:
        return None
    return (total - reads.get("database", 0.0)) / total


def utc_stamp() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")

