"""Kafka as in production (docs/deploy.md#production-neighbours): a private broker of the project's own
Kafka with a SASL_SSL listener (a private CA, SCRAM-SHA-512), one principal per service and the ACLs of
deploy/kafka_access.py, reached through shared.kafka's own clients configured by the settings alone."""
import secrets
import threading

import pytest
from kafka.errors import GroupAuthorizationFailedError, KafkaError, TopicAuthorizationFailedError

from deploy.kafka_access import CONSUMES, MIGRATIONS_PRINCIPAL, PRODUCES, SERVICES, all_principals, principal
from shared.config import Settings
from shared.kafka import ConsumerLoop, KafkaProbe, Producer, client_options, ensure_topics
from shared.topics import ALL_TOPICS, BILLING_FEED, TopicSpec
from shared.waiting import wait_until
from tests.support.servers import free_port

pytestmark = pytest.mark.slow

PASSWORDS = {name: secrets.token_urlsafe(18) for name in [*map(principal, SERVICES), MIGRATIONS_PRINCIPAL]}


@pytest.fixture(scope="module")
def secure_kafka(servers_dir):
    from deploy.local.servers import KafkaServer

    server = KafkaServer(servers_dir / f"kafka-sasl-{free_port()}", port=free_port(), controller_port=free_port(),
                         scram_users=PASSWORDS)
    server.start()
    for name, rules in all_principals().items():
        server.grant(name, rules)
    yield server
    server.stop()


@pytest.fixture(scope="module")
def as_principal(secure_kafka, tmp_path_factory):
    """Settings of a process that authenticates as `name` (with `password`, its own by default), as a pod
    would be configured: protocol, mechanism, user name, a password file and the CA."""
    folder = tmp_path_factory.mktemp("kafka-passwords")

    def settings(name: str, password: str | None = None, **overrides) -> Settings:
        password_file = folder / f"{name}-{secrets.token_hex(4)}"
        password_file.write_text((PASSWORDS.get(name, "") if password is None else password) + "\n")
        password_file.chmod(0o600)
        values = dict(service_name=name, kafka_bootstrap_servers=secure_kafka.bootstrap_servers,
                      kafka_security_protocol="SASL_SSL", kafka_sasl_username=name,
                      kafka_sasl_password_file=password_file, kafka_ssl_cafile=secure_kafka.ca_file, kafka_linger_ms=1)
        values.update(overrides)
        return Settings(**values)
    return settings


@pytest.fixture(scope="module")
def topics(as_principal):
    """Created as in production: by the migrations principal (the release Job), not by a service."""
    ensure_topics(as_principal(MIGRATIONS_PRINCIPAL))
    return ALL_TOPICS


def test_each_service_writes_its_own_topics_and_is_refused_anothers(as_principal, topics):
    for service in SERVICES:
        producer = Producer(as_principal(principal(service)))
        try:
            for topic in PRODUCES[service]:
                assert producer.publish(topic.name, "k", {"from": service}).offset >= 0, (service, topic.name)
            for topic in [topic for topic in topics if topic not in PRODUCES[service]]:
                with pytest.raises(TopicAuthorizationFailedError):
                    producer.publish(topic.name, "k", {"forged by": service})
        finally:
            producer.close(timeout=1)


def test_registrations_cannot_publish_a_decision_nor_notifications_an_application(as_principal, topics):
    """The two forgeries the probe worried about: intake publishing allocation's decisions, and a service
    that only reads (notifications) publishing applications."""
    forgeries = [("registrations", "guichet.allocation-events"), ("notifications", "guichet.application-submissions"),
                 ("campaigns", BILLING_FEED.name)]
    for service, topic in forgeries:
        producer = Producer(as_principal(principal(service)))
        try:
            with pytest.raises(TopicAuthorizationFailedError):
                producer.publish(topic, "k", {"outcome": "allocated"})
        finally:
            producer.close(timeout=1)


