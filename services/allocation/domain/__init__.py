"""The allocation core: pure Python, no I/O, deterministic. See docs/allocation.md."""
from services.allocation.domain.allocate import allocate
from services.allocation.domain.bundle import BUNDLE_FORMAT, draw_bundle, result_records, verify_draw
from services.allocation.domain.explain import describe
from services.allocation.domain.lottery import (
    commitment,
    format_number,
    generate_seed,
    lottery_number,
    verify_commitment,
)
from services.allocation.domain.model import Application, CampaignPolicy, Facts, Offer, PriorityCriterion, ReservedShare
from services.allocation.domain.result import (
    AllocationResult,
    Cutoff,
    Explanation,
    OfferExplanation,
    OfferStatistics,
    Outcome,
    Reason,
    ReasonCode,
    ReserveUse,
    Standing,
    Statistics,
    Status,
    TieBreak,
    WaitlistPosition,
)

__all__ = [
    "BUNDLE_FORMAT", "AllocationResult", "Application", "CampaignPolicy", "Cutoff",
    "Explanation", "Facts", "Offer", "OfferExplanation", "OfferStatistics", "Outcome", "PriorityCriterion", "Reason",
    "ReasonCode", "ReserveUse", "ReservedShare", "Standing", "Statistics", "Status", "TieBreak",
    "WaitlistPosition", "allocate", "commitment", "describe", "draw_bundle", "format_number",
    "generate_seed", "lottery_number", "result_records", "verify_commitment", "verify_draw",
]
