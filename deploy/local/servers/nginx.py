"""The buffering reverse proxy in front of gunicorn locally: Debian's nginx, as the ingress controller is in
production (deploy/kubernetes/overlays/production/ingress.yaml).

Why (docs/deploy.md, "Slow clients and limits"): a gthread worker gives one thread to a request from its first
byte to its last, so 8 clients sending a body one byte a second held every thread of a service (2 workers × 4
threads) and /healthz stopped answering. nginx reads headers and bodies itself, with read timeouts, and
hands gunicorn only complete requests, so gunicorn's threads only ever wait on the service's own work.

Each web service listens on its usual port through nginx; gunicorn binds a Unix socket behind it.
`make run` (deploy/local/run.py) and the slow-clients test (tests/e2e/test_slow_clients.py) use this.
"""
from __future__ import annotations

import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from deploy.local.servers.base import LOOPBACK, ServerStartError

NGINX_CANDIDATES = ("/usr/sbin/nginx", "/usr/local/sbin/nginx")
# Installed by `make proxy` (part of `make run` and `make test`) as `make browser` installs Chromium.
INSTALL_HINT = "install Debian's nginx: `make proxy` (apt-get install -y nginx-light)"

# Timeouts on a client that sends its request slowly (nginx answers 408 and closes): a parent's phone on a
# bad line sends a form's few kilobytes in well under this.
CLIENT_HEADER_TIMEOUT_S = 10
CLIENT_BODY_TIMEOUT_S = 10  # between two reads of the body, not for the whole body
SEND_TIMEOUT_S = 30
# The edge's cap on a body; each service refuses smaller bodies itself with a 413 problem (MAX_BODY_BYTES).
EDGE_MAX_BODY = "2m"
# A supporting document's upload (registrations: at most 5 MiB, refused above by the service with its own problem;
# the portal's « Mes justificatifs » form, /justificatifs, and the agents' /accueil/justificatifs: the same file in a
# form).
EDGE_MAX_DOCUMENT_BODY = "6m"
# Per client address, on the public endpoints (no token): a second line behind the in-app limits.
PUBLIC_RATE = "20r/s"
PUBLIC_BURST = 40


@dataclass(frozen=True)
class Route:
    """nginx listens on 127.0.0.1:`port` and passes complete requests to gunicorn on `socket`; a path under one of
    `elsewhere`'s prefixes goes to the route it names instead (as an Ingress path rule: the waiting room's paths
    to registrations' processes of their own)."""
    name: str
    port: int
    socket: Path
    elsewhere: tuple[tuple[str, str], ...] = ()  # (path prefix, another route's name)

    @property
    def upstream(self) -> str:
        return f"unix:{self.socket}"


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((c for c in NGINX_CANDIDATES if Path(c).exists()), None)
    if found is None:
        raise ServerStartError(f"nginx is not installed: {INSTALL_HINT}")
    return found


def nginx_config(routes: Iterable[Route], state_dir: Path, log_dir: Path) -> str:
    """The whole nginx.conf: one server per route, request and response buffering on, read timeouts."""
    state_dir, log_dir = Path(state_dir).resolve(), Path(log_dir).resolve()
    temp = {kind: state_dir / kind for kind in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    servers = "\n".join(f"""
    server {{
        listen {LOOPBACK}:{route.port} reuseport;
        location / {{
            proxy_pass http://{route.name};
        }}{"".join(f'''
        location ^~ {prefix} {{
            proxy_pass http://{upstream};
        }}''' for prefix, upstream in route.elsewhere)}
        location ~ ^/(public|draws)/ {{
            limit_req zone=public burst={PUBLIC_BURST} nodelay;
            proxy_pass http://{route.name};
        }}
        location ~ ^/((household|agent/families/[^/]+)/documents|(accueil/)?justificatifs)$ {{
            client_max_body_size {EDGE_MAX_DOCUMENT_BODY};
            proxy_pass http://{route.name};
        }}
    }}
    upstream {route.name} {{
        server {route.upstream};
        keepalive 16;
    }}""" for route in routes)
    return f"""# Written by deploy/local/servers/nginx.py at each start: edit that file, not this one.
daemon off;
worker_processes 1;
pid {state_dir / "nginx.pid"};
error_log {log_dir / "edge.log"} warn;
events {{
    worker_connections 4096;
}}
http {{
    access_log off;
    server_tokens off;
    client_body_temp_path {temp["body"]};
    proxy_temp_path {temp["proxy"]};
    fastcgi_temp_path {temp["fastcgi"]};
    uwsgi_temp_path {temp["uwsgi"]};
    scgi_temp_path {temp["scgi"]};

    client_header_timeout {CLIENT_HEADER_TIMEOUT_S}s;
    client_body_timeout {CLIENT_BODY_TIMEOUT_S}s;
    send_timeout {SEND_TIMEOUT_S}s;
    keepalive_timeout 5s;
    client_max_body_size {EDGE_MAX_BODY};
    client_body_buffer_size 64k;
    large_client_header_buffers 4 16k;

    # The whole request is read here before gunicorn sees it; the answer is read from gunicorn at once.
    proxy_request_buffering on;
    proxy_buffering on;
    proxy_http_version 1.1;
    proxy_set_header Connection "";
    proxy_set_header Host $http_host;
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Proto $scheme;
    # When the edge took the request: the waiting room's pace controller counts the wait for a gunicorn thread
    # too (docs/registrations.md, the pace).
    proxy_set_header X-Request-Start "t=${{msec}}";
    proxy_read_timeout 60s;

    limit_req_zone $binary_remote_addr zone=public:10m rate={PUBLIC_RATE};
    limit_req_status 429;
{servers}
}}
"""


def write_config(routes: Iterable[Route], state_dir: Path, log_dir: Path) -> Path:
    state_dir = Path(state_dir)
    for kind in ("body", "proxy", "fastcgi", "uwsgi", "scgi"):
        (state_dir / kind).mkdir(parents=True, exist_ok=True)
    Path(log_dir).mkdir(parents=True, exist_ok=True)
    config = state_dir / "nginx.conf"
    config.write_text(nginx_config(routes, state_dir, log_dir))
    return config


def nginx_argv(config: Path) -> list[str]:
    """nginx in the foreground (SIGTERM stops it), with its prefix next to its configuration."""
    return [nginx_binary(), "-c", str(Path(config).resolve()), "-p", str(Path(config).resolve().parent),
            "-e", "stderr"]
