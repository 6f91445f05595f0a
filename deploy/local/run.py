"""`make run`: the whole stack on one machine — Kafka, PostgreSQL, Redis, then every web service under gunicorn and
every worker of the process catalogue (deploy/catalogue.py) — until Ctrl-C. `--stop` ends what an earlier run left
behind."""
from __future__ import annotations

import argparse
import base64
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path

from deploy.catalogue import SERVICES_WITH_SCHEMAS, WEB_SERVICES, WORKERS, WebService, Worker, web_service
from deploy.local.servers import REPO
from deploy.local.servers.base import open_private_log
from deploy.local.servers.nginx import Route, nginx_argv, submissions_shedding, waiting_room_shedding, write_config
from shared.waiting import WaitTimedOut, wait_until

STATE_DIR = REPO / ".local"
PIDS_FILE = STATE_DIR / "run" / "pids.json"
LOG_DIR = STATE_DIR / "run" / "logs"
PORTAL = web_service("portal")
# The local realm's portal client (deploy/local/keycloak/guichet-realm.json); production mounts its own.
PORTAL_OIDC_SECRET = "guichet-portal-local-secret"
# The demo accounts of the local realm, printed by `make run` (username = password).
DEMO_ACCOUNTS = (("parent-demo", "a parent (family account)"), ("manager-demo", "a campaign manager"),
                 ("manager2-demo", "a second manager: approves the draws the first asks to publish (four eyes)"),
                 ("agent-demo", "a city agent at the counter: finds a family and acts for it (/accueil)"))


def start_provider(env: dict[str, str]) -> dict[str, str]:
    """The OpenID Connect provider: the one OIDC_ISSUER names, else a local Keycloak (its realm from the repo),
    and the portal's session key, made once in .local/."""
    import secrets

    from deploy.local.servers import KeycloakServer

    found: dict[str, str] = {}
    if not env.get("OIDC_ISSUER"):
        keycloak = KeycloakServer(STATE_DIR / "stack" / "keycloak",
                                  port=int(env.get("GUICHET_KEYCLOAK_PORT", "18080")),
                                  management_port=int(env.get("GUICHET_KEYCLOAK_MANAGEMENT_PORT", "19000")))
        print("starting Keycloak (the first start builds it: about 90 s; later ones about 15 s)")
        keycloak.start()
        found.update(OIDC_ISSUER=keycloak.issuer, GUICHET_PORTAL_OIDC_CLIENT_SECRET=PORTAL_OIDC_SECRET,
                     # the local realm's service account of the workers calling another service's API
                     OIDC_CLIENT_ID="notifications", OIDC_CLIENT_SECRET="guichet-notifications-local-secret")
    found.setdefault("GUICHET_PORTAL_SECRET_KEY", local_secret("portal-session-secret", lambda: secrets.token_urlsafe(48)))
    # As production has them from its secrets (docs/deploy.md#secrets): the lottery seeds sealed at rest,
    # the waiting room's admission tokens signed with one key in every process.
    found.setdefault("GUICHET_LOTTERY_SEED_KEY", local_secret(
        "lottery-seed-key", lambda: base64.urlsafe_b64encode(secrets.token_bytes(32)).decode().rstrip("=")))
    found.setdefault("GUICHET_WAITING_ROOM_SECRET", local_secret("waiting-room-secret", lambda: secrets.token_urlsafe(32)))
    return {key: value for key, value in found.items() if not env.get(key)}


def local_secret(name: str, make: Callable[[], str]) -> str:
    """A secret made once in .local/keys (readable by its owner only), the same at every `make run`."""
    secret_file = STATE_DIR / "keys" / name
    if not secret_file.exists():
        secret_file.parent.mkdir(parents=True, exist_ok=True)
        secret_file.write_text(make())
        secret_file.chmod(0o600)
    return secret_file.read_text().strip()


def stop_provider() -> None:
    from deploy.local.servers import KeycloakServer

    keycloak = KeycloakServer(STATE_DIR / "stack" / "keycloak")
    if keycloak.is_running():
        keycloak.stop()
        print("stopped keycloak")


def has_module(name: str) -> bool:
    return importlib.util.find_spec(name) is not None


def start_process(name: str, argv: list[str], env: dict[str, str], log_dir: Path = LOG_DIR) -> subprocess.Popen:
    log_dir.mkdir(parents=True, exist_ok=True)
    with open_private_log(log_dir / f"{name}.log") as log:
        return subprocess.Popen(argv, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT,
                                start_new_session=True)


def gunicorn_argv(service: WebService) -> list[str]:
    return [sys.executable, "-m", "gunicorn", "-c", str(REPO / "deploy" / "gunicorn.conf.py"), service.app]


def worker_argv(worker: Worker) -> list[str]:
    return worker.argv(sys.executable)


