"""Which problem response each exception of the campaigns domain and use cases is (installed by `app.py`
with `shared.errors.install_domain_error_mapping`), and the problems of the If-Match precondition."""
from __future__ import annotations

from services.campaigns.domain import CampaignNotFound, OfferNotFound, RuleViolation, StaleVersion
from shared.errors import NotFound, Problem, ProblemFor, Unprocessable, field_error


class PreconditionFailed(Problem):
    status, code, title = 412, "precondition-failed", "The campaign changed since you read it"


class PreconditionRequired(Problem):
    status, code, title = 428, "precondition-required", "Send the ETag you read in If-Match"


def rules_broken(error: RuleViolation) -> Problem:
    # One problem naming every broken rule, so a manager's form shows them all at once.
    return Unprocessable("The campaign would break the rules listed in errors; nothing was changed.",
                         errors=[field_error(v.field, v.message, v.code) for v in error.violations])


PROBLEMS: dict[type[Exception], ProblemFor] = {
    RuleViolation: rules_broken,
    CampaignNotFound: lambda error: NotFound(str(error), code="campaign-not-found"),
    OfferNotFound: lambda error: NotFound(str(error), code="offer-not-found"),
    StaleVersion: lambda error: PreconditionFailed(str(error)),
}
