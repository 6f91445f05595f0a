"""Release steps the Kubernetes manifests run from the Guichet image (see docs/deploy.md).

    python -m deploy.kubernetes.release migrate [--expect-replication N]
        The migrations Job: every service's schema to its heads (Alembic, under the advisory lock
        shared.migrations takes), then every Kafka topic created when missing (shared.kafka.ensure_topics,
        at the brokers' default replication factor), then a check that each topic really has at least N
        replicas: acks=all protects an acknowledged application only with replication 3 and
        min.insync.replicas 2, and a broker default left at 1 would silently give less.

    python -m deploy.kubernetes.release wait-for-schema SERVICE [--timeout SECONDS]
        Each Deployment's initContainer: waits until SERVICE's schema holds every migration this image
        knows (or a newer release's), so a pod of a new release never serves against the old schema.
        Old pods keep serving meanwhile. Exits 1 after the timeout; Kubernetes restarts the init
        container and the rollout waits (and reports ProgressDeadlineExceeded if the Job failed).
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from dataclasses import dataclass

from deploy.catalogue import SERVICES_WITH_SCHEMAS, web_service
from shared.waiting import WaitTimedOut, wait_until

SERVICES = SERVICES_WITH_SCHEMAS


@dataclass(frozen=True)
class SchemaVerdict:
    ready: bool
    reason: str


def schema_verdict(script, database_heads: Iterable[str]) -> SchemaVerdict:
    """May a pod of the image whose migrations are `script` (an Alembic ScriptDirectory) start against
    a database at `database_heads`?

    Yes when every head of the image is applied (it is a database head or an ancestor of one), and also
    when the database holds a revision the image does not know: a newer release migrated it and this is
    a rollback, which expand/contract migrations allow (old code runs on the newer schema).
    """
    from alembic.util import CommandError

    database_heads = tuple(sorted(set(database_heads)))
    image_heads = set(script.get_heads())
    if not database_heads:
        return SchemaVerdict(False, "not migrated yet (no Alembic version)")
    unknown = []
    for head in database_heads:
        try:
            script.get_revision(head)
        except CommandError:
            unknown.append(head)
    if unknown:
        return SchemaVerdict(True, f"database is ahead of this image ({', '.join(unknown)}): a newer release "
                                   "migrated it; running the older code on it (rollback)")
    applied = {revision.revision for head in database_heads for revision in script.iterate_revisions(head, "base")}
    missing = sorted(image_heads - applied)
    if missing:
        return SchemaVerdict(False, f"waiting for migrations {', '.join(missing)} "
                                    f"(database at {', '.join(database_heads)})")
    return SchemaVerdict(True, f"schema at {', '.join(database_heads)}")


def database_heads(service: str, settings) -> tuple[str, ...]:
    from alembic.runtime.migration import MigrationContext

    from shared.db import make_engine

    schema = web_service(service).schema
    engine = make_engine(settings, pool_size=1, max_overflow=0)
    try:
        with engine.connect() as connection:
            context = MigrationContext.configure(connection, opts={"version_table_schema": schema})
            return tuple(context.get_current_heads())
    finally:
        engine.dispose()


def wait_for_schema(service: str, timeout: float, interval: float = 2.0) -> int:
    from alembic.script import ScriptDirectory

    from shared.config import Settings
    from shared.migrations import alembic_config

    settings = Settings.from_env(f"{service}-schema-gate")
    script = ScriptDirectory.from_config(alembic_config(service, settings))
    last = ""

    def schema_ready() -> bool:
        nonlocal last
        try:
            verdict = schema_verdict(script, database_heads(service, settings))
        except Exception as exc:  # noqa: BLE001 — database not reachable yet: keep waiting
            verdict = SchemaVerdict(False, f"database unreachable: {type(exc).__name__}: {exc}")
        if verdict.reason != last:
            print(f"{service}: {verdict.reason}", flush=True)
            last = verdict.reason
        return verdict.ready

    try:
        wait_until(schema_ready, timeout=timeout, interval=interval, what=f"{service}'s schema at this image's heads")
    except WaitTimedOut:
        print(f"{service}: gave up after {timeout:.0f}s; is the migrations Job running? "
              "(kubectl logs job/guichet-migrate)", file=sys.stderr, flush=True)
        return 1
    return 0


def under_replicated(settings, expected: int) -> dict[str, int]:
    """Topics (physical names) with fewer than `expected` replicas on some partition -> their fewest."""
    from kafka import KafkaAdminClient

    from shared.kafka import client_options
    from shared.topics import ALL_TOPICS, physical_name

    names = []
    for spec in ALL_TOPICS:
        names += [physical_name(spec.name, settings.kafka_topic_prefix),
                  physical_name(spec.dead_letter, settings.kafka_topic_prefix)]
    admin = KafkaAdminClient(**client_options(settings, client_id=f"{settings.service_name}-admin"))
    try:
        found = {}
        for topic in admin.describe_topics(names):
            # A missing topic (error code 3) has no partitions: it counts as 0 replicas.
            fewest = min((len(p["replica_nodes"]) for p in topic["partitions"] or ()), default=0)
            if fewest < expected:
                found[topic["name"]] = fewest
        return found
    finally:
        admin.close()


def migrate(expect_replication: int) -> int:
    from shared.config import Settings
    from shared.kafka import ensure_topics
    from shared.migrations import upgrade

    settings = Settings.from_env("guichet-migrate")
    for service in SERVICES:
        upgrade(service, settings)
        print(f"{service}: migrated to head", flush=True)
    ensure_topics(settings)
    print("topics: present", flush=True)
    weak = under_replicated(settings, expect_replication)
    if weak:
        listing = ", ".join(f"{name} ({count})" for name, count in sorted(weak.items()))
        print(f"topics with fewer than {expect_replication} replicas: {listing}. Set the brokers' "
              "default.replication.factor (and min.insync.replicas 2) before the first start, or reassign "
              "these partitions; see docs/deploy.md", file=sys.stderr, flush=True)
        return 1
    print(f"topics: every partition has at least {expect_replication} replica(s)", flush=True)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.kubernetes.release", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    migrate_parser = commands.add_parser("migrate", help="schemas to head, topics present and replicated")
    migrate_parser.add_argument("--expect-replication", type=int, default=3)
    gate = commands.add_parser("wait-for-schema", help="wait until SERVICE's schema is at this image's heads")
    gate.add_argument("service", choices=SERVICES)
    gate.add_argument("--timeout", type=float, default=300.0)
    args = parser.parse_args(argv)
    if args.command == "migrate":
        return migrate(args.expect_replication)
    return wait_for_schema(args.service, args.timeout)


if __name__ == "__main__":
    sys.exit(main())
