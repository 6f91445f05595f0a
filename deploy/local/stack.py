"""The local stack: Kafka, PostgreSQL and Redis as real processes on 127.0.0.1, for `make run` and `make test`.

    python -m deploy.local.stack up       start what the environment does not already name; write stack.env
    python -m deploy.local.stack down     stop what `up` started
    python -m deploy.local.stack status   show each server; exit 1 when one that `up` promised is not running
    python -m deploy.local.stack env      print stack.env

A server named in the environment (KAFKA_BOOTSTRAP_SERVERS, DATABASE_URL, REDIS_URL) is used as is and
never started or stopped here. Ports: GUICHET_KAFKA_PORT, GUICHET_KAFKA_CONTROLLER_PORT, GUICHET_PG_PORT,
GUICHET_REDIS_PORT.
"""
from __future__ import annotations

import argparse
import os
import shlex
import sys
from collections.abc import Collection
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from deploy.local.servers import REPO, KafkaServer, LocalServer, PostgresServer, RedisServer, ServerStartError

DEFAULT_DIR = REPO / ".local" / "stack"
ENV_FILE_NAME = "stack.env"


def _port(variable: str, default: int) -> int:
    return int(os.environ.get(variable, default))


def local_servers(stack_dir: Path) -> dict[str, LocalServer]:
    """This stack's own servers, keyed by the environment variable that gives clients their address."""
    return {
        "KAFKA_BOOTSTRAP_SERVERS": KafkaServer(stack_dir / "kafka", port=_port("GUICHET_KAFKA_PORT", 19092),
                                               controller_port=_port("GUICHET_KAFKA_CONTROLLER_PORT", 19093)),
        "DATABASE_URL": PostgresServer(stack_dir / "postgres", port=_port("GUICHET_PG_PORT", 55432)),
        "REDIS_URL": RedisServer(stack_dir / "redis", port=_port("GUICHET_REDIS_PORT", 16379)),
    }


def _named_elsewhere(variable: str, server: LocalServer) -> str | None:
    """The address the environment gives for a server that is not this stack's own.

    A shell that sourced stack.env names our own servers too: those are still ours to start.
    """
    named = os.environ.get(variable)
    return named if named and named != server.address else None


def start_stack(stack_dir: Path = DEFAULT_DIR) -> dict[str, str]:
    """Start (or reuse) the three servers, wait until they answer, write stack.env; return its variables."""
    stack_dir = Path(stack_dir)
    servers = local_servers(stack_dir)
    to_start = [server for variable, server in servers.items() if not _named_elsewhere(variable, server)]
    # In parallel: PostgreSQL and Redis are ready while the JVM still boots.
    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        list(pool.map(LocalServer.start, to_start))
    env = {variable: _named_elsewhere(variable, server) or server.address for variable, server in servers.items()}
    _write_env_file(stack_dir, env)
    return env


def running_servers(stack_dir: Path = DEFAULT_DIR) -> frozenset[str]:
    """The names of this stack's servers running now (started by `make stack-up`, or by an earlier run)."""
    return frozenset(server.name for server in local_servers(Path(stack_dir)).values() if server.is_running())


def stop_stack(stack_dir: Path = DEFAULT_DIR, keep: Collection[str] = ()) -> list[str]:
    """Stop the servers this stack started (found by their pid files), except those named in `keep` (running before
    the caller started the stack: not the caller's to stop); forget stack.env once none is kept. Name those stopped."""
    stack_dir = Path(stack_dir)
    servers = [server for server in local_servers(stack_dir).values() if server.name not in keep]
    running = [server for server in servers if server.is_running()]
    with ThreadPoolExecutor(max_workers=max(1, len(servers))) as pool:
        list(pool.map(LocalServer.stop, servers))
    if not keep:
        (stack_dir / ENV_FILE_NAME).unlink(missing_ok=True)
    return [server.name for server in running]


def _write_env_file(stack_dir: Path, env: dict[str, str]) -> None:
    # shlex.quote leaves plain addresses bare, so Make's `include` reads the file as well as a shell does.
    lines = [f"{variable}={shlex.quote(value)}" for variable, value in env.items()]
    stack_dir.mkdir(parents=True, exist_ok=True)
    (stack_dir / ENV_FILE_NAME).write_text("\n".join(lines) + "\n")


def read_env_file(stack_dir: Path) -> dict[str, str]:
    path = Path(stack_dir) / ENV_FILE_NAME
    if not path.exists():
        return {}
    pairs = (shlex.split(line)[0].split("=", 1) for line in path.read_text().splitlines() if line.strip())
    return dict(pairs)


def _describe(server: LocalServer, recorded_address: str | None) -> tuple[str, bool]:
    """One status line for a server, and whether it is as `up` left it."""
    pid = server.recorded_pid()
    if server.is_running():
        return f"running   {server.address}  (pid {pid}, log {server.log_file})", True
    if pid is not None:
        return f"DOWN      pid {pid} is gone; see {server.log_file}", False
    if recorded_address and recorded_address != server.address:
        return f"external  {recorded_address}  (named by the environment at `up`; not managed here)", True
    return "stopped", False


def status(stack_dir: Path) -> int:
    recorded = read_env_file(stack_dir)
    healthy = True
    for variable, server in local_servers(stack_dir).items():
        line, ok = _describe(server, recorded.get(variable))
        healthy &= ok
        print(f"{server.name:<9} {line}")
    return 0 if healthy else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.local.stack", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("command", choices=("up", "down", "status", "env"))
    parser.add_argument("--dir", type=Path, default=DEFAULT_DIR,
                        help=f"where data, logs, pid files and {ENV_FILE_NAME} live (default: {DEFAULT_DIR})")
    args = parser.parse_args(argv)
    stack_dir = args.dir.resolve()
    env_file = stack_dir / ENV_FILE_NAME
    if args.command == "up":
        print(f"starting the local stack in {stack_dir} …", file=sys.stderr)
        try:
            start_stack(stack_dir)
        except ServerStartError as error:
            print(error, file=sys.stderr)
            return 1
        print(env_file.read_text(), end="")
        print(f"(written to {env_file}; `set -a; . {env_file}; set +a` to use it)", file=sys.stderr)
    elif args.command == "down":
        stopped = stop_stack(stack_dir)
        print(f"stopped: {', '.join(stopped) or 'nothing was running'}", file=sys.stderr)
    elif args.command == "status":
        return status(stack_dir)
    elif not env_file.exists():
        print(f"{env_file} does not exist: run `python -m deploy.local.stack up` first", file=sys.stderr)
        return 1
    else:
        print(env_file.read_text(), end="")
    return 0


if __name__ == "__main__":
    sys.exit(main())
