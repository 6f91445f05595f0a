"""`make run`: the whole stack on one machine — Kafka, PostgreSQL, Redis, then every service
under gunicorn and every worker — until Ctrl-C. `--stop` ends what an earlier run left behind."""
from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
STATE_DIR = REPO / ".local"
PIDS_FILE = STATE_DIR / "run" / "pids.json"
LOG_DIR = STATE_DIR / "run" / "logs"


@dataclass(frozen=True)
class Service:
    name: str
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


SERVICES = (Service("campaigns", 8001), Service("registrations", 8002), Service("allocation", 8003),
            Service("notifications", 8004))
# The pages for parents and managers: no schema, no broker; it calls the four services above. Started
# from its factory: it has no Kubernetes deployment yet (deploy/kubernetes/ has one per services/*/wsgi.py).
PORTAL = Service("portal", 8005)
PORTAL_APP = "services.portal.app:create_app()"


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def start_process(name: str, argv: list[str], env: dict[str, str], log_dir: Path = LOG_DIR) -> subprocess.Popen:
    log_dir.mkdir(parents=True, exist_ok=True)
    with open(log_dir / f"{name}.log", "ab") as log:
        return subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def gunicorn_argv(service: Service, app: str | None = None) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"),
            app or f"services.{service.name}.wsgi:app"]


def service_env(service: Service, env: dict[str, str]) -> dict[str, str]:
    return {**env, "GUICHET_BIND": f"127.0.0.1:{service.port}", "GUICHET_WORKERS": env.get("GUICHET_WORKERS", "2")}


def wait_ready(service: Service, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    last = "no answer"
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"{service.url}/readyz", timeout=3) as response:
                if response.status == 200:
                    return
        except Exception as exc:  # noqa: BLE001 — not up yet
            last = str(exc)
        time.sleep(0.5)
    raise RuntimeError(f"{service.name} not ready after {timeout:.0f}s ({last}); see {LOG_DIR / service.name}.log")


def stop_recorded_processes() -> None:
    if not PIDS_FILE.exists():
        return
    for name, pid in json.loads(PIDS_FILE.read_text()).items():
        try:
            os.killpg(pid, signal.SIGTERM)
            print(f"stopped {name}")
        except ProcessLookupError:
            pass
    PIDS_FILE.unlink()


def prepare(env: dict[str, str]) -> None:
    """Keys, schemas, topics and demo data: each step is idempotent, so `make run` can be re-run."""
    from shared.config import Settings
    from shared.devtokens import ensure_dev_keys
    from shared.kafka import ensure_topics
    from shared.migrations import upgrade

    settings = Settings.from_env("make-run", env)
    ensure_dev_keys(settings.jwt_private_key_file, settings.jwt_public_key_file)
    for service in SERVICES:
        upgrade(service.name, settings)
    ensure_topics(settings)
    if has_module("services.campaigns.demo"):
        subprocess.run([sys.executable, "-m", "services.campaigns.demo"], cwd=REPO, env=env, check=True)


def start_mail_catcher(env: dict[str, str], processes: dict[str, subprocess.Popen]) -> Path | None:
    """An SMTP server on the notifications worker's default relay (127.0.0.1:1025) that prints every
    email it receives to its log, so a developer reads what parents would get. Skipped when another
    server already listens there, or when GUICHET_SMTP_HOST/PORT point elsewhere."""
    host, port = env.get("GUICHET_SMTP_HOST", "127.0.0.1"), int(env.get("GUICHET_SMTP_PORT", "1025"))
    if host != "127.0.0.1" or not has_module("aiosmtpd"):
        return None
    with socket.socket() as probe:
        if probe.connect_ex((host, port)) == 0:
            return None
    processes["emails"] = start_process("emails", [sys.executable, "-m", "aiosmtpd", "-n", "-l", f"{host}:{port}"],
                                        {**env, "PYTHONUNBUFFERED": "1"})
    return LOG_DIR / "emails.log"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--stop", action="store_true", help="stop the services of an earlier run and exit")
    args = parser.parse_args(argv)
    stop_recorded_processes()
    if args.stop:
        return

    from deploy.local.stack import start_stack, stop_stack

    stack_dir = STATE_DIR / "stack"
    env = {**os.environ, **start_stack(stack_dir)}
    # Links in parents' messages lead to the portal's pages.
    env.setdefault("GUICHET_PORTAL_URL", PORTAL.url)
    prepare(env)

    processes: dict[str, subprocess.Popen] = {}
    for service in SERVICES:
        processes[service.name] = start_process(service.name, gunicorn_argv(service), service_env(service, env))
        if has_module(f"services.{service.name}.worker"):
            processes[f"{service.name}-worker"] = start_process(
                f"{service.name}-worker", [sys.executable, "-m", f"services.{service.name}.worker"], env)
    processes[PORTAL.name] = start_process(PORTAL.name, gunicorn_argv(PORTAL, PORTAL_APP),
                                           {**service_env(PORTAL, env), "GUICHET_PORTAL_DEV_SIGN_IN": "1"})
    mail_log = start_mail_catcher(env, processes)
    PIDS_FILE.parent.mkdir(parents=True, exist_ok=True)
    PIDS_FILE.write_text(json.dumps({name: p.pid for name, p in processes.items()}))

    stopping = False

    def shutdown(*_):
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, shutdown)
    signal.signal(signal.SIGTERM, shutdown)
    try:
        for service in (*SERVICES, PORTAL):
            wait_ready(service)
        print("\nGuichet is running:")
        for service in SERVICES:
            print(f"  {service.name:<14} {service.url}   (API docs: {service.url}/docs)")
        print(f"  {PORTAL.name:<14} {PORTAL.url}   (pages for parents and managers, in French)")
        if mail_log is not None:
            print(f"  {'emails':<14} {mail_log}   (every email sent, as received by a local SMTP server)")
        print(f"\n  logs: {LOG_DIR}\n  a token: make token ROLE=manager SUB=agent-1\n  stop: Ctrl-C (or `make stop`)\n")
        while not stopping:
            for name, process in processes.items():
                if process.poll() is not None:
                    print(f"{name} exited with {process.returncode}; see {LOG_DIR / name}.log")
                    stopping = True
            time.sleep(1)
    finally:
        print("stopping…")
        stop_recorded_processes()
        for process in processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
        stop_stack(stack_dir)


if __name__ == "__main__":
    main()
