"""Apache Kafka as a local process (KRaft: one process is broker and controller), its jars fetched from
Maven Central on first use."""
from __future__ import annotations

import base64
import fcntl
import hashlib
import shutil
import socket
import subprocess
import uuid
from pathlib import Path

from deploy.local.servers.base import LOOPBACK, REPO, LocalServer, ServerStartError, require_program

DEFAULT_KAFKA_CACHE = REPO / ".cache" / "kafka"
JVM_MEMORY = ["-Xms256m", "-Xmx512m"]

KAFKA_VERSION = "4.4.0"
LOG4J_VERSION = "2.26.1"
KAFKA_POM = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by deploy/local/servers/kafka.py: the jars of Apache Kafka's broker, fetched from Maven Central. -->
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>guichet.local</groupId>
  <artifactId>kafka-runtime</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka_2.13</artifactId><version>{KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.kafka</groupId><artifactId>kafka-tools</artifactId><version>{KAFKA_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-core</artifactId><version>{LOG4J_VERSION}</version></dependency>
    <dependency><groupId>org.apache.logging.log4j</groupId><artifactId>log4j-slf4j2-impl</artifactId><version>{LOG4J_VERSION}</version></dependency>
    <!-- Pinned: left to Maven, slf4j-api 1.7 wins and the log4j2 binding is ignored. -->
    <dependency><groupId>org.slf4j</groupId><artifactId>slf4j-api</artifactId><version>2.0.17</version></dependency>
  </dependencies>
  <build>
    <plugins>
      <plugin><groupId>org.apache.maven.plugins</groupId><artifactId>maven-dependency-plugin</artifactId><version>3.8.1</version></plugin>
    </plugins>
  </build>
</project>
"""

# Root at WARN keeps the log readable; KafkaRaftServer's INFO lines show start-up and shutdown.
KAFKA_LOG4J2_YAML = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: WARN
      AppenderRef:
        - ref: STDOUT
    Logger:
      - name: kafka.server.KafkaRaftServer
        level: INFO
"""


def ensure_kafka_jars(cache_dir: Path = DEFAULT_KAFKA_CACHE) -> Path:
    """The folder of Kafka's runtime jars, fetched from Maven Central with `mvn` on first use."""
    cache_dir = Path(cache_dir).resolve()
    libs = cache_dir / "libs"
    # The marker holds the pom's digest: a version bump refetches instead of mixing old and new jars.
    marker = libs / ".fetched-pom-sha256"
    digest = hashlib.sha256(KAFKA_POM.encode()).hexdigest()
    cache_dir.mkdir(parents=True, exist_ok=True)
    with open(cache_dir / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # two starters at once fetch once
        if marker.exists() and marker.read_text() == digest:
            return libs
        shutil.rmtree(libs, ignore_errors=True)
        (cache_dir / "pom.xml").write_text(KAFKA_POM)
        require_program("mvn", "Maven fetches Apache Kafka's jars")
        # Output captured: quiet Maven still prints colour codes; it only matters when the fetch fails.
        fetch = subprocess.run(["mvn", "-q", "-B", "-f", str(cache_dir / "pom.xml"), "dependency:copy-dependencies",
                                f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if fetch.returncode != 0:
            raise ServerStartError(f"fetching Kafka's jars with Maven failed (exit {fetch.returncode}):\n"
                                   f"{fetch.stdout[-3000:]}{fetch.stderr[-3000:]}")
        marker.write_text(digest)
    return libs


def new_kafka_cluster_id() -> str:
    """What `kafka-storage random-uuid` prints (base64url of a random UUID, no padding), without a JVM start."""
    while True:
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).rstrip(b"=").decode()
        if not cluster_id.startswith("-"):  # Kafka avoids these too: they read as command-line options
            return cluster_id


class KafkaServer(LocalServer):
    """Apache Kafka in KRaft mode: one process that is both broker and controller."""

    name = "kafka"

    def __init__(self, base_dir: Path, port: int = 19092, controller_port: int = 19093,
                 cache_dir: Path | None = None) -> None:
        super().__init__(base_dir)
        self.port = port
        self.controller_port = controller_port
        self.cache_dir = Path(cache_dir or DEFAULT_KAFKA_CACHE).resolve()

    @property
    def bootstrap_servers(self) -> str:
        return f"{LOOPBACK}:{self.port}"

    @property
    def address(self) -> str:
        return self.bootstrap_servers

    @property
    def ports(self) -> tuple[int, ...]:
        return self.port, self.controller_port

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def _libs(self) -> Path:
        return self.cache_dir / "libs"

    @property
    def _config_file(self) -> Path:
        return self.base_dir / "server.properties"

    @property
    def _log4j_file(self) -> Path:
        return self.base_dir / "log4j2.yaml"

    def _prepare(self) -> None:
        require_program("java", "Apache Kafka runs on Java 17 or later")
        ensure_kafka_jars(self.cache_dir)
        self._config_file.write_text(self._server_properties())
        self._log4j_file.write_text(KAFKA_LOG4J2_YAML)
        if not (self.data_dir / "meta.properties").exists():
            self._run_setup_command(
                self._java("kafka.tools.StorageTool", "format", "-t", new_kafka_cluster_id(),
                           "-c", str(self._config_file), "--standalone"),
                "formatting the storage")

    def _server_properties(self) -> str:
        settings = {
            "process.roles": "broker,controller",
            "node.id": "1",
            "controller.quorum.bootstrap.servers": f"{LOOPBACK}:{self.controller_port}",
            "listeners": f"PLAINTEXT://{LOOPBACK}:{self.port},CONTROLLER://{LOOPBACK}:{self.controller_port}",
            "advertised.listeners": f"PLAINTEXT://{LOOPBACK}:{self.port}",
            "controller.listener.names": "CONTROLLER",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "inter.broker.listener.name": "PLAINTEXT",
            "log.dirs": str(self.data_dir),
            "num.partitions": "6",
            # One broker: every internal topic has a single replica.
            "offsets.topic.replication.factor": "1",
            "transaction.state.log.replication.factor": "1",
            "transaction.state.log.min.isr": "1",
            "share.coordinator.state.topic.replication.factor": "1",
            "share.coordinator.state.topic.min.isr": "1",
            # Consumers of a fresh group start at once instead of waiting 3 s for more members.
            "group.initial.rebalance.delay.ms": "0",
            # Topics are created on purpose with their partitions, never by a typo in a producer.
            "auto.create.topics.enable": "false",
        }
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _java(self, main_class: str, *args: str) -> list[str]:
        return ["java", *JVM_MEMORY, f"-Dlog4j2.configurationFile={self._log4j_file}",
                "-cp", f"{self._libs}/*", main_class, *args]

    def _command(self) -> list[str]:
        return self._java("kafka.Kafka", str(self._config_file))

    def _check_ready(self) -> None:
        # A bare TCP accept comes long before the broker serves requests: ask for real metadata.
        with socket.create_connection((LOOPBACK, self.port), timeout=1):
            pass  # cheap early exit while the JVM boots, before building a client
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(bootstrap_servers=self.bootstrap_servers, client_id="guichet-readiness",
                                 request_timeout_ms=3000, bootstrap_timeout_ms=3000)
        try:
            if not admin.describe_cluster()["brokers"]:
                raise RuntimeError("no broker registered yet")
        finally:
            admin.close()
