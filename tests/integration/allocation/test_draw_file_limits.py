"""The public draw file under load from anyone: cached (ETag, Cache-Control), compressed, and limited per address."""
import gzip
import json

from services.allocation.app import create_app
from services.allocation.settings import AllocationSettings
from tests.support.allocation import drawn_campaign


def test_the_bundle_is_sent_compressed_with_an_etag_and_a_repeat_costs_a_304(allocation, app):
    campaign, _ = drawn_campaign(allocation)
    public = app.test_client()
    url = f"/draws/{campaign['campaign_id']}/bundle.json"

    plain = public.get(url)
    assert plain.status_code == 200 and "Content-Encoding" not in plain.headers
    etag = plain.headers["ETag"]
    assert etag.startswith('"') and plain.headers["Cache-Control"] == "public, max-age=86400"
    assert plain.headers["Vary"] == "Accept-Encoding"

    compressed = public.get(url, headers={"Accept-Encoding": "gzip, br"})
    assert compressed.headers["Content-Encoding"] == "gzip" and compressed.headers["ETag"] == etag
    assert json.loads(gzip.decompress(compressed.data)) == json.loads(plain.data)
    assert len(compressed.data) < len(plain.data) / 2

    again = public.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    assert public.get(url, headers={"If-None-Match": '"another"'}).status_code == 200


def test_downloads_beyond_the_address_budget_get_a_429_problem(allocation, make_settings, clock, redis_client):
    campaign, _ = drawn_campaign(allocation)
    limited = create_app(make_settings("allocation", AllocationSettings, bundle_downloads_per_minute=3,
                                       public_requests_per_minute=5), clock=clock)
    try:
        public = limited.test_client()
        url = f"/draws/{campaign['campaign_id']}/bundle.json"
        statuses = [public.get(url, environ_base={"REMOTE_ADDR": "203.0.113.7"}).status_code for _ in range(4)]
        assert statuses == [200, 200, 200, 429]
        refused = public.get(url, environ_base={"REMOTE_ADDR": "203.0.113.7"})
        assert refused.mimetype == "application/problem+json" and refused.json["code"] == "rate-limited"
        assert 1 <= int(refused.headers["Retry-After"]) <= 60
        # Another address has its own budget.
        assert public.get(url, environ_base={"REMOTE_ADDR": "203.0.113.8"}).status_code == 200

        page = f"/draws/{campaign['campaign_id']}"
        pages = [public.get(page, environ_base={"REMOTE_ADDR": "198.51.100.1"}).status_code for _ in range(6)]
        assert pages == [200] * 5 + [429]
    finally:
        limited.extensions["guichet.runtime"].close()
