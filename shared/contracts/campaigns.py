"""Events of the campaigns service: what registrations and allocation cache of a campaign."""
import marshmallow as ma

from shared.contracts.fields import described
from shared.events.registry import EventContract, register
from shared.topics import CAMPAIGN_EVENTS

POLICY_MODES = ("fcfs", "lottery", "priority_lottery")
STATUSES = ("draft", "scheduled", "open", "closed", "allocated", "archived")


class PriorityCriterionSchema(ma.Schema):
    name = described(ma.fields.String, "criterion: single_parent, quotient_tranche_at_most, disability_allowance, "
                     "sibling_placed, resident_of_offer_arrondissement, not_placed_previous_campaign", required=True)
    max_tranche = described(ma.fields.Integer, "for quotient_tranche_at_most: the highest tranche (1–9) that qualifies",
                            allow_none=True)


class ReservedShareSchema(ma.Schema):
    criterion = ma.fields.Nested(PriorityCriterionSchema, required=True, metadata={"description": "who the seats are for"})
    share = described(ma.fields.Float, "fraction of each offer's capacity reserved (0–1], rounded down per offer",
                      required=True)


class PolicySchema(ma.Schema):
    mode = described(ma.fields.String, "fcfs, lottery or priority_lottery", required=True,
                     validate=ma.validate.OneOf(POLICY_MODES))
    criteria = ma.fields.List(ma.fields.Nested(PriorityCriterionSchema), required=True,
                              metadata={"description": "priority criteria, most important first"})
    reserved_shares = ma.fields.List(ma.fields.Nested(ReservedShareSchema), required=True,
                                     metadata={"description": "places reserved per criterion, released when unused"})
    lottery_weight_per_unsuccessful_year = described(
        ma.fields.Integer, "extra lottery tickets per earlier campaign of the same kind without a place", required=True)
    keep_siblings_together = described(ma.fields.Boolean, "siblings applying together are placed together or "
                                       "waitlisted together", required=True)
    acceptance_delay_hours = described(ma.fields.Integer, "how long an offered place stays open for the parent",
                                       required=True)
    acceptance_margin_hours = described(ma.fields.Integer, "an offered place's deadline falls at least this many "
                                        "hours before its activity starts (midnight, Paris, of its first day); "
                                        "absent: 24", load_default=24)
    requires_validated_facts = described(ma.fields.Boolean, "criteria on the quotient tranche, single parent or "
                                         "disability allowance count only facts a city agent validated "
                                         "(`validated_facts` of application.received, `household.fact_validated`); "
                                         "a declared-only fact is not met. Absent: false", load_default=False)


class OfferSnapshotSchema(ma.Schema):
    offer_id = described(ma.fields.UUID, "offer id", required=True)
    title = described(ma.fields.String, "title shown to parents", required=True)
    site = described(ma.fields.String, "where it takes place", required=True)
    arrondissement = described(ma.fields.Integer, "Paris arrondissement of the site (1–20)", required=True)
    starts_on = described(ma.fields.Date, "first day", required=True)
    ends_on = described(ma.fields.Date, "last day", required=True)
    min_age = described(ma.fields.Integer, "youngest age admitted at the campaign's reference date", required=True)
    max_age = described(ma.fields.Integer, "oldest age admitted at the campaign's reference date", required=True)
    capacity = described(ma.fields.Integer, "places", required=True)
    waitlist_limit = described(ma.fields.Integer, "longest waitlist kept; null for no limit", allow_none=True,
                               required=True)
    tariffs_cents = ma.fields.List(ma.fields.Integer(), required=True, metadata={
        "description": "price in euro cents for family-quotient tranches 1 to 10 (tranche 10 without a quotient)"})


class WaitingRoomSchema(ma.Schema):
    enabled = described(ma.fields.Boolean, "families wait in the room before intake (default: first-come campaigns)",
                        required=True)
    opens_before_minutes = described(ma.fields.Integer, "the pre-queue opens this many minutes before the opening",
                                     required=True)
    admissions_per_minute = described(ma.fields.Integer, "the most families admitted per minute (the pace adapts "
                                      "below it to intake's latency)", required=True)


class CampaignSnapshotSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign id", required=True)
    version = described(ma.fields.Integer, "increases with every change; consumers keep the highest", required=True)
    title = described(ma.fields.String, "title", required=True)
    kind = described(ma.fields.String, "sport_vacances, centre_loisirs_mercredi, conservatoire_examen, …",
                     required=True)
    status = described(ma.fields.String, "status when the event was emitted", required=True,
                       validate=ma.validate.OneOf(STATUSES))
    opens_at = described(ma.fields.AwareDateTime, "window opening instant (UTC)", required=True)
    closes_at = described(ma.fields.AwareDateTime, "window closing instant (UTC), exclusive: applications are "
                          "accepted before it (the end of the last minute the manager named, or an early close)",
                          required=True)
    reference_date = described(ma.fields.Date, "date at which children's ages are computed", required=True)
    max_choices = described(ma.fields.Integer, "maximum ranked choices per child", required=True)
    policy = ma.fields.Nested(PolicySchema, required=True, metadata={"description": "allocation policy"})
    offers = ma.fields.List(ma.fields.Nested(OfferSnapshotSchema), required=True,
                            metadata={"description": "every offer of the campaign"})
    waitlist_closes_at = described(ma.fields.AwareDateTime, "no waitlist promotion after this instant (UTC); "
                                   "null or absent: until each offer's acceptance cut-off", allow_none=True,
                                   load_default=None)
    free_withdrawal_until = described(ma.fields.AwareDateTime, "a confirmed place given up until this instant is "
                                      "credited in full (UTC); null or absent: until the activity starts",
                                      allow_none=True, load_default=None)
    late_withdrawal_fee_cents = described(ma.fields.Integer, "after free_withdrawal_until, the credit is the price "
                                          "less this fee (euro cents); null or absent: no credit", allow_none=True,
                                          load_default=None)
    publication_needs_second_manager = described(ma.fields.Boolean, "four eyes: the draw's results wait for a "
                                                 "second manager's approval; absent: false (a campaign announced "
                                                 "before the setting existed)", load_default=False)
    waiting_room = ma.fields.Nested(WaitingRoomSchema, allow_none=True, load_default=None, metadata={
        "description": "the campaign's waiting room (registrations admits families at its pace); null or absent: none"})


class WindowInstantSchema(ma.Schema):
    campaign_id = described(ma.fields.UUID, "campaign id", required=True)
    at = described(ma.fields.AwareDateTime, "the window instant this event marks (UTC)", required=True)
    version = described(ma.fields.Integer, "campaign version at emission", required=True)


_EXAMPLE_SNAPSHOT = {
    "campaign_id": "5b0f1c3e-8d1a-4c44-9a5e-2a9b4e0c7d11", "version": 3,
    "title": "Paris Sport Vacances — hiver 2026", "kind": "sport_vacances", "status": "scheduled",
    "opens_at": "2026-02-01T23:01:00+00:00", "closes_at": "2026-02-27T23:00:00+00:00",
    "reference_date": "2026-02-21", "max_choices": 3,
    "policy": {"mode": "priority_lottery",
               "criteria": [{"name": "quotient_tranche_at_most", "max_tranche": 3},
                            {"name": "resident_of_offer_arrondissement", "max_tranche": None}],
               "reserved_shares": [{"criterion": {"name": "quotient_tranche_at_most", "max_tranche": 3}, "share": 0.2}],
               "lottery_weight_per_unsuccessful_year": 1, "keep_siblings_together": True,
               "acceptance_delay_hours": 72},
    "offers": [{"offer_id": "c3d9a8e2-1f7b-4e55-b0a4-6f1e2d3c4b5a", "title": "Escalade — initiation",
                "site": "Centre sportif Jean Dame", "arrondissement": 2, "starts_on": "2026-03-02",
                "ends_on": "2026-03-06", "min_age": 8, "max_age": 12, "capacity": 16, "waitlist_limit": 30,
                "tariffs_cents": [400, 600, 900, 1300, 1800, 2400, 3000, 3600, 4200, 4800]}],
}

for event_type, description in [
    ("campaign.published", "A manager published the campaign: it is visible and will open at `opens_at`."),
    ("campaign.updated", "A published campaign changed (window extended, offers or capacities changed, …)."),
]:
    register(EventContract(event_type, 1, CampaignSnapshotSchema, CAMPAIGN_EVENTS, description, _EXAMPLE_SNAPSHOT))

register(EventContract("campaign.opened", 1, WindowInstantSchema, CAMPAIGN_EVENTS,
                       "The application window opened (emitted once, by the scheduler, at `opens_at`).",
                       {"campaign_id": _EXAMPLE_SNAPSHOT["campaign_id"], "at": "2026-02-01T23:01:00+00:00",
                        "version": 3}))
register(EventContract("campaign.closed", 1, WindowInstantSchema, CAMPAIGN_EVENTS,
                       "The application window closed: at `closes_at`, or earlier when a manager closed it.",
                       {"campaign_id": _EXAMPLE_SNAPSHOT["campaign_id"], "at": "2026-02-27T23:00:00+00:00",
                        "version": 4}))
