"""Apache Kafka as a local process (KRaft: one process is broker and controller), its jars fetched from
Maven Central on first use."""
from __future__ import annotations

import base64
import fcntl
import hashlib
import os
import secrets
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from deploy.local.servers.base import LOOPBACK, REPO, LocalServer, ServerStartError, require_program

DEFAULT_KAFKA_CACHE = REPO / ".cache" / "kafka"
# 512 MB ran out (OutOfMemoryError in the controller) once a long-lived local broker held ~13,000 partitions of
# test topics; a test session creates a few thousand. 1 GB leaves room; the machine has far more.
JVM_MEMORY = ["-Xms256m", "-Xmx1g"]
# A local broker lives minutes to hours (a bench's, a test session's, `make run`'s) on a machine of 2 cores, shared
# with everything it serves. Measured there, C2's compiler threads took 40-55 % of a broker's CPU in its first
# minutes (a test stack 6 minutes old, a bench's broker under intake's load): C1 alone compiles for a fraction of
# that, and one-threaded collection suits a heap this small. With these and 2 + 2 request threads, the broker's CPU
# per acknowledged intake record halved (docs/PERFORMANCE.md, "Fewer produce requests and a cheaper broker"). Not
# for a long-lived production broker, whose C2 compilation is paid once: deploy/kubernetes keeps the JVM's defaults.
JVM_CPU = ["-XX:TieredStopAtLevel=1", "-XX:+UseSerialGC"]

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


SCRAM = "SCRAM-SHA-512"
ADMIN_USER = "admin"


def write_self_signed_tls(folder: Path, host: str = LOOPBACK) -> tuple[Path, Path]:
    """A private CA and a broker certificate it signed for `host` (and localhost), as PEM files: `ca.pem`
    (what clients trust: KAFKA_SSL_CAFILE) and `broker.pem` (the broker's unencrypted PKCS#8 key then its
    certificate chain, Kafka's PEM key store). Kept when present: a restarted broker keeps its identity."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    ca_file, broker_file = folder / "ca.pem", folder / "broker.pem"
    if ca_file.exists() and broker_file.exists():
        return ca_file, broker_file
    folder.mkdir(parents=True, exist_ok=True)
    now = datetime.now(UTC)
    validity = dict(not_valid_before=now - timedelta(minutes=5), not_valid_after=now + timedelta(days=365))
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Guichet local Kafka CA")])
    ca_cert = (x509.CertificateBuilder().subject_name(ca_name).issuer_name(ca_name).public_key(ca_key.public_key())
               .serial_number(x509.random_serial_number())
               .not_valid_before(validity["not_valid_before"]).not_valid_after(validity["not_valid_after"])
               .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
               .add_extension(x509.KeyUsage(digital_signature=True, key_cert_sign=True, crl_sign=True,
                                            content_commitment=False, key_encipherment=False, data_encipherment=False,
                                            key_agreement=False, encipher_only=False, decipher_only=False),
                              critical=True)
               .sign(ca_key, hashes.SHA256()))
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])).issuer_name(ca_name)
            .public_key(key.public_key()).serial_number(x509.random_serial_number())
            .not_valid_before(validity["not_valid_before"]).not_valid_after(validity["not_valid_after"])
            .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host)),
                                                        x509.DNSName("localhost")]), critical=False)
            .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH,
                                                  x509.oid.ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
            .sign(ca_key, hashes.SHA256()))
    pem = serialization.Encoding.PEM
    key_pem = key.private_bytes(pem, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    _write_private(broker_file, key_pem + cert.public_bytes(pem) + ca_cert.public_bytes(pem))
    ca_file.write_bytes(ca_cert.public_bytes(pem))
    return ca_file, broker_file


def _write_private(path: Path, content: bytes) -> None:
    """A file only its owner reads (keys, passwords), created so from the start."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        out.write(content)


