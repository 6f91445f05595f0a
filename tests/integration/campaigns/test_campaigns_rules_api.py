"""Every rule a manager can break through the API: 422, the field named (with the domain's code
where the domain caught it), and nothing changed — no campaign row, no version, no event."""
from sqlalchemy import update

from services.campaigns.store.tables import offers
from tests.support.campaigns import BEFORE_OPENING, GRID, campaign_body, offer_body, outbox_size

PRIORITY = {"mode": "priority_lottery", "criteria": [{"name": "single_parent"}]}
Q3 = {"name": "quotient_tranche_at_most", "max_tranche": 3}


def policy(**fields):
    return {"policy": {"mode": "lottery", **fields}}


def offer(**fields):
    return {"offers": [offer_body(**fields)]}


CREATE_CASES = {
    "title missing": ({"title": " "}, "title", "campaign.title_required"),
    "title too long": ({"title": "x" * 201}, "title", "campaign.title_too_long"),
    "kind not a slug": ({"kind": "Sport Vacances"}, "kind", "campaign.kind_invalid"),
    "closes before it opens": ({"closes_at": "2026-02-01T23:00"}, "closes_at", "window.closes_before_opens"),
    "no ranked choice": ({"max_choices": 0}, "max_choices", "campaign.max_choices_out_of_range"),
    "criteria without priorities": (policy(criteria=[Q3]), "policy.criteria.0",
                                    "policy.criteria_need_priority_lottery"),
    "priorities without criteria": (policy(mode="priority_lottery"), "policy.criteria", "policy.criteria_required"),
    "criterion twice": (policy(mode="priority_lottery", criteria=[Q3, Q3]), "policy.criteria.1.name",
                        "policy.duplicate_criterion"),
    "tranche 10 threshold": (policy(mode="priority_lottery", criteria=[{**Q3, "max_tranche": 10}]),
                             "policy.criteria.0.max_tranche", "policy.max_tranche_out_of_range"),
    "threshold on another criterion": (policy(mode="priority_lottery",
                                              criteria=[{"name": "single_parent", "max_tranche": 3}]),
                                       "policy.criteria.0.max_tranche", "policy.parameter_not_applicable"),
    "reserved for a criterion not ranked": ({"policy": {**PRIORITY, "reserved_shares": [
        {"criterion": Q3, "share": 0.2}]}}, "policy.reserved_shares.0.criterion",
        "policy.reserved_share_criterion_not_in_policy"),
    "reserved share of 0": (policy(reserved_shares=[{"criterion": Q3, "share": 0}]),
                            "policy.reserved_shares.0.share", "policy.reserved_share_out_of_range"),
    "same share twice": (policy(reserved_shares=[{"criterion": Q3, "share": 0.1}] * 2), "policy.reserved_shares.1",
                         "policy.duplicate_reserved_share"),
    "shares over 100 %": (policy(reserved_shares=[{"criterion": Q3, "share": 0.6},
                                                  {"criterion": {"name": "single_parent"}, "share": 0.6}]),
                          "policy.reserved_shares", "policy.reserved_shares_exceed_total"),
    "11 tickets per year": (policy(lottery_weight_per_unsuccessful_year=11),
                            "policy.lottery_weight_per_unsuccessful_year", "policy.lottery_weight_out_of_range"),
    "tickets without lottery": ({"policy": {"mode": "fcfs", "lottery_weight_per_unsuccessful_year": 1}},
                                "policy.lottery_weight_per_unsuccessful_year", "policy.lottery_weight_without_lottery"),
    "siblings together without a draw": ({"policy": {"mode": "fcfs", "keep_siblings_together": True}},
                                         "policy.keep_siblings_together", "policy.siblings_together_need_a_draw"),
    "reserved shares without a draw": ({"policy": {"mode": "fcfs", "reserved_shares": [
        {"criterion": Q3, "share": 0.2}]}}, "policy.reserved_shares", "policy.reserved_shares_need_a_draw"),
    "no time to accept": (policy(acceptance_delay_hours=0), "policy.acceptance_delay_hours",
                          "policy.acceptance_delay_out_of_range"),
    "offer title missing": (offer(title=""), "offers.0.title", "offer.title_required"),
    "offer site too long": (offer(site="x" * 201), "offers.0.site", "offer.site_too_long"),
    "offer ends before it starts": (offer(ends_on="2026-03-01"), "offers.0.ends_on", "offer.ends_before_starts"),
    "offer longer than a year": (offer(ends_on="2027-06-01"), "offers.0.ends_on", "offer.period_too_long"),
    "drawn offer before the close": (offer(starts_on="2026-02-23"), "offers.0.starts_on",
                                     "offer.starts_before_window_closes"),
    "negative age": (offer(min_age=-1), "offers.0.min_age", "offer.age_range_invalid"),
    "age over 25": (offer(max_age=26), "offers.0.max_age", "offer.age_range_invalid"),
    "ages upside down": (offer(min_age=10, max_age=8), "offers.0.max_age", "offer.age_range_invalid"),
    "ages outside the programme": (offer(min_age=5), "offers.0.min_age", "offer.age_outside_kind_range"),
    "nine tranches": (offer(tariffs_cents=GRID[:9]), "offers.0.tariffs_cents", "tariff.tranche_count"),
    "negative price": (offer(tariffs_cents=[-100, *GRID[1:]]), "offers.0.tariffs_cents.0", "tariff.negative_price"),
    "decreasing prices": (offer(tariffs_cents=[*GRID[:5], 0, *GRID[6:]]), "offers.0.tariffs_cents.5",
                          "tariff.decreasing"),
    "arrondissement 21": (offer(arrondissement=21), "offers.0.arrondissement", "offer.arrondissement_out_of_range"),
    "no place": (offer(capacity=0), "offers.0.capacity", "offer.capacity_too_small"),
    "negative waitlist": (offer(waitlist_limit=-1), "offers.0.waitlist_limit", "offer.waitlist_limit_negative"),
    # Parsing and shape: caught before the domain, named by the schema (no domain code).
    "opening in the spring-forward gap": ({"opens_at": "2026-03-29T02:30"}, "opens_at", None),
    "opening without a time": ({"opens_at": "2026-02-02"}, "opens_at", None),
    "opening not a date": ({"opens_at": "lundi"}, "opens_at", None),
    "unknown criterion": (policy(mode="priority_lottery", criteria=[{"name": "lives_nearby"}]),
                          "policy.criteria.0.name", None),
    "unknown field": ({"colour": "blue"}, "colour", None),
    "offer capacity not a number": (offer(capacity="many"), "offers.0.capacity", None),
    # What the database could not store is refused before it gets there (422, never a 500).
    "capacity beyond 32 bits": (offer(capacity=2**31), "offers.0.capacity", None),
    "price beyond 32 bits": (offer(tariffs_cents=[*GRID[:9], 2**31]), "offers.0.tariffs_cents.9", None),
    "NUL in a title": ({"title": "PSV\x00"}, "title", None),
    "opening in year 1": ({"opens_at": "0001-01-01T00:00"}, "opens_at", None),
    "reference date in year 9999": ({"reference_date": "9999-12-31"}, "reference_date", None),
}


