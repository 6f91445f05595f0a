"""The manager API against a real database: the ETag flow, each action, roles."""
import threading

from tests.support.campaigns import campaign_body, etag_of, offer_body


def test_create_then_read_with_its_etag(manager):
    response = manager.create()
    assert response.status_code == 201
    created = response.json
    assert response.headers["ETag"] == '"1"'
    assert response.headers["Location"].endswith(f"/campaigns/{created['id']}")
    assert (created["status"], created["version"]) == ("draft", 1)
    assert (created["opens_at"], created["closes_at"]) == ("2026-02-02T00:01:00+01:00", "2026-02-27T23:59:00+01:00")
    [offer] = created["offers"]
    assert (offer["capacity"], offer["places_given"], offer["places_remaining"]) == (24, 0, 24)

    read = manager.get(created["id"])
    assert read.status_code == 200 and read.headers["ETag"] == '"1"'
    assert read.json == created


def test_a_double_submitted_create_makes_one_campaign(manager):
    first = manager.create(key="form-42")
    again = manager.create(key="form-42")
    assert first.status_code == again.status_code == 201
    assert again.headers["Idempotent-Replayed"] == "true" and again.json["id"] == first.json["id"]
    assert len(manager.client.get("/campaigns", headers=manager.headers()).json) == 1


def test_patch_changes_only_what_is_sent_and_bumps_the_version(manager):
    draft = manager.created()
    response = manager.patch(draft["id"], etag_of(draft), {"title": "PSV hiver", "max_choices": 2})
    assert response.status_code == 200 and response.headers["ETag"] == '"2"'
    assert (response.json["title"], response.json["max_choices"], response.json["kind"]) == (
        "PSV hiver", 2, "sport_vacances")
    assert response.json["description"] == "Stages"  # not reset to its default


def test_sending_the_current_values_changes_nothing(manager):
    draft = manager.created()
    response = manager.patch(draft["id"], etag_of(draft), {"title": draft["title"], "opens_at": draft["opens_at"]})
    assert response.status_code == 200 and response.headers["ETag"] == '"1"'


def test_policy_is_replaced_whole(manager):
    draft = manager.created()
    policy = {"mode": "priority_lottery", "criteria": [{"name": "quotient_tranche_at_most", "max_tranche": 3}],
              "reserved_shares": [{"criterion": {"name": "quotient_tranche_at_most", "max_tranche": 3}, "share": 0.2}],
              "lottery_weight_per_unsuccessful_year": 1}
    response = manager.patch(draft["id"], etag_of(draft), {"policy": policy})
    assert response.status_code == 200, response.json
    assert response.json["policy"] == {**policy, "keep_siblings_together": False, "acceptance_delay_hours": 72,
                                       "acceptance_margin_hours": 24, "requires_validated_facts": False}


def test_offers_are_added_changed_and_removed(manager):
    draft = manager.created()
    added = manager.write("POST", f"/campaigns/{draft['id']}/offers", etag_of(draft),
                          offer_body(title="Escalade", arrondissement=19, min_age=11, max_age=17))
    assert added.status_code == 201 and added.headers["ETag"] == '"2"'
    first, escalade = added.json["offers"]
    assert escalade["title"] == "Escalade"

    changed = manager.write("PATCH", f"/campaigns/{draft['id']}/offers/{escalade['id']}", etag_of(added.json),
                            {"capacity": 12})
    assert changed.status_code == 200
    assert [offer["capacity"] for offer in changed.json["offers"]] == [24, 12]

    removed = manager.write("DELETE", f"/campaigns/{draft['id']}/offers/{first['id']}", etag_of(changed.json))
    assert removed.status_code == 200
    assert [offer["id"] for offer in removed.json["offers"]] == [escalade["id"]]
    assert manager.get(draft["id"]).json["offers"] == removed.json["offers"]


def test_publish_close_early_and_extend(manager, clock):
    draft = manager.created()
    published = manager.act(draft["id"], "publish", etag_of(draft))
    assert published.status_code == 200 and published.json["status"] == "scheduled"
    assert published.json["published_at"] == "2026-01-15T10:00:00+01:00"

    extended = manager.act(draft["id"], "extend-close", etag_of(published.json), {"closes_at": "2026-03-01T12:00"})
    assert extended.status_code == 200 and extended.json["closes_at"] == "2026-03-01T12:00:00+01:00"

    clock.set("2026-02-10T09:30")
    closed = manager.act(draft["id"], "close-early", etag_of(extended.json))
    assert closed.status_code == 200
    assert (closed.json["status"], closed.json["closed_early_at"]) == ("closed", "2026-02-10T09:30:00+01:00")