# Registrations' intake sheds what it cannot serve at once (docs/registrations.md, load shedding): more threads than
# submissions in flight, so a request beyond the bound gets a thread and a 503 at once instead of waiting for one.
# Chosen from `python -m bench.shedding` (docs/PERFORMANCE.md#load-shedding); the environment overrides them.
SERVICE_GUNICORN_ENV = {"registrations": {"GUICHET_THREADS": "16", "INTAKE_MAX_IN_FLIGHT": "8"}}


def service_env(service: WebService, env: dict[str, str]) -> dict[str, str]:
    return {**SERVICE_GUNICORN_ENV.get(service.name, {}), **env, "GUICHET_BIND": f"127.0.0.1:{service.port}",
            "GUICHET_WORKERS": env.get("GUICHET_WORKERS", "2")}


SOCKET_DIR = STATE_DIR / "run" / "sockets"


def gunicorn_socket(service: WebService, socket_dir: Path = SOCKET_DIR) -> Path:
    return socket_dir / f"{service.name}.sock"


def proxied_env(service: WebService, env: dict[str, str], socket_dir: Path = SOCKET_DIR) -> dict[str, str]:
    """Behind the edge proxy (as in production): gunicorn on a Unix socket that only nginx reaches, the client's
    address read from the X-Forwarded-For nginx sets (TRUSTED_PROXIES=1)."""
    socket_dir.mkdir(parents=True, exist_ok=True)
    return {**service_env(service, env), "GUICHET_BIND": f"unix:{gunicorn_socket(service, socket_dir)}",
            "TRUSTED_PROXIES": "1"}


# The waiting room's joins and polls (registrations' /waiting-rooms/…) on registrations processes of their own, as
# production's Ingress sends them to the registrations-room Deployment (docs/deploy.md#the-waiting-rooms-own-processes):
# at an opening the room's crowd then never queues the admitted families' submissions. Its sizing, apart from
# intake's and in this one place: one worker of 8 threads answering at most 4 joins and, counted apart, 4 polls at
# once (beyond, a 503 + Retry-After at once). Measured with `python -m bench.opening` (docs/PERFORMANCE.md, "Through the waiting
# room (issue 15)"). The edge sends registrations' /waiting-rooms/ there and listens on WAITING_ROOM_PORT for the
# portal (GUICHET_WAITING_ROOM_URL).
WAITING_ROOM = "waiting-room"  # its process name: log, socket, the edge's upstream
WAITING_ROOM_PORT = 8006
WAITING_ROOM_PATHS = "/waiting-rooms/"
WAITING_ROOM_GUNICORN_ENV = {"GUICHET_WORKERS": "1", "GUICHET_THREADS": "8", "WAITING_ROOM_MAX_IN_FLIGHT": "4"}


def waiting_room_service(port: int = WAITING_ROOM_PORT) -> WebService:
    """Registrations' web app on the room's port."""
    return web_service("registrations").on_port(port)


def waiting_room_env(env: dict[str, str], socket_dir: Path = SOCKET_DIR) -> dict[str, str]:
    """The room's processes behind the edge: registrations' environment, the room's sizing, a socket of its own."""
    room = waiting_room_service()
    return {**proxied_env(room, env, socket_dir), **WAITING_ROOM_GUNICORN_ENV,
            "GUICHET_BIND": f"unix:{socket_dir / f'{WAITING_ROOM}.sock'}"}


def start_waiting_room(env: dict[str, str], socket_dir: Path = SOCKET_DIR, log_dir: Path = LOG_DIR) -> subprocess.Popen:
    return start_process(WAITING_ROOM, gunicorn_argv(waiting_room_service()), waiting_room_env(env, socket_dir),
                         log_dir=log_dir)


def threads_of(gunicorn_env: dict[str, str], env: dict[str, str]) -> int:
    """Requests one service's gunicorn serves at once: its workers × threads (as deploy/gunicorn.conf.py reads them)."""
    merged = {**gunicorn_env, **{k: v for k, v in env.items() if k in ("GUICHET_WORKERS", "GUICHET_THREADS")}}
    return int(merged.get("GUICHET_WORKERS", "2")) * int(merged.get("GUICHET_THREADS", "1"))


def room_polls_in_flight(gunicorn_env: dict[str, str]) -> int:
    """Polls the room's processes serve at once: each process's WAITING_ROOM_MAX_IN_FLIGHT (a count of its own for
    polls, beside the joins'), times its workers: the edge's bound on polls, apart from the joins'."""
    return int(gunicorn_env.get("GUICHET_WORKERS", "2")) * int(gunicorn_env["WAITING_ROOM_MAX_IN_FLIGHT"])


