"""Manager actions on a campaign. Each takes the current campaign and returns the next one,
checked against every rule, or raises RuleViolation and leaves nothing half-changed."""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, date, datetime

from services.campaigns.domain.lifecycle import archive
from services.campaigns.domain.model import Campaign, CampaignStatus, Offer
from services.campaigns.domain.paris_time import to_paris_iso
from services.campaigns.domain.policy import AllocationPolicy
from services.campaigns.domain.rules import validate_campaign
from services.campaigns.domain.status import has_opened, require_status
from shared.domain.violations import RuleViolation, Violation, raise_if_any

EDITABLE_FIELDS = frozenset({
    "title", "description", "kind", "opens_at", "closes_at", "reference_date", "max_choices", "policy",
    "waitlist_closes_at", "free_withdrawal_until", "late_withdrawal_fee_cents", "publication_needs_second_manager",
    "waiting_room", "waiting_room_opens_before_minutes", "waiting_room_admissions_per_minute",
})
# Families applied under these terms: changing them once the window has opened would be unfair. Four eyes is
# fixed then too, so that one manager cannot switch it off just before publishing a draw alone.
FROZEN_ONCE_OPEN = frozenset({"kind", "reference_date", "max_choices", "policy", "late_withdrawal_fee_cents",
                              "publication_needs_second_manager"})
INSTANT_FIELDS = ("opens_at", "closes_at", "waitlist_closes_at", "free_withdrawal_until")
NOT_YET_CLOSED = frozenset({CampaignStatus.DRAFT, CampaignStatus.SCHEDULED, CampaignStatus.OPEN})


def create_campaign(
    *, id: str, title: str, kind: str, description: str, opens_at: datetime, closes_at: datetime,
    reference_date: date, max_choices: int, policy: AllocationPolicy, offers: tuple[Offer, ...] = (),
    waitlist_closes_at: datetime | None = None, free_withdrawal_until: datetime | None = None,
    late_withdrawal_fee_cents: int | None = None, publication_needs_second_manager: bool = True,
    **waiting_room: object,
) -> Campaign:
    """A new draft: nothing is visible to families until it is published."""
    return validate_campaign(Campaign(
        id=id, title=title, kind=kind, description=description,
        opens_at=stored_instant(opens_at, "opens_at"), closes_at=stored_instant(closes_at, "closes_at"),
        reference_date=reference_date, max_choices=max_choices,
        policy=policy, offers=tuple(offers),
        waitlist_closes_at=_optional_instant(waitlist_closes_at, "waitlist_closes_at"),
        free_withdrawal_until=_optional_instant(free_withdrawal_until, "free_withdrawal_until"),
        late_withdrawal_fee_cents=late_withdrawal_fee_cents,
        publication_needs_second_manager=publication_needs_second_manager,
        **waiting_room,  # waiting_room, waiting_room_opens_before_minutes, waiting_room_admissions_per_minute
    ))


def _optional_instant(value: datetime | None, field: str) -> datetime | None:
    return None if value is None else stored_instant(value, field)


def update_campaign(campaign: Campaign, changes: Mapping[str, object], now: datetime) -> Campaign:
    """Change any of EDITABLE_FIELDS. Sending a field's current value is never refused, so a
    client may send the whole campaign back."""
    status = require_status(
        campaign, now, set(CampaignStatus) - {CampaignStatus.ARCHIVED},
        "campaign.archived", "Une campagne archivée ne se modifie plus",
    )
    violations = [
        Violation(
            "campaign.field_not_editable", name,
            "Ce champ ne change pas par une mise à jour : publier, clore, attribuer et archiver sont des actions.",
        )
        for name in changes if name not in EDITABLE_FIELDS
    ]
    raise_if_any(violations)
    normalized = {
        name: stored_instant(value, name) if name in INSTANT_FIELDS and value is not None else value
        for name, value in changes.items()
    }
    changed = {name: value for name, value in normalized.items() if getattr(campaign, name) != value}
    raise_if_any(_lock_violations(campaign, changed, status, now))
    return validate_campaign(replace(campaign, **changed))


