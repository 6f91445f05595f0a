"""The campaigns domain in plain Python: no web, broker, cache or database, and no clock of its
own (every function that needs the time takes `now`). Adapters map these values to storage,
schemas and events."""
from services.campaigns.domain.campaign_actions import (
    archive_campaign,
    close_early,
    create_campaign,
    extend_close,
    mark_allocated,
    publish_campaign,
    update_campaign,
)
from services.campaigns.domain.cloning import clone_campaign
from services.campaigns.domain.eligibility import (
    age_on,
    fits_age_range,
    is_age_eligible,
)
from services.campaigns.domain.errors import CampaignNotFound, OfferNotFound, StaleVersion
from services.campaigns.domain.kinds import KNOWN_KINDS, KnownKind
from services.campaigns.domain.lifecycle import (
    ARCHIVE_AFTER_SEASON,
    lifecycle_violations,
    record_draw_published,
    season_over,
)
from services.campaigns.domain.model import Campaign, CampaignStatus, Offer, window_end
from services.campaigns.domain.offer_actions import (
    add_offer,
    remove_offer,
    update_offer,
)
from services.campaigns.domain.paris_time import (
    parse_paris_datetime,
    to_paris_iso,
)
from services.campaigns.domain.policy import (
    AllocationPolicy,
    PriorityCriterion,
    ReservedShare,
    acceptance_cutoff,
    acceptance_deadline,
    reserved_places,
)
from services.campaigns.domain.rules import campaign_violations, validate_campaign
from services.campaigns.domain.status import (
    Transition,
    TransitionKind,
    due_transitions,
    status_at,
)
from services.campaigns.domain.tariffs import (
    NO_QUOTIENT_TRANCHE,
    TRANCHE_COUNT,
    flat_tariff,
    price_for,
)
from shared.domain.policy import AllocationMode, CriterionName
from shared.domain.violations import RuleViolation, Violation

__all__ = [
    "ARCHIVE_AFTER_SEASON", "acceptance_cutoff", "lifecycle_violations", "record_draw_published", "season_over",
    "window_end",
    "AllocationMode", "AllocationPolicy", "Campaign", "CampaignNotFound", "CampaignStatus", "CriterionName",
    "KNOWN_KINDS", "KnownKind", "NO_QUOTIENT_TRANCHE", "Offer", "OfferNotFound", "PriorityCriterion", "ReservedShare",
    "RuleViolation", "StaleVersion", "TRANCHE_COUNT", "Transition", "TransitionKind", "Violation",
    "acceptance_deadline", "add_offer", "age_on", "archive_campaign", "campaign_violations", "clone_campaign",
    "close_early", "create_campaign", "due_transitions", "extend_close", "fits_age_range", "flat_tariff",
    "is_age_eligible", "mark_allocated", "parse_paris_datetime", "price_for", "publish_campaign", "remove_offer",
    "reserved_places", "status_at", "to_paris_iso", "update_campaign", "update_offer", "validate_campaign",
]