def refusal_mistake(response, field, code) -> str | None:
    """None if the response is a 422 problem naming `field` with the domain `code`; else what is wrong."""
    if response.status_code != 422 or response.headers["Content-Type"] != "application/problem+json":
        return f"answered {response.status_code}: {response.get_data(as_text=True)[:300]}"
    named = [(error["field"], error.get("code")) for error in response.json["errors"]]
    return None if (field, code) in named else f"named {named}"


def assert_refused(response, field, code):
    assert refusal_mistake(response, field, code) is None, refusal_mistake(response, field, code)


# Cases run in one test (one database): a table of ~40 requests reports every broken case at once.
def test_a_create_breaking_any_rule_is_refused_and_stores_nothing(manager, engine):
    mistakes = {case: refusal_mistake(manager.create(campaign_body(**overrides)), field, code)
                for case, (overrides, field, code) in CREATE_CASES.items()}
    assert {case: mistake for case, mistake in mistakes.items() if mistake} == {}
    assert manager.client.get("/campaigns", headers=manager.headers()).json == []
    assert outbox_size(engine) == 0


def offer_path(campaign, index=0):
    return f"/campaigns/{campaign['id']}/offers/{campaign['offers'][index]['id']}"


# (state of the campaign, the clock then, the request) -> the field and code refused.
ACTION_CASES = {
    "publish without offers": ("draft", None, lambda c: ("POST", f"/campaigns/{c['id']}/publish", None),
                               "offers", "campaign.offer_required"),
    "publish after the close": ("draft", "2026-03-01T10:00", lambda c: ("POST", f"/campaigns/{c['id']}/publish", None),
                                "closes_at", "window.closes_in_past"),
    "publish twice": ("scheduled", None, lambda c: ("POST", f"/campaigns/{c['id']}/publish", None),
                      "status", "campaign.already_published"),
    "added offer without a place": ("draft", None, lambda c: ("POST", f"/campaigns/{c['id']}/offers",
                                                              offer_body(capacity=0)),
                                    "capacity", "offer.capacity_too_small"),
    "close moved into the past": ("scheduled", None, lambda c: ("PATCH", f"/campaigns/{c['id']}",
                                                                {"closes_at": "2026-01-10T12:00"}),
                                  "closes_at", "window.closes_in_past"),
    "close early before opening": ("scheduled", None, lambda c: ("POST", f"/campaigns/{c['id']}/close-early", None),
                                   "status", "campaign.not_open"),
    "extension not later": ("scheduled", None, lambda c: ("POST", f"/campaigns/{c['id']}/extend-close",
                                                          {"closes_at": "2026-02-20T12:00"}),
                            "closes_at", "window.extension_not_later"),
    "opening moved once open": ("open", None, lambda c: ("PATCH", f"/campaigns/{c['id']}",
                                                         {"opens_at": "2026-02-03T00:01"}),
                                "opens_at", "window.opens_at_locked"),
    "draft switched to fcfs keeping siblings": ("draft", None, lambda c: (
        "PATCH", f"/campaigns/{c['id']}", {"policy": {"mode": "fcfs", "keep_siblings_together": True}}),
        "policy.keep_siblings_together", "policy.siblings_together_need_a_draw"),
    "policy changed once open": ("open", None, lambda c: ("PATCH", f"/campaigns/{c['id']}",
                                                          {"policy": {"mode": "fcfs"}}),
                                 "policy", "campaign.field_locked_once_open"),
    "close moved earlier once open": ("open", None, lambda c: ("PATCH", f"/campaigns/{c['id']}",
                                                               {"closes_at": "2026-02-20T23:59"}),
                                      "closes_at", "window.close_moved_earlier"),
    "offer ages changed once open": ("open", None, lambda c: ("PATCH", offer_path(c), {"min_age": 8}),
                                     "min_age", "offer.field_locked_once_open"),
    "offer removed once open": ("open", None, lambda c: ("DELETE", offer_path(c), None),
                                "offer_id", "offer.not_removable_once_open"),
    "extension once closed": ("closed", None, lambda c: ("POST", f"/campaigns/{c['id']}/extend-close",
                                                         {"closes_at": "2026-03-05T12:00"}),
                              "status", "window.closed"),
    "offer added once closed": ("closed", None, lambda c: ("POST", f"/campaigns/{c['id']}/offers", offer_body()),
                                "status", "window.closed"),
    "status sent in a patch": ("draft", None, lambda c: ("PATCH", f"/campaigns/{c['id']}", {"status": "open"}),
                               "status", None),
}
CLOCK_IN_STATE = {"draft": None, "scheduled": None, "open": "2026-02-10T10:00", "closed": "2026-03-01T10:00"}


