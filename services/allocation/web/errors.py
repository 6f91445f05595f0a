"""Which problem (RFC 9457) each exception of the allocation use cases is; app.py installs them."""
from __future__ import annotations

from services.allocation.usecases.draw_lines import NoDrawLine
from services.allocation.usecases.draws import AlreadyPublished, CampaignNotClosed, FirstComeCampaign, UnknownCampaign
from shared.errors import Conflict, NotFound, Problem, ProblemFor


def unknown_campaign(error: UnknownCampaign) -> Problem:
    return NotFound(f"Allocation knows no campaign {error.campaign_id}.", code="campaign-not-found")


PROBLEMS: dict[type[Exception], ProblemFor] = {
    UnknownCampaign: unknown_campaign,
    CampaignNotClosed: lambda error: Conflict("The campaign's window has not closed yet.",
                                              code="campaign-not-closed"),
    FirstComeCampaign: lambda error: Conflict(
        "A first-come campaign is decided as applications arrive: there is nothing to publish.",
        code="first-come-campaign"),
    AlreadyPublished: lambda error: Conflict("The allocation of this campaign is already published.",
                                             code="already-published", allocation_run_id=str(error.run_id)),
    NoDrawLine: lambda error: NotFound("This campaign's published draw has no line of this application (first-come, "
                                       "not drawn yet, or drawn before lines existed).", code="no-draw-line"),
}