def publish_campaign(campaign: Campaign, now: datetime) -> Campaign:
    """Scheduled, or open at once if the window has already started."""
    require_status(campaign, now, {CampaignStatus.DRAFT}, "campaign.already_published", "La campagne est déjà publiée")
    if campaign.effective_closes_at <= now:
        raise RuleViolation.single("window.closes_in_past", "closes_at", _closes_in_past_message(campaign.closes_at))
    return validate_campaign(replace(campaign, published_at=now))


def close_early(campaign: Campaign, now: datetime) -> Campaign:
    require_status(
        campaign, now, {CampaignStatus.OPEN},
        "campaign.not_open", "Seule une campagne ouverte peut être close",
    )
    return replace(campaign, closed_early_at=now)


def extend_close(campaign: Campaign, new_closes_at: datetime, now: datetime) -> Campaign:
    """Push the closing instant later, before the window has closed (a closed window stays closed)."""
    require_status(
        campaign, now, NOT_YET_CLOSED, "window.closed",
        "Les inscriptions sont closes : la fermeture ne se reporte plus",
    )
    if stored_instant(new_closes_at, "closes_at") <= campaign.closes_at:
        raise RuleViolation.single(
            "window.extension_not_later", "closes_at",
            f"La nouvelle fermeture doit être postérieure à l'actuelle ({to_paris_iso(campaign.closes_at)}).",
        )
    return update_campaign(campaign, {"closes_at": new_closes_at}, now)


def mark_allocated(campaign: Campaign, now: datetime) -> Campaign:
    require_status(
        campaign, now, {CampaignStatus.CLOSED}, "campaign.not_closed",
        "Les places s'attribuent une fois les inscriptions closes",
    )
    return replace(campaign, allocated_at=now)


def archive_campaign(campaign: Campaign, now: datetime) -> Campaign:
    """Idempotent: an archived campaign stays as it is (lifecycle.archive)."""
    return archive(campaign, now)


def stored_instant(value: object, field: str) -> datetime:
    """Instants are kept in UTC; a naive one cannot be placed on any clock."""
    if not isinstance(value, datetime) or value.tzinfo is None or value.utcoffset() is None:
        raise RuleViolation.single(
            "datetime.timezone_required", field,
            "L'instant doit porter un fuseau horaire (saisie : parse_paris_datetime).",
        )
    return value.astimezone(UTC)


def _lock_violations(
    campaign: Campaign, changed: Mapping[str, object], status: CampaignStatus, now: datetime,
) -> list[Violation]:
    violations = []
    if has_opened(campaign, now):
        if "opens_at" in changed:
            violations.append(Violation(
                "window.opens_at_locked", "opens_at",
                "Les inscriptions ont ouvert : l'heure d'ouverture ne change plus.",
            ))
        violations += [
            Violation(
                "campaign.field_locked_once_open", name, "Les inscriptions ont ouvert : ce réglage ne change plus.",
            )
            for name in sorted(FROZEN_ONCE_OPEN & changed.keys())
        ]
    new_closes_at = changed.get("closes_at")
    if isinstance(new_closes_at, datetime):
        if status not in NOT_YET_CLOSED:
            violations.append(Violation(
                "window.closed", "closes_at", "Les inscriptions sont closes : la fermeture ne se déplace plus.",
            ))
        elif status is CampaignStatus.OPEN and new_closes_at < campaign.closes_at:
            violations.append(Violation(
                "window.close_moved_earlier", "closes_at",
                "Les inscriptions sont ouvertes : la fermeture se reporte mais ne s'avance pas (clôture anticipée).",
            ))
        elif campaign.published_at is not None and new_closes_at <= now:
            violations.append(Violation("window.closes_in_past", "closes_at", _closes_in_past_message(new_closes_at)))
    return violations


def _closes_in_past_message(closes_at: datetime) -> str:
    return f"La fermeture ({to_paris_iso(closes_at)}) est déjà passée."
