"""Issue 18, item 3, in allocation's handlers on a real database: deadlines capped before the activity,
waitlists closing at a date, and the campaign's cancellation rule on the billing feed."""
from datetime import datetime, timedelta, timezone

from services.allocation.handlers.jobs import DrawScheduler
from tests.support.allocation import a_campaign, an_application, an_offer, application_of, by_outcome


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=timezone.utc)


def draw(allocation, campaign: dict, applications: int):
    allocation.open(campaign)
    received = [an_application(campaign, arrival=n) for n in range(applications)]
    allocation.receive(*received)
    allocation.close(campaign)
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()
    return received


def test_a_draw_just_before_the_activity_gives_a_deadline_before_it_starts(allocation):
    # The activity starts Monday 2 March (midnight Paris: 1 March 23:00 UTC); the draw runs Saturday 00:05.
    allocation.clock.set("2026-02-28T00:05")
    campaign = allocation.publish(a_campaign(offers=[an_offer(capacity=1)], acceptance_delay_hours=72))
    draw(allocation, campaign, applications=1)
    (placed,) = by_outcome(allocation)["allocated"]
    assert placed["offer_expires_at"] == utc(2026, 2, 28, 23).isoformat()  # 24 h before the start, not Tuesday


def test_the_margin_is_the_campaigns(allocation):
    allocation.clock.set("2026-02-28T00:05")
    campaign = a_campaign(offers=[an_offer(capacity=1)], acceptance_delay_hours=72)
    campaign["policy"]["acceptance_margin_hours"] = 6
    draw(allocation, allocation.publish(campaign), applications=1)
    (placed,) = by_outcome(allocation)["allocated"]
    assert placed["offer_expires_at"] == utc(2026, 3, 1, 17).isoformat()


def test_promotion_stops_once_the_waitlists_close(allocation):
    campaign = allocation.publish({**a_campaign(offers=[an_offer(capacity=2)]),
                                   "waitlist_closes_at": utc(2026, 2, 12, 12)})
    received = draw(allocation, campaign, applications=4)
    first, second = by_outcome(allocation)["allocated"]
    allocation.clock.set("2026-02-12T12:59")  # 11:59 UTC: still open
    allocation.answer("offer.declined", application_of(received, first), first["offer_id"])
    assert len(allocation.announced("waitlist.promoted")) == 1
    allocation.clock.set("2026-02-12T13:00")  # 12:00 UTC: closed
    allocation.answer("offer.declined", application_of(received, second), second["offer_id"])
    assert len(allocation.announced("waitlist.promoted")) == 1


def test_promotion_stops_at_the_offers_acceptance_cutoff(allocation):
    campaign = allocation.publish(a_campaign(offers=[an_offer(capacity=1)]))
    received = draw(allocation, campaign, applications=2)
    (placed,) = by_outcome(allocation)["allocated"]
    allocation.clock.set("2026-03-01T00:00")  # 24 h before Monday's start: too late to offer the place again
    allocation.answer("offer.declined", application_of(received, placed), placed["offer_id"])
    assert allocation.announced("waitlist.promoted") == []


def confirmed_then_withdrawn(allocation, campaign: dict, withdrawn_at: str, **by_an_agent) -> tuple[dict, dict]:
    received = draw(allocation, allocation.publish(campaign), applications=1)
    (placed,) = by_outcome(allocation)["allocated"]
    application = application_of(received, placed)
    allocation.answer("offer.accepted", application, placed["offer_id"])
    allocation.clock.set(withdrawn_at)
    allocation.withdraw(application, previous_status="confirmed", **by_an_agent)
    (confirmed,) = allocation.announced("registration.confirmed")
    (credit,) = allocation.announced("registration.cancelled")
    return confirmed, credit


def test_a_withdrawal_before_the_free_date_is_credited_in_full(allocation):
    campaign = {**a_campaign(offers=[an_offer(capacity=1)]), "free_withdrawal_until": utc(2026, 2, 20),
                "late_withdrawal_fee_cents": 250}
    confirmed, credit = confirmed_then_withdrawn(allocation, campaign, "2026-02-20T00:59")
    assert (credit["unit_price_cents"], credit["quantity"], credit["withdrawal_fee_cents"],
            credit["cancellation_rule"]) == (confirmed["unit_price_cents"], -1, 0, "free")


def test_a_late_withdrawal_keeps_the_fee(allocation):
    campaign = {**a_campaign(offers=[an_offer(capacity=1)]), "free_withdrawal_until": utc(2026, 2, 20),
                "late_withdrawal_fee_cents": 250}
    confirmed, credit = confirmed_then_withdrawn(allocation, campaign, "2026-02-20T01:00")
    price = confirmed["unit_price_cents"]
    assert (credit["unit_price_cents"], credit["reversed_unit_price_cents"], credit["withdrawal_fee_cents"],
            credit["cancellation_rule"]) == (price - 250, price, 250, "late_fee")
    assert credit["reverses_line_id"] == confirmed["line_id"]


def test_a_late_withdrawal_without_a_fee_is_credited_nothing(allocation):
    campaign = a_campaign(offers=[an_offer(capacity=1)])  # free until the activity starts, then no credit
    confirmed, credit = confirmed_then_withdrawn(allocation, campaign, "2026-03-02T09:00")
    assert (credit["unit_price_cents"], credit["withdrawal_fee_cents"], credit["cancellation_rule"]) == (
        0, confirmed["unit_price_cents"], "late_no_credit")


def test_an_agent_may_waive_the_late_fee_and_billing_reads_who_not_why(allocation):
    campaign = {**a_campaign(offers=[an_offer(capacity=1)]), "free_withdrawal_until": utc(2026, 2, 20),
                "late_withdrawal_fee_cents": 250}
    confirmed, credit = confirmed_then_withdrawn(allocation, campaign, "2026-02-25T10:00", acted_by_agent=True,
                                                 reason="Fracture du poignet d'Inès, certificat vu", late_fee_waived=True)
    assert (credit["unit_price_cents"], credit["withdrawal_fee_cents"], credit["cancellation_rule"]) == (
        confirmed["unit_price_cents"], 0, "agent_exception")
    assert credit["reason"] == "withdrawn by a city agent for the family"  # the agent's words stay in registrations


def test_an_agent_withdrawing_without_waiving_follows_the_campaigns_rule(allocation):
    campaign = {**a_campaign(offers=[an_offer(capacity=1)]), "free_withdrawal_until": utc(2026, 2, 20),
                "late_withdrawal_fee_cents": 250}
    _, credit = confirmed_then_withdrawn(allocation, campaign, "2026-02-25T10:00", acted_by_agent=True,
                                         reason="Déménagement")
    assert (credit["withdrawal_fee_cents"], credit["cancellation_rule"]) == (250, "late_fee")
