"""A lottery campaign from its opening to its published draw, against a real database: the seed
committed once, the draw published once with every decision, and anyone able to check it."""
import json
from datetime import timedelta
from uuid import UUID, uuid4

from services.allocation import verify
from services.allocation.domain import commitment, secret_commitment, secret_parts
from services.allocation.handlers.jobs import DrawScheduler
from services.allocation.store.repository import active_applications, draw_applications
from services.allocation.store.tables import allocation_runs, decisions, lottery_seeds, outbox, places, waitlist_entries
from tests.support.allocation import a_campaign, an_application, an_offer, drawn_campaign


def test_a_draw_reads_the_active_applications_with_their_ids_as_text(allocation):
    campaign = allocation.publish(a_campaign(offers=[an_offer(), an_offer()]))
    allocation.open(campaign)
    applications = [an_application(campaign, *campaign["offers"][::1 - 2 * (n % 2)], arrival=n, family="durand")
                    for n in range(4)]
    applications[1]["keep_with_applications"] = [applications[0]["application_id"]]
    allocation.receive(*applications)
    allocation.withdraw(applications[2], "received")
    with allocation.engine.connect() as connection:
        read = draw_applications(connection, campaign["campaign_id"])
        expected = active_applications(connection, campaign["campaign_id"])

    def as_text(value):
        return str(value) if isinstance(value, UUID) else [as_text(item) for item in value] \
            if isinstance(value, list) else value
    assert len(read) == 3 and read[1]["keep_with_applications"] == [str(applications[0]["application_id"])]
    assert read == [{name: as_text(value) for name, value in row.items()} for row in expected]


def test_the_seed_is_committed_once_at_the_opening_and_first_come_campaigns_have_none(allocation):
    lottery = allocation.publish(a_campaign("priority_lottery", criteria=[{"name": "single_parent"}]))
    allocation.open(lottery)
    allocation.open(lottery)  # a second announcement (another event id) changes nothing
    first_come = allocation.publish(a_campaign("fcfs"))
    allocation.open(first_come)

    (seed,) = allocation.rows(lottery_seeds)
    assert seed.campaign_id == lottery["campaign_id"] and seed.revealed_at is None
    (committed,) = allocation.announced("lottery.seed_committed")
    assert len(seed.seed) == 64, "the seed and the lines key, committed together"
    assert committed["commitment"] == secret_commitment(seed.seed) == seed.commitment
    assert committed["draw_url"] == f"/draws/{lottery['campaign_id']}"


def test_the_draw_waits_for_its_delay_then_decides_everyone_once(allocation):
    campaign = allocation.publish(a_campaign(offers=[an_offer(capacity=2, waitlist_limit=2)]))
    allocation.open(campaign)
    allocation.receive(*[an_application(campaign, arrival=n) for n in range(5)])
    allocation.close(campaign)
    scheduler = DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(minutes=5))
    scheduler.tick()
    assert allocation.count(allocation_runs) == 0, "drawn before applications in flight could arrive"

    allocation.clock.advance(minutes=5)
    scheduler.tick()
    scheduler.tick()
    (run,) = allocation.rows(allocation_runs)
    assert run.kind == "published" and run.statistics["allocated"] == 2
    outcomes = sorted(decision["outcome"] for decision in allocation.announced("allocation.decided"))
    assert outcomes == ["allocated"] * 2 + ["rejected"] + ["waitlisted"] * 2
    assert allocation.count(decisions) == 5 and allocation.count(places) == 2
    assert sorted(row.position for row in allocation.rows(waitlist_entries)) == [1, 2]
    (revealed,) = allocation.announced("lottery.seed_revealed")
    (seed,) = allocation.rows(lottery_seeds)
    assert revealed["seed"] == secret_parts(seed.seed)[0].hex() and seed.revealed_at == allocation.clock()
    assert secret_parts(seed.seed)[1].hex() not in str(allocation.rows(allocation_runs)), "the lines key stays secret"
    assert revealed["allocation_run_id"] == str(run.run_id)


def test_anyone_checks_the_published_draw_with_guichet_verify(allocation, app, tmp_path):
    campaign, _ = drawn_campaign(allocation)
    public = app.test_client()
    draw = public.get(f"/draws/{campaign['campaign_id']}").json
    bundle = public.get(draw["bundle_url"])
    assert bundle.status_code == 200
    assert draw["seed"] and commitment(bytes.fromhex(draw["seed"] + bundle.json["lines_key_digest"])) == draw["commitment"]
    (tmp_path / "draw.json").write_bytes(bundle.data)
    assert verify.main([str(tmp_path / "draw.json"), "--commitment", draw["commitment"]]) == 0

    tampered = json.loads(bundle.data)
    winner = next(i for i, result in tampered["results"].items() if result["status"] == "allocated")
    tampered["results"][winner]["status"] = "waitlisted"
    (tmp_path / "tampered.json").write_text(json.dumps(tampered))
    assert verify.main([str(tmp_path / "tampered.json"), "--commitment", draw["commitment"]]) == 1


