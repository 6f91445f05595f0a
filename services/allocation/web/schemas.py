"""What the allocation API answers. Every field is described: the OpenAPI document is the reference."""
import marshmallow as ma

from shared.contracts.allocation import OUTCOMES, WaitlistEntrySchema
from shared.contracts.fields import described

LOTTERY_NUMBER = "lottery number, 64 hexadecimal digits (lower wins); null under first-come"
ARRIVAL_RANK = "arrival rank, 1 for the first application received (first-come only); null otherwise"


class ReserveUseSchema(ma.Schema):
    criterion = described(ma.fields.String, "criterion the seats are reserved for, e.g. quotient_tranche_at_most(3)")
    seats = described(ma.fields.Integer, "seats reserved at the offer (share × capacity, rounded down)")
    taken = described(ma.fields.Integer, "seats taken by children meeting the criterion; the rest were released")


class OfferStatisticsSchema(ma.Schema):
    offer_id = described(ma.fields.UUID, "offer")
    capacity = described(ma.fields.Integer, "places")
    placed = described(ma.fields.Integer, "places given in this run")
    fill_rate = described(ma.fields.Float, "placed / capacity (0 for an offer without places)")
    waitlist_length = described(ma.fields.Integer, "children on its waitlist after the run")
    reserves = ma.fields.List(ma.fields.Nested(ReserveUseSchema), metadata={
        "description": "reserved shares used at this offer, in the policy's order"})


class TierStatisticsSchema(ma.Schema):
    tier = described(ma.fields.Integer, "priority tier at the child's first eligible choice (1 is the best)")
    applications = described(ma.fields.Integer, "applications in this tier")
    placed = described(ma.fields.Integer, "of them, children given a place")
    placement_rate = described(ma.fields.Float, "placed / applications")


class TierPlacedSchema(ma.Schema):
    tier = described(ma.fields.Integer, "priority tier at the offer obtained")
    placed = described(ma.fields.Integer, "children placed with that tier")


class StatisticsSchema(ma.Schema):
    applications = described(ma.fields.Integer, "applications taken into account (withdrawn ones are not)")
    allocated = described(ma.fields.Integer, "applications given a place")
    waitlisted = described(ma.fields.Integer, "applications on at least one waitlist and without a place")
    rejected = described(ma.fields.Integer, "applications neither placed nor waitlisted")
    offers = ma.fields.List(ma.fields.Nested(OfferStatisticsSchema), metadata={"description": "per offer"})
    tiers = ma.fields.List(ma.fields.Nested(TierStatisticsSchema), metadata={
        "description": "placement rate per priority tier"})
    placed_by_tier_obtained = ma.fields.List(ma.fields.Nested(TierPlacedSchema), metadata={
        "description": "children placed, by their tier at the offer they obtained"})


class RunSchema(ma.Schema):
    run_id = described(ma.fields.UUID, "allocation run")
    campaign_id = described(ma.fields.UUID, "campaign")
    kind = described(ma.fields.String, "dry_run (statistics only, nothing decided) or published (the decisions)")
    created_at = described(ma.fields.AwareDateTime, "when it ran (UTC)")
    seed = described(ma.fields.String, "seed drawn with, in hexadecimal: a throwaway one for a dry run, the "
                     "committed one for the published draw; null under first-come", allow_none=True)
    statistics = ma.fields.Nested(StatisticsSchema, allow_none=True, metadata={
        "description": "figures of the run; null for a first-come campaign, decided as applications arrive"})


class PlaceAnswersSchema(ma.Schema):
    tier = described(ma.fields.Integer, "priority tier at the offer of the place (null if not known)",
                     allow_none=True)
    offered = described(ma.fields.Integer, "places offered and not answered yet")
    accepted = described(ma.fields.Integer, "places accepted")
    declined = described(ma.fields.Integer, "places declined")
    expired = described(ma.fields.Integer, "places not accepted in time")
    withdrawn = described(ma.fields.Integer, "places freed by a withdrawal")
    acceptance_rate = described(ma.fields.Float, "accepted / places answered or expired; null before any answer",
                                allow_none=True)


class PublicationRequestSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign")
    requested_by = described(ma.fields.String, "the manager who asked for the publication (its subject)")
    requested_by_name = described(ma.fields.String, "that manager's name as the identity provider gives it",
                                  allow_none=True)
    requested_at = described(ma.fields.AwareDateTime, "when (UTC)")
    approved_by = described(ma.fields.String, "the second manager who approved it; null while it waits",
                            allow_none=True)
    approved_at = described(ma.fields.AwareDateTime, "when it was approved and published (UTC); null while it waits",
                            allow_none=True)
    run_id = described(ma.fields.UUID, "the published run, once approved", allow_none=True)


class AllocationOverviewSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign")
    mode = described(ma.fields.String, "fcfs, lottery or priority_lottery")
    closed_at = described(ma.fields.AwareDateTime, "when the window closed (UTC); null while open", allow_none=True)
    publication_needs_second_manager = described(ma.fields.Boolean, "four eyes: the draw is published when a second "
                                                 "manager approves another's request")
    publication_request = ma.fields.Nested(PublicationRequestSchema, allow_none=True, metadata={
        "description": "the publication asked for (four eyes), pending or approved; null if nobody asked"})
    published = ma.fields.Nested(RunSchema, allow_none=True, metadata={
        "description": "the published allocation; null until the draw (or the first first-come decision)"})
    latest_dry_run = ma.fields.Nested(RunSchema, allow_none=True, metadata={
        "description": "the latest dry run; null if none was made"})
    acceptance_by_tier = ma.fields.List(ma.fields.Nested(PlaceAnswersSchema), metadata={
        "description": "what parents did with the places offered, per priority tier"})


class DrawSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign")
    commitment = described(ma.fields.String, "SHA-256 of the secret seed, in hexadecimal, published at the opening")
    committed_at = described(ma.fields.AwareDateTime, "when the seed was committed (UTC): before the first "
                             "application, unless the campaign opened before this service knew of it")
    seed = described(ma.fields.String, "the seed in hexadecimal, once the draw is published; null before",
                     allow_none=True)
    revealed_at = described(ma.fields.AwareDateTime, "when the seed was revealed (UTC)", allow_none=True)
    allocation_run_id = described(ma.fields.UUID, "the published draw", allow_none=True)
    bundle_url = described(ma.fields.String, "the draw bundle to check with guichet-verify; null before the draw",
                           allow_none=True)
    how_to_verify = described(ma.fields.String, "the command that recomputes the draw from the bundle")


class CutoffSchema(ma.Schema):
    seats = described(ma.fields.String, "kind of seats: open, or the criterion they are reserved for")
    tier = described(ma.fields.Integer, "tier of the last child admitted on these seats")
    lottery_number = described(ma.fields.String, f"the last admitted's {LOTTERY_NUMBER}", allow_none=True)
    arrival_rank = described(ma.fields.Integer, f"the last admitted's {ARRIVAL_RANK}", allow_none=True)


class ChoiceExplanationSchema(ma.Schema):
    offer_id = described(ma.fields.UUID, "offer ranked")
    rank = described(ma.fields.Integer, "its place in the ranked list, 1 for the first choice")
    tier = described(ma.fields.Integer, "the child's priority tier at this offer, 1 is the best")
    criteria_met = ma.fields.List(ma.fields.String(), metadata={
        "description": "priority criteria the child meets at this offer"})
    standing = described(ma.fields.String, "admitted; not_admitted (it was full at the child's turn); not_needed "
                         "(ranked below the place obtained)")
    waitlist_position = described(ma.fields.Integer, "position on its waitlist, if any", allow_none=True)
    cutoffs = ma.fields.List(ma.fields.Nested(CutoffSchema), metadata={
        "description": "when not admitted: the last child admitted on each kind of seats"})


class ReasonSchema(ma.Schema):
    code = described(ma.fields.String, "stable reason code, e.g. too_old, waitlist_full, fact_not_validated")
    offer_id = described(ma.fields.UUID, "the choice it concerns; null for the application as a whole",
                         allow_none=True)
    criterion = described(ma.fields.String, "for fact_not_validated: the priority criterion not counted, because "
                          "the campaign requires facts validated by a city agent and this one was only declared "
                          "(« critère non retenu : fait déclaré, non encore validé par un agent »)", allow_none=True)


