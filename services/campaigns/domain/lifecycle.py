"""A campaign's life after its window (docs/campaigns.md#lifecycle): `allocated` when its draw is
published, `archived` by a manager or once its season is over; and the terms that bound what
follows the draw: waitlist promotion stops at `waitlist_closes_at`, a confirmed place is given up
for a full credit until `free_withdrawal_until`, then for a credit less `late_withdrawal_fee_cents`
(no credit when None)."""
from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta

from services.campaigns.domain.model import Campaign, CampaignStatus
from services.campaigns.domain.paris_time import paris_date, require_aware
from services.campaigns.domain.status import require_status, status_at
from services.campaigns.domain.values import is_int
from shared.domain.violations import Violation

# A campaign is archived by itself this long after its last offer's last day (Paris calendar):
# time for the last withdrawals, credits and questions, then it leaves the managers' working list.
ARCHIVE_AFTER_SEASON = timedelta(days=30)
MAX_WITHDRAWAL_FEE_CENTS = 2**31 - 1
ARCHIVABLE = frozenset({CampaignStatus.DRAFT, CampaignStatus.CLOSED, CampaignStatus.ALLOCATED,
                        CampaignStatus.ARCHIVED})


def record_draw_published(campaign: Campaign, published_at: datetime, now: datetime) -> Campaign:
    """`allocated` from the draw's publication on. Told again (a redelivered announcement), or told
    about a campaign already archived, nothing changes; a draw never publishes before the close, so a
    campaign not yet closed is refused."""
    require_aware(published_at, "published_at")
    status = status_at(campaign, now)
    if status in (CampaignStatus.ALLOCATED, CampaignStatus.ARCHIVED):
        return campaign
    require_status(campaign, now, {CampaignStatus.CLOSED}, "campaign.not_closed",
                   "Les places s'attribuent une fois les inscriptions closes")
    return replace(campaign, allocated_at=published_at)


def archive(campaign: Campaign, now: datetime) -> Campaign:
    """A manager archives a draft, or a campaign whose window has closed. Archiving twice changes
    nothing (the first instant stays)."""
    if campaign.archived_at is not None:
        return campaign
    require_status(campaign, now, ARCHIVABLE, "campaign.not_archivable",
                   "Seule une campagne brouillon, close ou attribuée s'archive")
    return replace(campaign, archived_at=now)


def season_over(campaign: Campaign, now: datetime) -> bool:
    """Published, closed or allocated, and every offer ended ARCHIVE_AFTER_SEASON ago or more."""
    if status_at(campaign, now) not in (CampaignStatus.CLOSED, CampaignStatus.ALLOCATED) or not campaign.offers:
        return False
    last_day = max(offer.ends_on for offer in campaign.offers)
    return paris_date(now) > last_day + ARCHIVE_AFTER_SEASON


def lifecycle_violations(campaign: Campaign) -> list[Violation]:
    violations = []
    for name in ("waitlist_closes_at", "free_withdrawal_until"):
        instant = getattr(campaign, name)
        if instant is not None and (not isinstance(instant, datetime) or instant.utcoffset() is None):
            violations.append(Violation("datetime.timezone_required", name, "L'instant doit porter un fuseau horaire."))
    if not violations and campaign.waitlist_closes_at is not None and campaign.closes_at.utcoffset() is not None \
            and campaign.waitlist_closes_at < campaign.effective_closes_at:
        violations.append(Violation(
            "waitlist.closes_before_window", "waitlist_closes_at",
            "Les listes d'attente servent après la fermeture des inscriptions : elles ferment après elle.",
        ))
    fee = campaign.late_withdrawal_fee_cents
    if fee is not None and (not is_int(fee) or not 0 <= fee <= MAX_WITHDRAWAL_FEE_CENTS):
        violations.append(Violation(
            "withdrawal.fee_out_of_range", "late_withdrawal_fee_cents",
            "Les frais de désistement tardif sont un nombre entier de centimes, 0 ou plus (vide : aucun remboursement).",
        ))
    return violations
