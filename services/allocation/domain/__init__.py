"""The allocation core: pure Python, no I/O, deterministic. See docs/allocation.md."""
from services.allocation.domain.allocate import allocate
from services.allocation.domain.bundle import (
    BUNDLE_FORMAT,
    SealedDraw,
    check_line,
    draw_bundle,
    facts_commitment,
    line_record,
    result_records,
    sealed_draw,
    verify_draw,
)
from services.allocation.domain.explain import describe
from services.allocation.domain.lottery import (
    applications_root,
    commitment,
    format_number,
    generate_secret,
    generate_seed,
    inclusion_proof,
    lottery_number,
    proves_inclusion,
    secret_commitment,
    secret_parts,
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
    "BUNDLE_FORMAT", "AllocationResult", "SealedDraw", "applications_root", "check_line", "facts_commitment",
    "generate_secret", "inclusion_proof", "line_record", "proves_inclusion", "sealed_draw", "secret_commitment",
    "secret_parts", "Application", "CampaignPolicy", "Cutoff",
    "Explanation", "Facts", "Offer", "OfferExplanation", "OfferStatistics", "Outcome", "PriorityCriterion", "Reason",
    "ReasonCode", "ReserveUse", "ReservedShare", "Standing", "Statistics", "Status", "TieBreak",
    "WaitlistPosition", "allocate", "commitment", "describe", "draw_bundle", "format_number",
    "generate_seed", "lottery_number", "result_records", "verify_commitment", "verify_draw",
]
