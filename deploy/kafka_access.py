"""Who may do what on Kafka: one principal per service, with the topics it produces and consumes.

The one table the production manifests (deploy/kubernetes/dependencies/kafka-users.yaml, Strimzi `KafkaUser`
resources), the local secure broker (deploy/local/servers/kafka.py, `KafkaServer.grant`) and the tests
(tests/integration/test_kafka_sasl_tls.py, tests/unit/test_kubernetes_manifests.py) read. Who produces and
consumes each topic is what shared/contracts/ and the services' workers say:

- campaigns publishes campaign.* on the campaign topic and reads allocation's places given;
- registrations publishes the submissions and the ledger's application.* / offer.* events, reads the
  submissions (its intake consumer), the campaign topic and allocation's decisions;
- allocation publishes decisions, the billing feed and lottery.* (on the campaign topic), reads the campaign
  and application topics;
- notifications publishes nothing (but dead letters), reads the four others.

A consumer also writes the dead letters of what it reads (shared.kafka.ConsumerLoop), and every principal may
describe every Guichet topic (so shared.kafka.ensure_topics sees them all present and creates nothing: topics are
created by the migrations principal). Consumer groups are named after their service (`registrations-intake`,
`notifications`, …), so each principal reads the groups that start with its own name.
"""
from __future__ import annotations

from dataclasses import dataclass

from shared.topics import (
    ALLOCATION_EVENTS,
    APPLICATION_EVENTS,
    APPLICATION_SUBMISSIONS,
    BILLING_FEED,
    CAMPAIGN_EVENTS,
    TopicSpec,
    physical_name,
)

PRODUCES: dict[str, tuple[TopicSpec, ...]] = {
    "campaigns": (CAMPAIGN_EVENTS,),
    "registrations": (APPLICATION_SUBMISSIONS, APPLICATION_EVENTS),
    "allocation": (ALLOCATION_EVENTS, BILLING_FEED, CAMPAIGN_EVENTS),
    "notifications": (),
}
CONSUMES: dict[str, tuple[TopicSpec, ...]] = {
    "campaigns": (ALLOCATION_EVENTS,),
    "registrations": (CAMPAIGN_EVENTS, APPLICATION_SUBMISSIONS, ALLOCATION_EVENTS),
    "allocation": (CAMPAIGN_EVENTS, APPLICATION_EVENTS),
    "notifications": (CAMPAIGN_EVENTS, APPLICATION_EVENTS, ALLOCATION_EVENTS, BILLING_FEED),
}
SERVICES = tuple(PRODUCES)
# The migrations Job (deploy/kubernetes/release.py): creates the topics and checks their replication.
MIGRATIONS_PRINCIPAL = "guichet-migrate"
# The city's billing, reading the published feed (docs/billing-feed.md; examples/billing_preview).
BILLING_READER = "billing-reader"
TOPIC_NAMESPACE = "guichet."


@dataclass(frozen=True)
class AclRule:
    """An allow rule: `operations` on a resource (`topic`, `group` or `cluster`), by exact name or prefix."""

    resource: str
    name: str
    pattern: str  # "literal" or "prefix", as Strimzi spells them
    operations: tuple[str, ...]  # Kafka's operation names, as Strimzi spells them (Read, Write, Describe, …)


def principal(service: str) -> str:
    """The SASL user name of a service's processes (KAFKA_SASL_USERNAME)."""
    return f"guichet-{service}"


def service_rules(service: str, prefix: str = "") -> list[AclRule]:
    rules = [AclRule("topic", physical_name(TOPIC_NAMESPACE, prefix), "prefix", ("Describe",))]
    for topic in PRODUCES[service]:
        rules.append(AclRule("topic", physical_name(topic.name, prefix), "literal", ("Write", "Describe")))
    for topic in CONSUMES[service]:
        rules.append(AclRule("topic", physical_name(topic.name, prefix), "literal", ("Read", "Describe")))
        rules.append(AclRule("topic", physical_name(topic.dead_letter, prefix), "literal", ("Write", "Describe")))
    rules.append(AclRule("group", physical_name(service, prefix), "prefix", ("Read", "Describe")))
    return rules


def migrations_rules(prefix: str = "") -> list[AclRule]:
    return [AclRule("topic", physical_name(TOPIC_NAMESPACE, prefix), "prefix", ("Create", "Describe", "DescribeConfigs"))]


def billing_reader_rules(prefix: str = "") -> list[AclRule]:
    return [AclRule("topic", physical_name(BILLING_FEED.name, prefix), "literal", ("Read", "Describe")),
            AclRule("group", "billing", "prefix", ("Read", "Describe"))]


def all_principals(prefix: str = "") -> dict[str, list[AclRule]]:
    """Every principal Guichet's deployment defines, with its rules."""
    table = {principal(service): service_rules(service, prefix) for service in SERVICES}
    table[MIGRATIONS_PRINCIPAL] = migrations_rules(prefix)
    table[BILLING_READER] = billing_reader_rules(prefix)
    return table


KAFKA_USERS_HEADER = """\
# One KafkaUser per Guichet principal (Strimzi's User Operator): SCRAM-SHA-512 credentials, and ACLs that allow
# each service only the topics it produces and consumes. Written by `python -m deploy.kafka_access >
# deploy/kubernetes/dependencies/kafka-users.yaml` from deploy/kafka_access.py, the one table of who may do what;
# tests/unit/test_kubernetes_manifests.py fails when the two differ. Strimzi writes each user's password to the
# Secret of the same name in the kafka namespace (key `password`): copy it into the guichet namespace
# (docs/deploy.md#production-neighbours).
"""


def kafka_users(cluster: str = "guichet-kafka", namespace: str = "kafka", prefix: str = "") -> list[dict]:
    """The Strimzi KafkaUser resources of every principal."""
    return [{"apiVersion": "kafka.strimzi.io/v1", "kind": "KafkaUser",
             "metadata": {"name": name, "namespace": namespace, "labels": {"strimzi.io/cluster": cluster}},
             "spec": {"authentication": {"type": "scram-sha-512"},
                      "authorization": {"type": "simple", "acls": [
                          {"resource": {"type": rule.resource, "name": rule.name, "patternType": rule.pattern},
                           "operations": list(rule.operations)} for rule in rules]}}}
            for name, rules in all_principals(prefix).items()]


if __name__ == "__main__":
    import yaml

    print(KAFKA_USERS_HEADER + yaml.safe_dump_all(kafka_users(), sort_keys=False, explicit_start=False), end="")