class PlaceSchema(ma.Schema):
    offer_id = described(ma.fields.UUID, "offer of the place")
    state = described(ma.fields.String, "offered, accepted, declined, expired or withdrawn")
    offered_at = described(ma.fields.AwareDateTime, "when it was offered (UTC)")
    expires_at = described(ma.fields.AwareDateTime, "accept before this instant (UTC)")


class ExplanationSchema(ma.Schema):
    application_id = described(ma.fields.UUID, "your application")
    campaign_id = described(ma.fields.UUID, "campaign")
    outcome = described(ma.fields.String, "allocated, waitlisted or rejected", validate=ma.validate.OneOf(OUTCOMES))
    offer_id = described(ma.fields.UUID, "the offer whose place was given, when allocated", allow_none=True)
    waitlist = ma.fields.List(ma.fields.Nested(WaitlistEntrySchema), metadata={
        "description": "waitlist positions given with the decision"})
    reasons = ma.fields.List(ma.fields.Nested(ReasonSchema), metadata={
        "description": "choices set aside before the allocation, and why a rejection happened"})
    tie_break_kind = described(ma.fields.String, "lottery (lower number wins) or arrival (earlier wins)")
    lottery_number = described(ma.fields.String, f"your {LOTTERY_NUMBER}", allow_none=True)
    arrival_rank = described(ma.fields.Integer, f"your {ARRIVAL_RANK}", allow_none=True)
    tickets = described(ma.fields.Integer, "lottery tickets held (extra ones for earlier campaigns without a place)")
    sibling_group = ma.fields.List(ma.fields.UUID(), metadata={
        "description": "applications allocated together with this one (siblings kept together)"})
    decided_on_arrival = described(ma.fields.Boolean, "decided when it arrived (first-come, or after the draw) "
                                   "rather than by the draw")
    choices = ma.fields.List(ma.fields.Nested(ChoiceExplanationSchema), metadata={
        "description": "every eligible choice, best first: where you stood and whom you had to beat"})
    place = ma.fields.Nested(PlaceSchema, allow_none=True, metadata={
        "description": "the latest place offered to this application, and what became of it"})
    decided_at = described(ma.fields.AwareDateTime, "when the decision was made (UTC)")


class ProofStepSchema(ma.Schema):
    left = described(ma.fields.String, "the sibling hash on the left (hexadecimal)")
    right = described(ma.fields.String, "the sibling hash on the right (hexadecimal)")


class DrawLineSchema(ma.Schema):
    line = described(ma.fields.String, "your line in the public draw bundle (guichet-draw/3)")
    salt = described(ma.fields.String, "the salt of your line's facts commitment (hexadecimal): keep it to yourself")
    facts = ma.fields.Dict(metadata={"description": "the facts your line's commitment binds: your child's age at the "
                                                    "reference date and your household's facts as of the close"})
    facts_commitment = described(ma.fields.String, "SHA-256(salt ‖ facts as canonical JSON), as published")
    applications_root = described(ma.fields.String, "the Merkle root of every line, which the lottery mixed")
    inclusion_proof = ma.fields.List(ma.fields.Nested(ProofStepSchema), metadata={
        "description": "from your line's leaf up to the root: the proof your application was in the draw"})
    how_to_check = described(ma.fields.String, "the command that checks your line against the public bundle")


class AuditLineSchema(ma.Schema):
    application_id = described(ma.fields.String, "the application")
    line = described(ma.fields.String, "its line in the public bundle")
    salt = described(ma.fields.String, "its facts commitment's salt (hexadecimal)")
    facts = ma.fields.Dict(metadata={"description": "the facts its commitment binds"})


class AuditRecordSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign")
    lines_key = described(ma.fields.String, "the campaign's lines key (hexadecimal): its SHA-256 is the bundle's "
                                            "lines_key_digest, which the opening's commitment covers")
    lines = ma.fields.List(ma.fields.Nested(AuditLineSchema), metadata={"description": "every line of the draw"})