def start_edge(services: list[WebService] | tuple[WebService, ...], env: dict[str, str],
               socket_dir: Path = SOCKET_DIR, log_dir: Path = LOG_DIR, room_port: int | None = None) -> subprocess.Popen:
    """nginx on each service's port, buffering whole requests before gunicorn sees them (docs/deploy.md). With
    `room_port`, the waiting room's processes (start_waiting_room) on that port, and registrations' room paths
    sent to them. The edge sheds (docs/deploy.md, "Shedding at the edge"): beyond the room's threads, joins; beyond
    the room's polls in flight (counted apart), polls; beyond intake's threads, submissions — answered 503 by nginx
    itself."""
    to_room = ((WAITING_ROOM_PATHS, WAITING_ROOM),) if room_port is not None else ()
    routes = [edge_route(service, socket_dir, env, to_room) for service in services]
    if room_port is not None:
        routes.append(Route(WAITING_ROOM, room_port, socket_dir / f"{WAITING_ROOM}.sock",
                            shedding=waiting_room_shedding(threads_of(WAITING_ROOM_GUNICORN_ENV, {}),
                                                           room_polls_in_flight(WAITING_ROOM_GUNICORN_ENV))))
    config = write_config(routes, socket_dir.parent / "edge", log_dir)
    return start_process("edge", nginx_argv(config), env, log_dir=log_dir)


def edge_route(service: WebService, socket_dir: Path, env: dict[str, str],
               to_room: tuple[tuple[str, str], ...] = ()) -> Route:
    """One service behind the edge; registrations' submissions bounded at its threads, its room paths elsewhere."""
    if service.name != "registrations":
        return Route(service.name, service.port, gunicorn_socket(service, socket_dir))
    threads = threads_of(SERVICE_GUNICORN_ENV["registrations"], env)
    return Route(service.name, service.port, gunicorn_socket(service, socket_dir), to_room,
                 shedding=submissions_shedding(threads))


def answers_ready(url: str) -> bool:
    """True when `url` (a /readyz) answers 200; a refused connection or a 503 raises: not ready yet."""
    with urllib.request.urlopen(url, timeout=3) as response:
        return response.status == 200


def wait_ready(service: WebService, timeout: float = 60, log_dir: Path = LOG_DIR, name: str | None = None) -> None:
    """Until `service` answers /readyz; `name`: its process's, when not the service's (the waiting room's)."""
    name = name or service.name
    try:
        wait_until(lambda: answers_ready(f"{service.url}/readyz"), timeout=timeout, interval=0.5,
                   what=f"{name} ready at {service.url}/readyz", ignore=(Exception,))
    except WaitTimedOut as timed_out:
        raise RuntimeError(f"{timed_out}; see {log_dir / name}.log") from None


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
    for service in SERVICES_WITH_SCHEMAS:
        upgrade(service, settings)
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
        stop_provider()
        return

    from deploy.local.stack import running_servers, start_stack, stop_stack

    stack_dir = STATE_DIR / "stack"
    # Servers `make stack-up` (or another run) started are used and left running: they are not this run's to stop.
    already_running = running_servers(stack_dir)
    env = {**os.environ, **start_stack(stack_dir)}
    # Links in parents' messages lead to the portal's pages.
    env.setdefault("GUICHET_PORTAL_URL", PORTAL.url)
    # The portal's joins and polls go to the waiting room's processes (the edge sends them there from
    # registrations' port too).
    env.setdefault("GUICHET_WAITING_ROOM_URL", waiting_room_service().url)
    env.update(start_provider(env))
    prepare(env)

    processes: dict[str, subprocess.Popen] = {}
    for service in WEB_SERVICES:
        extra = {}
        processes[service.name] = start_process(service.name, gunicorn_argv(service),
                                                {**proxied_env(service, env), **extra})
    processes[WAITING_ROOM] = start_waiting_room(env)
    processes["edge"] = start_edge(WEB_SERVICES, env, room_port=WAITING_ROOM_PORT)
    for worker in WORKERS:
        processes[worker.name] = start_process(worker.name, worker_argv(worker), env)
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
        for service in WEB_SERVICES:
            wait_ready(service)
        wait_ready(waiting_room_service(), name=WAITING_ROOM)
        print("\nGuichet is running:")
        for service in WEB_SERVICES:
            what = "pages for parents and managers, in French" if service == PORTAL else f"API docs: {service.url}/docs"
            print(f"  {service.name:<14} {service.url}   ({what})")
        print(f"  {WAITING_ROOM:<14} {waiting_room_service().url}   (registrations' processes for {WAITING_ROOM_PATHS}: "
              "joins and polls)")
        if mail_log is not None:
            print(f"  {'emails':<14} {mail_log}   (every email sent, as received by a local SMTP server)")
        print(f"  {'provider':<14} {env['OIDC_ISSUER']}   (OpenID Connect: sign in there through the portal)")
        if env["OIDC_ISSUER"].startswith("http://127.0.0.1"):
            print("\n  demo accounts (password = user name):")
            for username, what in DEMO_ACCOUNTS:
                print(f"    {username:<12} {what}")
        print(f"\n  logs: {LOG_DIR}\n  a token: make token ACCOUNT=manager-demo\n  stop: Ctrl-C (or `make stop`)\n")
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
        stop_stack(stack_dir, keep=already_running)
        if already_running:
            print(f"left running, as they were before: {', '.join(sorted(already_running))} (`make stop` stops them)")


if __name__ == "__main__":
    main()