def test_clone_last_winter_into_this_winter(manager):
    source = manager.published()
    response = manager.client.post(f"/campaigns/{source['id']}/clone", json={"shift_days": 364, "title": "PSV 2027"},
                                   headers=manager.headers(**{"Idempotency-Key": "clone-1"}))
    assert response.status_code == 201, response.json
    clone = response.json
    assert (clone["status"], clone["title"], clone["cloned_from_id"]) == ("draft", "PSV 2027", source["id"])
    assert clone["opens_at"] == "2027-02-01T00:01:00+01:00"
    assert clone["offers"][0]["starts_on"] == "2027-03-01" and clone["offers"][0]["id"] != source["offers"][0]["id"]


def test_list_filters_by_kind_and_current_status(manager):
    manager.published()
    manager.created(campaign_body(kind="stages_nature", title="Stages nature"))
    listed = manager.client.get("/campaigns?status=scheduled", headers=manager.headers()).json
    assert [c["status"] for c in listed] == ["scheduled"]
    listed = manager.client.get("/campaigns?kind=stages_nature", headers=manager.headers()).json
    assert [c["title"] for c in listed] == ["Stages nature"]


def test_two_managers_with_the_same_etag_one_wins_the_other_gets_412(manager):
    draft = manager.created()
    etag = manager.get(draft["id"]).headers["ETag"]
    first = manager.patch(draft["id"], etag, {"title": "Agent 1's title"})
    second = manager.patch(draft["id"], etag, {"title": "Agent 2's title"})
    assert (first.status_code, second.status_code) == (200, 412)
    assert second.json["code"] == "precondition-failed"
    assert manager.get(draft["id"]).json["title"] == "Agent 1's title"


def test_concurrent_writes_on_one_version_let_exactly_one_through(app, manager):
    draft = manager.created()
    writers = 6
    barrier, statuses = threading.Barrier(writers), []

    def write(n: int) -> None:
        client = app.test_client()
        barrier.wait()
        response = client.patch(f"/campaigns/{draft['id']}", json={"title": f"title {n}"},
                                headers=manager.headers(etag_of(draft)))
        statuses.append(response.status_code)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses) == [200] + [412] * (writers - 1)
    assert manager.get(draft["id"]).json["version"] == 2


def test_writes_without_if_match_are_428_and_with_a_bad_one_400(manager):
    draft = manager.created()
    missing = manager.patch(draft["id"], None, {"title": "x"})
    assert missing.status_code == 428 and missing.json["code"] == "precondition-required"
    for bad in ("*", 'W/"1"', '"1", "2"'):
        assert manager.patch(draft["id"], bad, {"title": "x"}).status_code == 400
    assert manager.get(draft["id"]).json["title"] == draft["title"]


def test_unknown_campaign_and_offer_are_404(manager):
    draft = manager.created()
    assert manager.get("9b2f4c1e-0000-4000-8000-000000000000").status_code == 404
    assert manager.get("not-a-uuid").status_code == 404
    missing_offer = manager.write("DELETE", f"/campaigns/{draft['id']}/offers/9b2f4c1e-0000-4000-8000-000000000000",
                                  etag_of(draft))
    assert missing_offer.status_code == 404 and missing_offer.json["code"] == "offer-not-found"


PARENT_ATTEMPTS = [
    ("POST", "/campaigns", campaign_body()),
    ("PATCH", "/campaigns/{id}", {"title": "x"}),
    ("POST", "/campaigns/{id}/offers", offer_body()),
    ("PATCH", "/campaigns/{id}/offers/{offer}", {"capacity": 1}),
    ("DELETE", "/campaigns/{id}/offers/{offer}", None),
    ("POST", "/campaigns/{id}/publish", None),
    ("POST", "/campaigns/{id}/close-early", None),
    ("POST", "/campaigns/{id}/extend-close", {"closes_at": "2026-03-01T12:00"}),
    ("POST", "/campaigns/{id}/clone", {"shift_days": 364}),
    ("GET", "/campaigns/{id}", None),
    ("GET", "/campaigns", None),
]


def test_a_parent_cannot_change_or_read_campaigns(manager, token_for):
    draft = manager.created()
    parent = {"Authorization": f"Bearer {token_for('parent', 'family-1')}", "If-Match": '"1"', "Idempotency-Key": "k"}
    answers = {}
    for method, path, body in PARENT_ATTEMPTS:
        url = path.format(id=draft["id"], offer=draft["offers"][0]["id"])
        as_parent = manager.client.open(url, method=method, json=body, headers=parent)
        anonymous = manager.client.open(url, method=method, json=body)
        answers[f"{method} {path}"] = (as_parent.status_code, as_parent.json["code"], anonymous.status_code)
    assert set(answers.values()) == {(403, "role-missing", 401)}, answers
    assert manager.client.get("/campaigns", headers=manager.headers()).json == [draft]
