"""The waiting room through registrations' API: a family takes its place, is admitted, applies with its token;
intake refuses a submission without a valid token while the room admits (403 naming the reason)."""
import hashlib
import uuid
from datetime import timedelta

from services.registrations.domain.waiting_room import AdmissionTokens
from services.registrations.store.waiting_room import RoomStore
from tests.support.registrations import campaign_snapshot
from tests.support.waiting_room import room_snapshot


def fcfs_with_room(registrations, opens_in=timedelta(minutes=-1), **room) -> dict:
    snapshot = campaign_snapshot(mode="fcfs", opens_in=opens_in)
    snapshot["waiting_room"] = room_snapshot(**room)
    return registrations.publish_campaign(snapshot)


def take_place(registrations, account, campaign):
    return registrations.client.put(f"/waiting-rooms/{campaign['campaign_id']}/place",
                                    headers={"Authorization": f"Bearer {registrations.token_for('parent', account)}"})


def test_an_admitted_family_applies_with_its_token_and_nobody_applies_without_one(registrations, redis_client):
    campaign = fcfs_with_room(registrations)
    account, (child,) = registrations.family()
    path = f"/waiting-rooms/{campaign['campaign_id']}/place"
    first = registrations.get(account, path)
    assert first.json["state"] == "not_joined", first.json

    refused = registrations.submit(account, campaign, child)
    assert refused.status_code == 403 and refused.json["code"] == "admission-token-missing"
    assert refused.headers["Content-Type"] == "application/problem+json"
    assert refused.json["errors"][0]["field"] == "Admission-Token"

    place = take_place(registrations, account, campaign)
    assert place.status_code == 200 and place.json["state"] == "admitted"
    assert 2 <= int(place.headers["Retry-After"]) <= 30 and place.headers["Cache-Control"] == "no-store"
    token = place.json["admission_token"]
    again = take_place(registrations, account, campaign)  # a second tab: the same place
    assert again.json["joined_at"] == place.json["joined_at"] and again.json["admitted_at"] == place.json["admitted_at"]

    tampered = registrations.submit(account, campaign, child, headers_extra={"Admission-Token": token[:-2] + "xx"})
    assert tampered.status_code == 403 and tampered.json["code"] == "admission-token-invalid"
    other, (other_child,) = registrations.family()
    foreign = registrations.submit(other, campaign, other_child, headers_extra={"Admission-Token": token})
    assert foreign.status_code == 403 and foreign.json["code"] == "admission-token-foreign"
    tokens = AdmissionTokens(RoomStore(redis_client).secret())
    expired = tokens.issue(account, str(campaign["campaign_id"]), campaign["opens_at"]).value
    late = registrations.submit(account, campaign, child, headers_extra={"Admission-Token": expired})
    assert late.status_code == 403 and late.json["code"] == "admission-token-expired"
    assert registrations.ledger() == {}  # nothing recorded by the refusals

    accepted = registrations.submit(account, campaign, child, headers_extra={"Admission-Token": token})
    assert accepted.status_code == 202, accepted.json

    elsewhere = fcfs_with_room(registrations)
    wrong_campaign = registrations.submit(account, elsewhere, child, headers_extra={"Admission-Token": token})
    assert wrong_campaign.status_code == 403 and wrong_campaign.json["code"] == "admission-token-foreign"


def test_campaigns_without_a_room_take_submissions_without_a_token(registrations):
    campaign = registrations.publish_campaign(campaign_snapshot(mode="fcfs"))
    account, (child,) = registrations.family()
    assert registrations.submit(account, campaign, child).status_code == 202
    assert take_place(registrations, account, campaign).json["code"] == "waiting-room-not-found"


def test_the_pre_queue_commits_its_seed_before_the_opening(registrations):
    upcoming = fcfs_with_room(registrations, opens_in=timedelta(minutes=10), opens_before_minutes=30)
    later = fcfs_with_room(registrations, opens_in=timedelta(hours=2), opens_before_minutes=30)
    account, _ = registrations.family()
    waiting = take_place(registrations, account, upcoming)
    assert waiting.json["state"] == "pre_queue" and waiting.json["position"] is None
    too_early = take_place(registrations, account, later)
    assert too_early.status_code == 409 and too_early.json["code"] == "waiting-room-not-open"

    public = registrations.client.get(f"/waiting-rooms/{upcoming['campaign_id']}")
    assert public.status_code == 200 and public.json["phase"] == "pre_queue"
    assert public.json["seed"] is None and len(public.json["commitment"]) == 64
    opened = fcfs_with_room(registrations)
    revealed = registrations.client.get(f"/waiting-rooms/{opened['campaign_id']}").json
    assert hashlib.sha256(bytes.fromhex(revealed["seed"])).hexdigest() == revealed["commitment"]


def test_managers_see_the_room_live(registrations):
    campaign = fcfs_with_room(registrations, per_minute=1)
    for _ in range(4):
        take_place(registrations, registrations.family()[0], campaign)
    manager = {"Authorization": f"Bearer {registrations.token_for('manager')}"}
    live = registrations.client.get(f"/waiting-rooms/{campaign['campaign_id']}/live", headers=manager)
    assert live.status_code == 200, live.json
    assert live.json["joined"] == 4 and live.json["admitted"] == 1 and live.json["waiting"] == 3
    assert live.json["admitted_last_minute"] == 1 and live.json["admissions_per_minute"] == 1
    assert live.json["oldest_waiting_since"] is not None
    parent = {"Authorization": f"Bearer {registrations.token_for('parent')}"}
    assert registrations.client.get(f"/waiting-rooms/{campaign['campaign_id']}/live", headers=parent).status_code == 403
    assert registrations.client.get(f"/waiting-rooms/{uuid.uuid4()}/live", headers=manager).status_code == 404


def test_the_openapi_document_describes_the_room_and_the_token(registrations):
    spec = registrations.client.get("/openapi.json").json
    submit = spec["paths"]["/applications"]["post"]
    assert "403" in submit["responses"] and "Admission-Token" in [p["name"] for p in submit.get("parameters", [])]
    place = spec["paths"]["/waiting-rooms/{campaign_id}/place"]
    assert {"put", "get"} <= place.keys() and "404" in place["put"]["responses"] and "409" in place["put"]["responses"]
    assert "/waiting-rooms/{campaign_id}" in spec["paths"] and "/waiting-rooms/{campaign_id}/live" in spec["paths"]