def test_a_consumer_reads_its_inputs_in_its_own_groups_only(as_principal, topics):
    line = {"line_id": f"reg-{secrets.token_hex(6)}"}
    allocation = Producer(as_principal(principal("allocation")))
    allocation.publish(BILLING_FEED.name, "family-1", line)
    allocation.close()

    received = []
    notifications = as_principal(principal("notifications"))
    assert BILLING_FEED in CONSUMES["notifications"]
    loop = ConsumerLoop(notifications, f"notifications-{secrets.token_hex(4)}", [BILLING_FEED],
                        handler=lambda record: received.append(record.value))
    worker = threading.Thread(target=loop.run, kwargs={"poll_timeout_ms": 200}, daemon=True)
    worker.start()
    try:
        wait_until(lambda: line in received, timeout=30, what="notifications reading the billing feed")
    finally:
        loop.stop()
        worker.join(timeout=15)

    # Registrations does not read the billing feed; notifications cannot use another service's group.
    for settings, group, error in [(as_principal(principal("registrations")), "registrations-feed",
                                    TopicAuthorizationFailedError),
                                   (notifications, "allocation-applications", GroupAuthorizationFailedError)]:
        assert type(refusal_of_reading(settings, group, BILLING_FEED)) is error, (settings.kafka_sasl_username, group)


def refusal_of_reading(settings: Settings, group: str, topic: TopicSpec) -> Exception | None:
    """What the broker answers a consumer of `topic` in `group` authenticated by `settings` (None: it read)."""
    from kafka import KafkaConsumer

    consumer = KafkaConsumer(**client_options(settings, group_id=group, auto_offset_reset="earliest",
                                              enable_auto_commit=False))
    consumer.subscribe([topic.name])
    try:
        for _ in range(20):
            if consumer.poll(timeout_ms=500):
                return None
    except KafkaError as refused:
        return refused
    finally:
        consumer.close(autocommit=False)
    return None


def test_a_failed_record_goes_to_the_dead_letter_topic_of_the_consumers_input(secure_kafka, as_principal, topics):
    """The dead-letter producer of a consumer loop is the service's own principal: allowed on its inputs'
    dead-letter topics (campaigns reads allocation's topic)."""
    from kafka import KafkaConsumer

    from shared.kafka import JsonDeserializer, RetryPolicy
    from shared.topics import ALLOCATION_EVENTS

    marker = secrets.token_hex(6)
    allocation = Producer(as_principal(principal("allocation")))
    allocation.publish(ALLOCATION_EVENTS.name, "c-1", {"poison": marker})
    allocation.publish(ALLOCATION_EVENTS.name, "c-1", {"fine": marker})
    allocation.close()
    handled = []

    def handler(record):
        if record.value.get("poison") == marker:
            raise ValueError("cannot handle")
        handled.append(record.value)

    loop = ConsumerLoop(as_principal(principal("campaigns")), f"campaigns-{secrets.token_hex(4)}", [ALLOCATION_EVENTS],
                        handler=handler, retry=RetryPolicy(max_attempts=2, first_backoff_s=0.01))
    loop.run(poll_timeout_ms=200, until=lambda: {"fine": marker} in handled)

    dead = KafkaConsumer(ALLOCATION_EVENTS.dead_letter, **secure_kafka.client_options(), auto_offset_reset="earliest",
                         consumer_timeout_ms=10_000, value_deserializer=JsonDeserializer())
    try:
        assert {"poison": marker} in [record.value for record in dead]
    finally:
        dead.close()


def test_no_credentials_a_wrong_password_or_an_unknown_ca_cannot_connect(as_principal, topics, tmp_path):
    right = as_principal(principal("registrations"))
    assert KafkaProbe(right)()[0] is True

    plaintext = Settings(service_name="anonymous", kafka_bootstrap_servers=right.kafka_bootstrap_servers)
    wrong_password = as_principal(principal("registrations"), password="not-the-password")
    unknown_user = as_principal("guichet-intruder", password="anything")
    other_ca = tmp_path / "other-ca.pem"
    from deploy.local.servers.kafka import write_self_signed_tls

    write_self_signed_tls(tmp_path / "other")
    other_ca.write_bytes((tmp_path / "other" / "ca.pem").read_bytes())
    untrusted = as_principal(principal("registrations"), kafka_ssl_cafile=other_ca)
    for settings in (plaintext, wrong_password, unknown_user, untrusted):
        ready, why = KafkaProbe(settings, timeout_ms=3_000)()
        assert ready is False, (settings.kafka_sasl_username, why)


def test_a_service_cannot_create_topics_only_the_migrations_principal_can(as_principal, topics):
    spec = TopicSpec(f"guichet.extra-{secrets.token_hex(4)}", 1, "test")
    with pytest.raises(KafkaError):
        ensure_topics(as_principal(principal("allocation")), [spec], with_dead_letters=False)
    ensure_topics(as_principal(MIGRATIONS_PRINCIPAL), [spec], with_dead_letters=False)
