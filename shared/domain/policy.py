"""How a campaign allocates and the criteria its priority levels and reserved shares name: the words
campaigns configures with and allocation decides with, one enum each."""
from __future__ import annotations

from enum import StrEnum

# Family-quotient tranches run from 1 (lowest income) to 10; a family without a quotient on file
# pays, and is ranked, as tranche 10.
LOWEST_TRANCHE = 1
HIGHEST_TRANCHE = 10


class AllocationMode(StrEnum):
    FIRST_COME = "fcfs"  # first come, first served: places go in arrival order while the window is open
    LOTTERY = "lottery"
    PRIORITY_LOTTERY = "priority_lottery"


class CriterionName(StrEnum):
    SINGLE_PARENT = "single_parent"
    QUOTIENT_TRANCHE_AT_MOST = "quotient_tranche_at_most"
    DISABILITY_ALLOWANCE = "disability_allowance"
    SIBLING_PLACED = "sibling_placed"
    RESIDENT_OF_OFFER_ARRONDISSEMENT = "resident_of_offer_arrondissement"
    NOT_PLACED_PREVIOUS_CAMPAIGN = "not_placed_previous_campaign"


# The criteria that read a fact a city agent validates from a document (issue 16): a policy requiring validated
# facts counts them as not met on a fact only declared.
VALIDATED_FACT_CRITERIA = frozenset({CriterionName.QUOTIENT_TRANCHE_AT_MOST, CriterionName.SINGLE_PARENT,
                                     CriterionName.DISABILITY_ALLOWANCE})
