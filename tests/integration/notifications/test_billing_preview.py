"""The reference billing consumer through the real broker: one invoice per family and month, credit
lines for reversals, nothing counted twice when records come again, unknown event types skipped."""
import json

from sqlalchemy import func, select

from examples.billing_preview.cli import main
from examples.billing_preview.consumer import feed_consumer
from examples.billing_preview.store import ensure_schema
from examples.billing_preview.tables import invoice_lines
from shared.kafka import Producer, ensure_topics, group_lag
from shared.runtime import Runtime
from shared.topics import BILLING_FEED
from tests.support.notifications import cancelled, confirmed, publish_feed
from tests.support.workers import eventually, running


def show(settings, monkeypatch, capsys, *args: str) -> str:
    """The console script's `show`, configured through the environment as a downstream team runs it."""
    for name, value in {"DATABASE_URL": settings.database_url, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
                        "KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix}.items():
        monkeypatch.setenv(name, value)
    capsys.readouterr()
    main(["show", *args])
    return capsys.readouterr().out


def test_invoices_per_family_and_month_with_credits_and_redelivery_changing_nothing(make_settings, monkeypatch,
                                                                                   capsys):
    settings = make_settings("billing-preview")
    ensure_topics(settings, [BILLING_FEED])
    runtime = Runtime(settings)
    ensure_schema(runtime.engine)
    feed = [confirmed("family-a", "1"), confirmed("family-a", "2", period_start="2026-04-13", period_end="2026-04-17",
                                                  unit_price_cents=1300),
            confirmed("family-b", "3", quotient_tranche=10, unit_price_cents=4800), cancelled("family-a", "1")]
    publish_feed(settings, *feed)
    consumer = feed_consumer(settings, runtime.engine)

    def lines() -> int:
        with runtime.engine.connect() as connection:
            return connection.execute(select(func.count()).select_from(invoice_lines)).scalar_one()

    with running([consumer]):
        eventually(lambda: lines() == 4, what="the four lines stored")
        publish_feed(settings, *feed)  # a producer's retry, or a replay: the same records again
        producer = Producer(settings)
        producer.publish(BILLING_FEED.name, "family-a", {"type": "registration.adjusted", "data": {}})
        producer.close()
        eventually(lambda: group_lag(settings, consumer.group_id, BILLING_FEED) == 0, what="feed read")
    assert lines() == 4
    runtime.close()

    previews = json.loads(show(settings, monkeypatch, capsys, "--format", "json"))
    assert [(p["family_account"], p["month"], p["total_cents"]) for p in previews] == [
        ("family-a", "2026-03", 0), ("family-a", "2026-04", 1300), ("family-b", "2026-03", 4800)]
    assert [(entry["line_id"], entry["kind"], entry["amount_cents"]) for entry in previews[0]["lines"]] == [
        ("reg-1", "charge", 900), ("rev-1", "credit", -900)]
    assert previews[2]["lines"][0]["quotient_tranche"] == 10
