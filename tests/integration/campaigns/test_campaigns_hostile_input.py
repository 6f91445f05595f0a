"""Bad input to campaigns and limits on its public listing: a 413, 422 or 429 problem naming what is wrong,
never a 500, and nothing stored."""
import json

from services.campaigns.app import create_app
from services.campaigns.settings import CampaignsSettings
from tests.support.campaigns import campaign_body, offer_body, outbox_size


def fields(response) -> list[str]:
    assert response.mimetype == "application/problem+json", response.data
    return [error["field"] for error in response.json.get("errors", [])]


def test_bad_campaigns_are_refused_naming_the_field_and_nothing_is_stored(manager, engine):
    before = outbox_size(engine)
    too_many = manager.create(campaign_body(offers=[offer_body() for _ in range(201)]))
    assert too_many.status_code == 422 and fields(too_many) == ["offers"]
    nul = manager.create(campaign_body(description="Stages\x00 d'été"))
    assert nul.status_code == 422 and fields(nul) == ["description"]
    escape = manager.create(campaign_body(offers=[offer_body(site="Centre\x1b[31m")]))
    assert escape.status_code == 422 and fields(escape) == ["offers.0.site"]
    too_many_tariffs = manager.create(campaign_body(offers=[offer_body(tariffs_cents=list(range(10_000)))]))
    assert too_many_tariffs.status_code == 422 and fields(too_many_tariffs) == ["offers.0.tariffs_cents"]
    # A description keeps its lines.
    assert manager.create(campaign_body(description="Ligne 1\nLigne 2\tfin")).status_code == 201
    assert outbox_size(engine) == before


def test_a_body_over_a_megabyte_is_a_413_and_deep_json_a_400(manager):
    huge = manager.client.post("/campaigns", data=json.dumps(campaign_body(description="x" * 1_100_000)),
                               content_type="application/json", headers=manager.headers(**{"Idempotency-Key": "k-" + str(id(manager))}))
    assert huge.status_code == 413 and fields(huge) == ["body"]
    deep = manager.client.post("/campaigns", data=b"[" * 100_000, content_type="application/json",
                               headers=manager.headers(**{"Idempotency-Key": "k-" + str(id(manager))}))
    assert deep.status_code == 400 and deep.json["code"] == "body-too-deep"


def test_the_public_listing_limits_each_address_and_docs_load_no_cdn_script(make_settings, clock, redis_client):
    app = create_app(make_settings("campaigns", CampaignsSettings, public_requests_per_minute=3), clock=clock)
    try:
        client = app.test_client()
        statuses = [client.get("/public/campaigns", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code
                    for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = client.get("/public/campaigns?kind=sport%00", environ_base={"REMOTE_ADDR": "192.0.2.1"})
        assert refused.status_code == 429 and refused.headers["Retry-After"]
        assert client.get("/public/campaigns", environ_base={"REMOTE_ADDR": "192.0.2.2"}).status_code == 200
        nul_filter = client.get("/public/campaigns?kind=sport%00", environ_base={"REMOTE_ADDR": "192.0.2.3"})
        assert nul_filter.status_code == 422 and fields(nul_filter) == ["query.kind"]

        docs = client.get("/docs").get_data(as_text=True)
        assert "cdn." not in docs and "/docs/static/swagger-ui-bundle.js" in docs
        assert client.get("/docs/static/swagger-ui-bundle.js").status_code == 200
    finally:
        app.extensions["guichet.runtime"].close()