def test_before_the_draw_only_the_commitment_is_public(allocation, app):
    campaign = allocation.publish(a_campaign())
    allocation.open(campaign)
    public = app.test_client()
    draw = public.get(f"/draws/{campaign['campaign_id']}")
    assert draw.status_code == 200 and draw.json["commitment"] and draw.json["seed"] is None
    assert draw.json["bundle_url"] is None
    assert public.get(f"/draws/{campaign['campaign_id']}/bundle.json").status_code == 404
    assert public.get(f"/draws/{uuid4()}").json["code"] == "no-lottery"


def test_a_dry_run_keeps_statistics_and_changes_no_decision(allocation, manager):
    campaign = allocation.publish(a_campaign(offers=[an_offer(capacity=1), an_offer(capacity=3, title="Voile")]))
    allocation.open(campaign)
    allocation.receive(*[an_application(campaign, *campaign["offers"], arrival=n) for n in range(3)])
    outbox_before = allocation.count(outbox)

    response = manager("POST", f"/campaigns/{campaign['campaign_id']}/allocation/dry-run")
    assert response.status_code == 201, response.json
    run = response.json
    assert run["kind"] == "dry_run" and run["statistics"]["allocated"] == 3
    assert {offer["fill_rate"] for offer in run["statistics"]["offers"]} == {1.0, 2 / 3}
    assert run["statistics"]["tiers"] == [{"tier": 1, "applications": 3, "placed": 3, "placement_rate": 1.0}]
    (seed,) = allocation.rows(lottery_seeds)
    assert run["seed"] != secret_parts(seed.seed)[0].hex(), "a dry run must never draw with the committed seed"
    assert allocation.count(outbox) == outbox_before
    assert allocation.count(decisions) == allocation.count(places) == allocation.count(waitlist_entries) == 0
    overview = manager("GET", f"/campaigns/{campaign['campaign_id']}/allocation").json
    assert overview["published"] is None and overview["latest_dry_run"]["run_id"] == run["run_id"]


def test_publishing_happens_once_per_campaign_and_only_after_the_close(allocation, manager):
    campaign = allocation.publish(a_campaign())
    allocation.open(campaign)
    allocation.receive(*[an_application(campaign, arrival=n) for n in range(3)])
    path = f"/campaigns/{campaign['campaign_id']}/allocation/publish"
    early = manager("POST", path, **{"Idempotency-Key": "k0"})
    assert early.status_code == 409 and early.json["code"] == "campaign-not-closed"

    allocation.close(campaign)
    first = manager("POST", path, **{"Idempotency-Key": "k1"})
    assert first.status_code == 201 and first.json["kind"] == "published"
    replayed = manager("POST", path, **{"Idempotency-Key": "k1"})
    assert replayed.status_code == 201 and replayed.json["run_id"] == first.json["run_id"]
    second = manager("POST", path, **{"Idempotency-Key": "k2"})
    assert second.status_code == 409 and second.json["code"] == "already-published"
    assert second.json["allocation_run_id"] == first.json["run_id"]
    DrawScheduler(allocation.engine, allocation.clock, delay=timedelta(0)).tick()
    assert allocation.count(allocation_runs) == 1
    assert len(allocation.announced("allocation.decided")) == 3
    assert manager("POST", f"/campaigns/{uuid4()}/allocation/publish", **{"Idempotency-Key": "k3"}).status_code == 404


def test_the_public_record_names_nobody(allocation, manager):
    campaign, received = drawn_campaign(allocation, applications=3, capacity=1)
    response = manager("GET", f"/campaigns/{campaign['campaign_id']}/allocation/results.csv")
    assert response.status_code == 200 and response.mimetype == "text/csv"
    header, *lines = response.get_data(as_text=True).splitlines()
    assert header == "application_id,outcome,offer_id,waitlist_positions,tier,lottery_number,arrival_rank"
    assert sorted(line.split(",")[0] for line in lines) == sorted(str(a["application_id"]) for a in received)
    assert "Inès" not in response.get_data(as_text=True)
    assert all(len(line.split(",")[5]) == 64 for line in lines)
