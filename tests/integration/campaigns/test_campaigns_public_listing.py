"""The public listing: what families see, its filters, and the caches in front of PostgreSQL."""
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import event

from services.campaigns.app import create_app
from services.campaigns.settings import CampaignsSettings
from services.campaigns.usecases.public_catalogue import CACHE_KEY
from tests.support.campaigns import campaign_body, etag_of, offer_body

CENTRES = campaign_body(
    title="Centres de loisirs du mercredi", kind="centre_loisirs_mercredi", opens_at="2026-02-09T00:01",
    closes_at="2026-02-23T23:59", reference_date="2026-03-11", policy={"mode": "fcfs"},
    offers=[offer_body(title="Maternelle Vaugirard", arrondissement=15, min_age=3, max_age=5, starts_on="2026-03-11",
                       ends_on="2026-07-01")])
SPORT = campaign_body(offers=[offer_body(), offer_body(title="Escalade", arrondissement=19, min_age=11, max_age=17)])


@pytest.fixture
def season(manager):
    return {"sport": manager.published(SPORT), "centres": manager.published(CENTRES),
            "draft": manager.created(campaign_body(title="Brouillon"))}


@pytest.fixture
def statements(engine):
    """SQL statements sent to PostgreSQL by the app, counted."""
    sent = []
    event.listen(engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
    return sent


def listing(client, query=""):
    response = client.get(f"/public/campaigns{query}")
    assert response.status_code == 200, response.json
    return response


def reads_served_from(client) -> dict[str, float]:
    for family in text_string_to_metric_families(client.get("/metrics").get_data(as_text=True)):
        if family.name == "guichet_campaigns_cache_reads":
            return {sample.labels["served_from"]: sample.value for sample in family.samples
                    if sample.name.endswith("_total") and sample.labels["cache"] == CACHE_KEY}
    return {}


def test_families_see_scheduled_and_open_campaigns_with_places_remaining(app, season, clock):
    client = app.test_client()
    campaigns = listing(client).json
    assert [(c["title"], c["status"]) for c in campaigns] == [
        ("Paris Sport Vacances — hiver 2026", "scheduled"), ("Centres de loisirs du mercredi", "scheduled")]
    sport = campaigns[0]
    assert (sport["opens_at"], sport["allocation_mode"]) == ("2026-02-02T00:01:00+01:00", "lottery")
    assert [(o["title"], o["places_remaining"]) for o in sport["offers"]] == [("Multisport", 24), ("Escalade", 24)]
    assert "places_given" not in sport["offers"][0]

    clock.set("2026-02-24T10:00")  # sport still open, the centres closed
    assert [(c["kind"], c["status"]) for c in listing(client).json] == [("sport_vacances", "open")]


FILTERS = {
    "?kind=centre_loisirs_mercredi": {"Maternelle Vaugirard"},
    "?arrondissement=19": {"Escalade"},
    "?age=4": {"Maternelle Vaugirard"},
    "?age=12&arrondissement=19": {"Escalade"},
    "?age=12&arrondissement=2": set(),
    # 10 years old on 2 March 2026 (sport's reference date), 11 on 11 March (the centres'): only Multisport.
    "?birth_date=2015-03-05": {"Multisport"},
}


def test_filters_by_kind_arrondissement_and_child_age(app, season):
    client = app.test_client()
    found = {query: {offer["title"] for campaign in listing(client, query).json for offer in campaign["offers"]}
             for query in FILTERS}
    assert found == FILTERS
    assert all(campaign["offers"] for campaign in listing(client, "?age=12").json)


def test_bad_filters_are_422_naming_the_parameter(app):
    response = app.test_client().get("/public/campaigns?arrondissement=21&age=old")
    assert response.status_code == 422
    assert {error["field"] for error in response.json["errors"]} == {"query.arrondissement", "query.age"}


def test_a_refresh_storm_reaches_postgres_once(app, season, statements):
    client = app.test_client()
    before = reads_served_from(client)
    first = listing(client)
    queries_for_first_read = len(statements)
    assert queries_for_first_read > 0
    for _ in range(20):
        assert listing(client, "?age=8").json  # other filters, same cached catalogue
    assert len(statements) == queries_for_first_read
    after = reads_served_from(client)
    assert after["database"] - before.get("database", 0) == 1
    assert after["memory"] - before.get("memory", 0) == 20
    assert first.headers["Cache-Control"] == "public, max-age=2"


def test_another_process_reads_the_copy_in_redis(app, settings, clock, season, redis_client):
    listing(app.test_client())
    assert redis_client.exists(CACHE_KEY)
    other_worker = create_app(settings, clock=clock)
    try:
        other_engine = other_worker.extensions["guichet.runtime"].engine
        sent = []
        event.listen(other_engine, "before_cursor_execute", lambda *args: sent.append(args[2]))
        before = reads_served_from(other_worker.test_client())
        assert listing(other_worker.test_client()).json == listing(app.test_client()).json
        assert sent == []
        assert reads_served_from(other_worker.test_client())["redis"] - before.get("redis", 0) == 1
    finally:
        other_worker.extensions["guichet.runtime"].close()


def test_the_copy_expires_after_its_ttl(app, season, clock, statements):
    client = app.test_client()
    listing(client)
    queries = len(statements)
    clock.advance(seconds=1.5)  # past the in-process second, still in Redis
    listing(client)
    assert len(statements) == queries
    clock.advance(seconds=1)  # past the 2 s TTL
    listing(client)
    assert len(statements) > queries


def test_a_managers_write_is_seen_at_once(app, manager, season):
    client = app.test_client()
    assert len(listing(client).json) == 2
    draft = season["draft"]
    manager.act(draft["id"], "publish", etag_of(draft))
    assert "Brouillon" in {c["title"] for c in listing(client).json}


def test_status_turns_open_at_the_opening_instant_whatever_the_ttl(app, season, clock):
    client = app.test_client()
    clock.set("2026-02-02T00:00:59")
    before = listing(client)
    assert before.json[0]["status"] == "scheduled"
    assert before.headers["Cache-Control"] == "public, max-age=1"  # not beyond the opening
    clock.set("2026-02-02T00:01:00")
    assert listing(client).json[0]["status"] == "open"


def test_without_redis_the_listing_is_read_from_postgres(make_settings, clock, season):
    redis_away = create_app(make_settings("campaigns", CampaignsSettings, redis_url="redis://127.0.0.1:9/0"), clock=clock)
    try:
        client = redis_away.test_client()
        before = reads_served_from(client)
        assert len(listing(client).json) == 2
        assert reads_served_from(client)["database"] - before.get("database", 0) == 1
    finally:
        redis_away.extensions["guichet.runtime"].close()


def test_a_published_campaign_is_read_by_its_id_after_it_leaves_the_listing(app, manager, clock):
    """A family follows the campaign it applied to after it closes; a draft stays unseen."""
    client = app.test_client()
    published = manager.published(SPORT)
    draft = manager.created(campaign_body(title="Brouillon"))
    clock.set("2026-02-10T09:30")
    closed = manager.act(published["id"], "close-early", etag_of(manager.get(published["id"]).json))
    assert closed.status_code == 200
    assert published["id"] not in [c["id"] for c in listing(client).json]

    one = client.get(f"/public/campaigns/{published['id']}")
    assert one.status_code == 200
    assert (one.json["title"], one.json["status"], len(one.json["offers"])) == (SPORT["title"], "closed", 2)
    assert "places_remaining" in one.json["offers"][0] and "places_given" not in one.json["offers"][0]
    for hidden in (draft["id"], "0b5c8f8e-4f3a-4d7e-9c59-6a0f8e2d1c33"):
        missing = client.get(f"/public/campaigns/{hidden}")
        assert missing.status_code == 404 and missing.json["code"] == "campaign-not-found"