def test_an_action_breaking_any_rule_is_refused_and_changes_nothing(manager, engine, clock):
    mistakes = {}
    for case, (state, clock_then, request_for, field, code) in ACTION_CASES.items():
        clock.set(BEFORE_OPENING)
        body = campaign_body(offers=[]) if code == "campaign.offer_required" else campaign_body()
        campaign = manager.created(body) if state == "draft" else manager.published(body)
        if clock_then or CLOCK_IN_STATE[state]:
            clock.set(clock_then or CLOCK_IN_STATE[state])
        before, events_before = manager.get(campaign["id"]), outbox_size(engine)
        method, path, payload = request_for(campaign)
        mistakes[case] = refusal_mistake(manager.write(method, path, before.headers["ETag"], payload), field, code)
        after = manager.get(campaign["id"])
        if (after.json, after.headers["ETag"], outbox_size(engine)) != (before.json, before.headers["ETag"],
                                                                        events_before):
            mistakes[case] = f"changed the campaign or its events: {mistakes[case]}"
    assert {case: mistake for case, mistake in mistakes.items() if mistake} == {}


def test_capacity_never_drops_below_the_places_given(manager, engine):
    campaign = manager.created()
    with engine.begin() as connection:  # what the allocation feed will write
        connection.execute(update(offers).values(places_given=5))
    read = manager.get(campaign["id"])
    assert read.json["offers"][0]["places_remaining"] == 19
    assert_refused(manager.write("PATCH", offer_path(campaign), read.headers["ETag"], {"capacity": 4}),
                   "capacity", "offer.capacity_below_places_given")
    lowered = manager.write("PATCH", offer_path(campaign), read.headers["ETag"], {"capacity": 5})
    assert lowered.status_code == 200
    assert (lowered.json["offers"][0]["places_given"], lowered.json["offers"][0]["places_remaining"]) == (5, 0)


def test_clone_whose_close_falls_in_the_spring_forward_gap_is_refused(manager):
    source = manager.created(campaign_body(closes_at="2026-03-01T02:30", offers=[offer_body(starts_on="2026-03-09",
                                                                                             ends_on="2026-03-13")]))
    response = manager.client.post(f"/campaigns/{source['id']}/clone", json={"shift_days": 28},
                                   headers=manager.headers(**{"Idempotency-Key": "k"}))
    assert_refused(response, "closes_at", "datetime.nonexistent_local_time")
    assert len(manager.client.get("/campaigns", headers=manager.headers()).json) == 1


def test_listing_with_a_kind_the_database_cannot_compare_is_422(manager):
    assert_refused(manager.client.get("/campaigns?kind=a%00b", headers=manager.headers()), "query.kind", None)


def test_clone_needs_exactly_one_sane_way_to_move(manager):
    source = manager.created()
    for body, field in (({}, "new_opens_at"), ({"shift_days": 7, "new_opens_at": "2027-02-01T00:01"}, "new_opens_at"),
                        ({"shift_days": 10**10}, "shift_days")):
        response = manager.client.post(f"/campaigns/{source['id']}/clone", json=body,
                                       headers=manager.headers(**{"Idempotency-Key": str(body)}))
        assert_refused(response, field, None)
