"""An isolated Guichet stack for the bench: its own folder (.local/bench/), its own ports, started
with the functions `make run` uses (deploy.local.run, deploy.local.stack) and the processes of the
catalogue (deploy/catalogue.py), stopped at the end. And `private_servers()`: only Kafka, PostgreSQL
and Redis, in a temporary folder, for the benchmarks that time one component (bench/outbox_relay.py,
bench/ledger_writer.py, bench/allocation_draw.py).

Kafka, PostgreSQL and Redis are always the bench's own, even when the environment names others
(KAFKA_BOOTSTRAP_SERVERS, …): a benchmark must not write 20,000 households into a shared database.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

from deploy.catalogue import web_service, worker
from deploy.local.servers import REPO, KafkaServer, PostgresServer, RedisServer, free_port
from shared.config import Settings
from shared.waiting import WaitTimedOut, wait_until

BENCH_DIR = REPO / ".local" / "bench"
# Ports are free ones the kernel hands out at start: the bench runs beside `make run`, the tests,
# or anyone else's stack on the machine.
STACK_PORT_VARIABLES = ("GUICHET_KAFKA_PORT", "GUICHET_KAFKA_CONTROLLER_PORT", "GUICHET_PG_PORT", "GUICHET_REDIS_PORT")
NAMED_SERVERS = ("KAFKA_BOOTSTRAP_SERVERS", "DATABASE_URL", "REDIS_URL", "KAFKA_TOPIC_PREFIX")
GUNICORN_CONF = REPO / "deploy" / "gunicorn.conf.py"
# Generous on purpose: the bench measures what the service takes, so admission must not cut it
# short; a 429 or 503 in the results is then the service's own answer, reported apart. The public
# listing's per-address budget too: the refresh storm comes from one address, and at the default
# 600 a minute 97 % of it was answered 429 without reaching the catalogue.
ADMISSION_LIMITS = {"INTAKE_ADMISSIONS_PER_SECOND": "1000000", "INTAKE_PER_IP_PER_MINUTE": "100000000",
                    "INTAKE_PER_ACCOUNT_PER_MINUTE": "1000", "GUICHET_PUBLIC_REQUESTS_PER_MINUTE": "100000000"}


@dataclass(frozen=True)
class GunicornConfig:
    """One gunicorn configuration, as deploy/gunicorn.conf.py reads it from the environment."""
    worker_class: str
    workers: int
    threads: int = 1

    @classmethod
    def parse(cls, text: str) -> GunicornConfig:
        """`gthread:4x4` (class:workers x threads), `sync:4`, `gevent:2`."""
        worker_class, _, shape = text.strip().partition(":")
        if not worker_class or not shape:
            raise ValueError(f"not a gunicorn configuration: {text!r} (expected e.g. gthread:4x4 or sync:4)")
        workers, _, threads = shape.partition("x")
        config = cls(worker_class, int(workers), int(threads or 1))
        if config.worker_class == "sync" and config.threads != 1:
            # gunicorn silently turns a sync worker with threads into gthread: refuse rather than mislabel.
            raise ValueError("a sync worker has no threads (gunicorn would run gthread instead)")
        return config

    @property
    def label(self) -> str:
        if self.worker_class == "gthread":
            return f"gthread, {self.workers} workers × {self.threads} threads"
        return f"{self.worker_class}, {self.workers} workers"

    @property
    def slug(self) -> str:
        return f"{self.worker_class}-{self.workers}x{self.threads}"

    def env(self) -> dict[str, str]:
        return {"GUICHET_WORKER_CLASS": self.worker_class, "GUICHET_WORKERS": str(self.workers),
                "GUICHET_THREADS": str(self.threads)}


def free_ports(count: int) -> list[int]:
    sockets = [socket.socket() for _ in range(count)]
    try:
        for probe in sockets:
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in sockets]
    finally:
        for probe in sockets:
            probe.close()


def url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def answers_200(address: str) -> bool:
    with urllib.request.urlopen(address, timeout=3) as response:
        return response.status == 200


def wait_http(address: str, timeout: float = 90, what: str = "") -> None:
    try:
        # Refused connections, resets and 503s all mean "not up yet".
        wait_until(lambda: answers_200(address), timeout=timeout, interval=0.3, what=what or address,
                   ignore=(Exception,))
    except WaitTimedOut as timed_out:
        raise RuntimeError(str(timed_out)) from None


@dataclass(frozen=True)
class PrivateServers:
    """The servers `private_servers()` started; those not asked for are None."""
    folder: Path
    postgres: PostgresServer | None = None
    kafka: KafkaServer | None = None
    redis: RedisServer | None = None

    def settings(self, service_name: str, **overrides) -> Settings:
        """Settings pointing at these servers (and the defaults elsewhere), with `overrides`."""
        addresses = {"database_url": self.postgres and self.postgres.url,
                     "kafka_bootstrap_servers": self.kafka and self.kafka.bootstrap_servers,
                     "redis_url": self.redis and self.redis.url}
        return Settings(service_name=service_name, **{k: v for k, v in addresses.items() if v}, **overrides)


@contextmanager
def private_servers(*, postgres: bool = True, kafka: bool = False, redis: bool = False,
                    prefix: str = "guichet-bench-") -> Iterator[PrivateServers]:
    """Fresh servers on free ports in a temporary folder, started in order and waited for; stopped and the
    folder removed on the way out, whatever happened. A benchmark's figures then owe nothing to a
    shared database or broker."""
    folder = Path(tempfile.mkdtemp(prefix=prefix))
    folder.chmod(0o755)  # PostgreSQL runs as its own account when we are root
    servers = PrivateServers(
        folder,
        postgres=PostgresServer(folder / "postgres", port=free_port()) if postgres else None,
        kafka=KafkaServer(folder / "kafka", port=free_port(), controller_port=free_port()) if kafka else None,
        redis=RedisServer(folder / "redis", port=free_port()) if redis else None)
    with ExitStack() as cleanup:
        cleanup.callback(shutil.rmtree, folder, ignore_errors=True)
        for server in (servers.postgres, servers.kafka, servers.redis):
            if server is not None:
                cleanup.callback(server.stop)  # registered first: a start that fails half-way is stopped too
                server.start()
        yield servers


class BenchStack:
    """The servers, services and workers of one bench run; `close()` stops whatever was started."""

    def __init__(self, folder: Path = BENCH_DIR):
        self.folder = Path(folder)
        self.stack_dir = self.folder / "stack"
        self.logs = self.folder / "logs"
        self.env: dict[str, str] = {}
        self.processes: dict[str, subprocess.Popen] = {}
        self.ports: dict[str, int] = dict(zip(("campaigns", "registrations", "hello"), free_ports(3)))
        self._stack_started = False

    # -- servers ----------------------------------------------------------------------------------

    def start(self) -> dict[str, str]:
        """Fresh Kafka, PostgreSQL and Redis in the bench folder; schemas, topics and keys; the env to use."""
        from deploy.local.run import prepare
        from deploy.local.stack import start_stack, stop_stack

        for name in NAMED_SERVERS:
            os.environ.pop(name, None)
        # Whatever an interrupted bench left running: its services and workers, then its servers.
        self._stop_recorded_processes()
        stop_stack(self.stack_dir)
        os.environ.update({name: str(port) for name, port in zip(STACK_PORT_VARIABLES, free_ports(4))})
        shutil.rmtree(self.folder, ignore_errors=True)
        self.logs.mkdir(parents=True)
        self._stack_started = True
        keys = self.folder / "keys"
        self.env = {**os.environ, **start_stack(self.stack_dir), **ADMISSION_LIMITS,
                    "JWT_PRIVATE_KEY_FILE": str(keys / "dev-jwt-private.pem"),
                    "JWT_PUBLIC_KEY_FILE": str(keys / "dev-jwt-public.pem")}
        prepare(self.env)
        return self.env

    # -- processes ----------------------------------------------------------------------------------

    def _start(self, name: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        from deploy.local.run import start_process

        self.stop_process(name)
        process = start_process(name, argv, env, log_dir=self.logs)
        self.processes[name] = process
        self._record_processes()
        return process

    @property
    def _pids_file(self) -> Path:
        return self.folder / "pids.json"

    def _record_processes(self) -> None:
        self._pids_file.write_text(json.dumps({name: p.pid for name, p in self.processes.items()}))

    def _stop_recorded_processes(self) -> None:
        """SIGTERM the process groups an earlier bench recorded, if they are still ours (run from the repo)."""
        if not self._pids_file.exists():
            return
        for pid in json.loads(self._pids_file.read_text()).values():
            try:
                if Path(os.readlink(f"/proc/{pid}/cwd")) == REPO:
                    os.killpg(pid, signal.SIGTERM)
            except (FileNotFoundError, ProcessLookupError, PermissionError):
                continue
        self._pids_file.unlink()

    def start_worker(self, service: str) -> None:
        process = worker(service)
        self._start(process.name, process.argv(sys.executable), self.env)

    def start_service(self, name: str, config: GunicornConfig, extra_env: dict[str, str] | None = None) -> str:
        """One service under deploy/gunicorn.conf.py with `config`; returns its URL once /readyz answers."""
        from deploy.local.run import gunicorn_argv, service_env

        service = web_service(name).on_port(self.ports[name])
        env = service_env(service, {**self.env, **config.env(), **(extra_env or {})})
        self._start(name, gunicorn_argv(service), env)
        wait_http(f"{service.url}/readyz", what=f"{name} (log: {self.logs / name}.log)")
        return service.url

    def start_hello(self, config: GunicornConfig) -> str:
        """bench/hello_app.py under the same gunicorn settings file and configuration."""
        return self.start_app("hello", "bench.hello_app:app", config)

    def start_app(self, name: str, app: str, config: GunicornConfig, extra_env: dict[str, str] | None = None) -> str:
        """A bench WSGI app (`module:callable`) under the services' gunicorn settings file with `config`, on a port
        of its own; returns its URL once /healthz answers."""
        if name not in self.ports:
            self.ports[name] = free_ports(1)[0]
        env = {**self.env, **config.env(), **(extra_env or {}), "GUICHET_BIND": f"127.0.0.1:{self.ports[name]}"}
        self._start(name, [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), app], env)
        wait_http(f"{url(self.ports[name])}/healthz", what=f"{name} (log: {self.logs / name}.log)")
        return url(self.ports[name])

    def process_roots(self) -> dict[str, int | None]:
        """The pid of each process tree of the bench: services, workers, and the three servers."""
        from deploy.local.stack import local_servers

        roots: dict[str, int | None] = {name: process.pid for name, process in self.processes.items()
                                        if process.poll() is None}
        roots.update({server.name: server.recorded_pid() for server in local_servers(self.stack_dir).values()})
        return roots

    def check_alive(self) -> list[str]:
        """Names of the processes that exited on their own."""
        return [name for name, process in self.processes.items() if process.poll() is not None]

    def stop_process(self, name: str, timeout: float = 30) -> None:
        process = self.processes.pop(name, None)
        if self.folder.exists():
            self._record_processes()
        if process is None or process.poll() is not None:
            return
        try:
            os.killpg(process.pid, signal.SIGTERM)
            process.wait(timeout=timeout)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def close(self) -> None:
        for name in list(self.processes):
            self.stop_process(name)
        if self._stack_started:
            from deploy.local.stack import stop_stack

            stop_stack(self.stack_dir)
            self._stack_started = False