class KafkaServer(LocalServer):
    """Apache Kafka in KRaft mode: one process that is both broker and controller.

    `scram_users` (name -> password) turns on the production security (docs/deploy.md#production-neighbours):
    one SASL_SSL listener (TLS with a private CA from `write_self_signed_tls`, SCRAM-SHA-512), these users
    created in the storage at format time, and the StandardAuthorizer denying what no ACL allows
    (`grant` adds ACLs). The broker's own `admin` (super user, random password in `admin.password`) talks
    to the controller over SASL/PLAIN; nothing listens without authentication. Without `scram_users` the
    broker is the plain local one `make run` and the tests use."""

    name = "kafka"

    def __init__(self, base_dir: Path, port: int = 19092, controller_port: int = 19093,
                 cache_dir: Path | None = None, scram_users: Mapping[str, str] | None = None) -> None:
        super().__init__(base_dir)
        self.port = port
        self.controller_port = controller_port
        self.cache_dir = Path(cache_dir or DEFAULT_KAFKA_CACHE).resolve()
        self.scram_users = dict(scram_users) if scram_users is not None else None

    @property
    def secure(self) -> bool:
        return self.scram_users is not None

    @property
    def tls_dir(self) -> Path:
        return self.base_dir / "tls"

    @property
    def ca_file(self) -> Path:
        """The CA clients trust (KAFKA_SSL_CAFILE), once the secure broker was prepared."""
        return self.tls_dir / "ca.pem"

    @property
    def _admin_password_file(self) -> Path:
        return self.base_dir / "admin.password"

    def _admin_password(self) -> str:
        if not self._admin_password_file.exists():
            self.base_dir.mkdir(parents=True, exist_ok=True)
            _write_private(self._admin_password_file, secrets.token_urlsafe(24).encode())
        return self._admin_password_file.read_text()

    def client_options(self, user: str = ADMIN_USER, password: str | None = None) -> dict[str, Any]:
        """kafka-python options reaching this broker as `user` (the super user by default)."""
        options: dict[str, Any] = {"bootstrap_servers": self.bootstrap_servers}
        if self.secure:
            options.update(security_protocol="SASL_SSL", ssl_cafile=str(self.ca_file), sasl_mechanism=SCRAM,
                           sasl_plain_username=user,
                           sasl_plain_password=self._admin_password() if password is None else password)
        return options

    def grant(self, principal: str, rules: Iterable[Any]) -> None:
        """Allow `principal` what `rules` say (deploy.kafka_access.AclRule: resource, name, pattern,
        operations), as the super user. Creating an ACL that exists changes nothing."""
        from kafka import KafkaAdminClient
        from kafka.admin import (
            ACL,
            ACLOperation,
            ACLPermissionType,
            ACLResourcePatternType,
            ResourcePattern,
            ResourceType,
        )

        resource_types = {"topic": ResourceType.TOPIC, "group": ResourceType.GROUP, "cluster": ResourceType.CLUSTER}
        patterns = {"literal": ACLResourcePatternType.LITERAL, "prefix": ACLResourcePatternType.PREFIXED}
        acls = []
        for rule in rules:
            pattern = ResourcePattern(resource_types[rule.resource], rule.name, patterns[rule.pattern])
            for operation in rule.operations:
                name = "".join("_" + c if c.isupper() and i else c for i, c in enumerate(operation)).upper()
                acls.append(ACL(f"User:{principal}", "*", ACLOperation[name], ACLPermissionType.ALLOW, pattern))
        admin = KafkaAdminClient(**self.client_options(), client_id="guichet-grant")
        try:
            result = admin.create_acls(acls)
            if result.get("failed"):
                raise ServerStartError(f"creating ACLs for {principal} failed: {result['failed']}")
        finally:
            admin.close()

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
        if self.secure:
            write_self_signed_tls(self.tls_dir)
            # It holds the admin's password: only its owner reads it.
            _write_private(self._config_file, self._server_properties().encode())
        else:
            self._config_file.write_text(self._server_properties())
        self._log4j_file.write_text(KAFKA_LOG4J2_YAML)
        if not (self.data_dir / "meta.properties").exists():
            scram = []
            for user, password in ({ADMIN_USER: self._admin_password(), **self.scram_users}.items()
                                   if self.secure else ()):
                scram += ["--add-scram", f"{SCRAM}=[name={user},password={password}]"]
            self._run_setup_command(
                self._java("kafka.tools.StorageTool", "format", "-t", new_kafka_cluster_id(),
                           "-c", str(self._config_file), "--standalone", *scram),
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
            # Two cores: threads beyond them only take turns (Kafka's defaults are 3 network threads, 8 handlers).
            "num.network.threads": "2",
            "num.io.threads": "2",
        }
        if self.secure:
            settings.update(self._security_properties())
        return "".join(f"{key}={value}\n" for key, value in settings.items())

    def _security_properties(self) -> dict[str, str]:
        password = self._admin_password()
        scram_login = f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{ADMIN_USER}" ' \
                      f'password="{password}";'
        plain_login = f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{ADMIN_USER}" ' \
                      f'password="{password}" user_{ADMIN_USER}="{password}";'
        return {
            "listeners": f"SASL_SSL://{LOOPBACK}:{self.port},CONTROLLER://{LOOPBACK}:{self.controller_port}",
            "advertised.listeners": f"SASL_SSL://{LOOPBACK}:{self.port}",
            # SCRAM credentials live in the metadata log, which the controller serves: it authenticates with PLAIN.
            "listener.security.protocol.map": "CONTROLLER:SASL_PLAINTEXT,SASL_SSL:SASL_SSL",
            "inter.broker.listener.name": "SASL_SSL",
            "sasl.enabled.mechanisms": SCRAM,
            "sasl.mechanism.inter.broker.protocol": SCRAM,
            "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": scram_login,
            "sasl.mechanism.controller.protocol": "PLAIN",
            "listener.name.controller.sasl.enabled.mechanisms": "PLAIN",
            "listener.name.controller.plain.sasl.jaas.config": plain_login,
            "ssl.keystore.type": "PEM",
            "ssl.keystore.location": str(self.tls_dir / "broker.pem"),
            "ssl.truststore.type": "PEM",
            "ssl.truststore.location": str(self.ca_file),
            "authorizer.class.name": "org.apache.kafka.metadata.authorizer.StandardAuthorizer",
            "super.users": f"User:{ADMIN_USER}",
            "allow.everyone.if.no.acl.found": "false",
        }

    def _java(self, main_class: str, *args: str) -> list[str]:
        return ["java", *JVM_MEMORY, *JVM_CPU, f"-Dlog4j2.configurationFile={self._log4j_file}",
                "-cp", f"{self._libs}/*", main_class, *args]

    def _command(self) -> list[str]:
        return self._java("kafka.Kafka", str(self._config_file))

    def _check_ready(self) -> None:
        # A bare TCP accept comes long before the broker serves requests: ask for real metadata.
        with socket.create_connection((LOOPBACK, self.port), timeout=1):
            pass  # cheap early exit while the JVM boots, before building a client
        from kafka import KafkaAdminClient

        admin = KafkaAdminClient(**self.client_options(), client_id="guichet-readiness",
                                 request_timeout_ms=3000, bootstrap_timeout_ms=3000)
        try:
            if not admin.describe_cluster()["brokers"]:
                raise RuntimeError("no broker registered yet")
        finally:
            admin.close()
