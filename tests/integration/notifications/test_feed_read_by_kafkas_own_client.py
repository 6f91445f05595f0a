"""The billing feed as a consumer outside Guichet reads it: Kafka's own console consumer (Java, from the
broker's jars) prints the records, and each one validates against the JSON Schema in docs/schemas/."""
import json
import subprocess

from jsonschema import Draft202012Validator

from deploy.local.servers import ensure_kafka_jars
from shared.contracts.json_schema import SCHEMAS_DIR, file_name
from shared.events import contract_for
from shared.kafka import ensure_topics
from shared.topics import BILLING_FEED, physical_name
from tests.support.notifications import cancelled, confirmed, publish_feed

KEY_SEPARATOR = "\t"


def read_with_console_consumer(settings, count: int) -> list[tuple[str, dict]]:
    libs = ensure_kafka_jars()
    printed = subprocess.run(
        ["java", "-cp", f"{libs}/*", "org.apache.kafka.tools.consumer.ConsoleConsumer",
         "--bootstrap-server", settings.kafka_bootstrap_servers,
         "--topic", physical_name(BILLING_FEED.name, settings.kafka_topic_prefix),
         "--from-beginning", "--max-messages", str(count), "--timeout-ms", "20000",
         "--formatter-property", "print.key=true", "--formatter-property", f"key.separator={KEY_SEPARATOR}"],
        capture_output=True, text=True, timeout=60)
    assert printed.returncode == 0, printed.stderr
    return [(key, json.loads(value)) for key, value in
            (line.split(KEY_SEPARATOR, 1) for line in printed.stdout.splitlines() if line.strip())]


def schema_validator(event_type: str) -> Draft202012Validator:
    schema = json.loads((SCHEMAS_DIR / file_name(contract_for(event_type))).read_text())
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


def test_every_record_of_the_feed_validates_against_its_published_schema(make_settings):
    settings = make_settings("feed-reader")
    ensure_topics(settings, [BILLING_FEED], with_dead_letters=False)
    feed = [confirmed("family-a", "1"), confirmed("family-b", "2"), cancelled("family-a", "1")]
    publish_feed(settings, *feed)

    records = read_with_console_consumer(settings, len(feed))

    assert sorted(value["id"] for _, value in records) == sorted(event.id for event in feed)
    for key, value in records:
        schema_validator(value["type"]).validate(value)
        assert key == value["data"]["family_account"]  # keyed by family: one family's lines stay in order
