"""The buffering reverse proxy in front of gunicorn locally: Debian's nginx, as the ingress controller is in
production (deploy/kubernetes/overlays/production/ingress.yaml).

Why (docs/deploy.md, "Slow clients and limits"): a gthread worker gives one thread to a request from its first
byte to its last, so 8 clients sending a body one byte a second held every thread of a service (2 workers × 4
threads) and /healthz stopped answering. nginx reads headers and bodies itself, with read timeouts, and
hands gunicorn only complete requests, so gunicorn's threads only ever wait on the service's own work.

Each web service listens on its usual port through nginx; gunicorn binds a Unix socket behind it.
`make run` (deploy/local/run.py) and the slow-clients test (tests/e2e/test_slow_clients.py) use this.

**Shedding at the edge** (issue 15; docs/deploy.md, "Shedding at the edge"). A route may bound the requests the
edge passes to its processes at once (`EdgeShedding`): beyond, nginx itself answers 503 problem+json with a
jittered Retry-After, in microseconds and without Python. At an opening the waiting room's crowd arrives faster
than a Python process can even refuse it on a share of 2 cores, and its answers — refusals included — waited
seconds in the kernel's accept queue and for the GIL. The same bound is the waiting room's pods' sidecar in
production (`pod_edge_config`, deploy/kubernetes/base/registrations-room-edge.yaml): ingress-nginx's limits are
per client address, not per upstream.
"""
from __future__ import annotations

import json
import shutil
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from deploy.local.servers.base import LOOPBACK, ServerStartError
from services.registrations.domain.waiting_room import JoinBackoff, PollBudget, refused_join_span, refused_poll_span
from services.registrations.web.parents.shedding import INTAKE_PATH, SHED_DETAIL
from services.registrations.web.parents.waiting_room_fast import BUSY_DETAIL, JOIN_BACKOFF, PLACE_PATH, POLL_BACKOFF
from shared.errors import PROBLEM_CONTENT_TYPE, ServiceUnavailable, problem_document

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
# An idle connection to gunicorn is closed by the edge before gunicorn closes it (`keepalive` in
# deploy/gunicorn.conf.py, 5 s): otherwise a request sent on a connection gunicorn is closing at that instant is
# reset, and nginx answers 502 without retrying a POST (4 submissions at the opening bench of 2026-12-05 08:45).
UPSTREAM_IDLE_S = 4
# Per client address, on the public endpoints (no token): a second line behind the in-app limits.
PUBLIC_RATE = "20r/s"
PUBLIC_BURST = 40


# On the edge's refusals only: who refused (monitoring, the bench's counts); the service's own have none.
SHED_BY = "Shed-By"
# Paths never bounded at the edge: a busy pod must still answer its probes (a refused /readyz would take it out of
# its Service at the peak) and Prometheus.
OPERATIONS_PATHS = ("/healthz", "/readyz", "/metrics")


@dataclass(frozen=True)
class EchoedBackoff:
    """A refusal's Retry-After read from the request: seconds the client sent back in header `header` (the room's
    Poll-Backoff: nginx cannot read the room; the Join-Backoff of the edge's own last refusal of a join). Taken by
    the service's own rule (`domain.waiting_room.echoed_seconds`): digits with no leading zero, at most `longest`
    (more: `longest`); the Retry-After is drawn per refusal over `span(seconds)` (first and last second). Anything
    else: the bound's own `retry_after`. `answered`: the refusal also gives its Retry-After in this header, for
    the client to send back (`header` again) with its next request."""
    header: str
    longest: int
    span: Callable[[int], tuple[int, int]]
    answered: str | None = None


@dataclass(frozen=True)
class BoundApart:
    """Requests of `method` whose path matches `path` (an anchored regular expression, nginx's and Python's alike),
    counted by a bound of their own, `in_flight`, and told to come back after `retry_after` (first and last second)
    when refused — or after the backoff the request sent back (`echoed`), when it did; the route's own bound no
    longer counts them. The waiting room's polls: a crowd of joins must not take every place from the polls by
    which admitted families learn of their admission."""
    name: str  # in the zone's and variables' names
    method: str
    path: str
    in_flight: int
    retry_after: tuple[int, int]
    echoed: EchoedBackoff | None = None


@dataclass(frozen=True)
class EdgeShedding:
    """At most `in_flight` requests passed at once to one route's processes (counted over every port and path that
    sends to them; only requests of `method` when it is set, the others pass unbounded). Beyond, the edge answers at
    once 503 problem+json `code` with `detail`, `Retry-After` and the problem's `retry_after` drawn per request
    from `retry_after[method]` (first and last second; "" for any other method) by the clock's milliseconds, so
    that clients refused together do not come back together. Nothing reaches the processes. `apart`: requests
    bounded by a count of their own instead (the room's polls), refused with the same problem."""
    in_flight: int
    code: str
    detail: str
    retry_after: Mapping[str, tuple[int, int]]
    method: str | None = None
    instance: str | None = None  # the problem's, as the service writes it for the same refusal
    paths: tuple[str, ...] = ()  # only these exact paths are bounded; every path (but OPERATIONS_PATHS) when empty
    apart: BoundApart | None = None
    echoed: EchoedBackoff | None = None  # the Retry-After of the requests not counted apart, when they send it back


# Retry-After of the edge's refusals (first, last second), drawn uniformly per refusal. The room's joins: 5-30 s the
# first time. With 2-11 s every family joined 6-9 times at 3x capacity, and the storm of quick refusals took the
# shared 2 cores from the answers (a position or a 503: p99 364-958 ms); with 5-30 s, 2.4-4 joins a family and p99
# 70-161 ms, on the same loaded machine (docs/deploy.md, "Shedding at the edge"). A family refused here has no
# arrival ticket, so a longer span costs it no kept place.
ROOM_RETRY_S = JoinBackoff().first
# ... and each refusal after it longer (`JoinBackoff`: twice the last, at most 60 s and a fifth): the refusal
# answers its Retry-After as Join-Backoff, the client sends it back with its next join. At the opening of 2026-12-05
# 15:16 (1,103 families a second), with 5-30 s every time, families joined 5.6 times each.
ROOM_JOIN_BACKOFF = EchoedBackoff(JOIN_BACKOFF, JoinBackoff().longest_seconds, refused_join_span,
                                  answered=JOIN_BACKOFF)
# The room's polls, bounded apart from its joins: a poll is how an admitted family learns of its admission, and
# 5-30 s a refusal made families learn of it 53 s (p50) after their place was released, so that families admitted
# while the pace was high submitted together after the controller had cut it (docs/registrations.md, "Shedding at the
# edge"). A waiting family has one poll outstanding at most, so a refused poll comes back at most every 2-5 s; when
# the room's processes are starved they do come back (190,000 refused for 37,000 served in the 60 s opening bench of
# 10:11 on a loaded machine), which costs nginx microseconds and the room nothing (docs/PERFORMANCE.md).
ROOM_POLL_RETRY_S = (2, 5)
# ... but a poll that sends back the room's Poll-Backoff (the portal's page and the API clients the docs describe
# do) comes back no sooner than the room would have told that family: about the room's own interval while its place
# is far, 2-3 s once it is due. At the opening of 2026-12-05 11:52 (1,025 families a second), with 2-5 s for every
# refused poll, polls reached 2,338 a second against the room's budget of 100, and even nginx's own refusals waited
# in the crowd's connections (p99 1.35 s).
ROOM_POLL_BACKOFF = EchoedBackoff(POLL_BACKOFF, round(PollBudget().longest_seconds), refused_poll_span)
SUBMISSION_RETRY_S = (1, 3)  # an admitted family's submission, retried with the same key: soon
# A family's poll, exactly as the room's fast path tells it from a join (web/parents/waiting_room_fast.py).
ROOM_POLL_PATH = "^" + PLACE_PATH.pattern.replace("(", "").replace(")", "") + "$"


def waiting_room_shedding(in_flight: int, polls_in_flight: int) -> EdgeShedding:
    """The waiting room's processes: joins and every other request beyond `in_flight` (their threads: each one let
    through gets a thread at once, so the room's own bound, WAITING_ROOM_MAX_IN_FLIGHT, still refuses its share with
    an arrival ticket), come back after ROOM_RETRY_S, then longer each time they send back the Join-Backoff of
    their last refusal (ROOM_JOIN_BACKOFF); polls (`GET` of a family's place) beyond `polls_in_flight`
    (the processes' own bound on polls, WAITING_ROOM_MAX_IN_FLIGHT each), counted apart so that joins never take
    their places, come back after the Poll-Backoff they sent back (ROOM_POLL_BACKOFF), else ROOM_POLL_RETRY_S. A
    family refused here gets no arrival ticket (docs/registrations.md, "Shedding at the edge")."""
    return EdgeShedding(in_flight, "waiting-room-busy", BUSY_DETAIL, {"": ROOM_RETRY_S}, echoed=ROOM_JOIN_BACKOFF,
                        apart=BoundApart("polls", "GET", ROOM_POLL_PATH, polls_in_flight, ROOM_POLL_RETRY_S,
                                         echoed=ROOM_POLL_BACKOFF))


def submissions_shedding(in_flight: int) -> EdgeShedding:
    """Intake's processes: submissions (`POST`) beyond `in_flight` (their threads), which intake itself would
    refuse (`intake-saturated`) after they waited for a thread; retried after SUBMISSION_RETRY_S with the same key."""
    return EdgeShedding(in_flight, "intake-saturated", SHED_DETAIL, {"POST": SUBMISSION_RETRY_S}, method="POST",
                        instance=INTAKE_PATH, paths=(INTAKE_PATH,))


@dataclass(frozen=True)
class Route:
    """nginx listens on 127.0.0.1:`port` and passes complete requests to gunicorn on `socket` (a Unix socket, or
    `host:port`); a path under one of `elsewhere`'s prefixes goes to the route it names instead (as an Ingress path
    rule: the waiting room's paths to registrations' processes of their own). `shedding`: the edge's bound on the
    requests passed to this route's processes, from any port."""
    name: str
    port: int
    socket: Path | str
    elsewhere: tuple[tuple[str, str], ...] = ()  # (path prefix, another route's name)
    shedding: EdgeShedding | None = None

    @property
    def upstream(self) -> str:
        return f"unix:{self.socket}" if isinstance(self.socket, Path) else str(self.socket)


def nginx_binary() -> str:
    found = shutil.which("nginx") or next((c for c in NGINX_CANDIDATES if Path(c).exists()), None)
    if found is None:
        raise ServerStartError(f"nginx is not installed: {INSTALL_HINT}")
    return found


def nginx_config(routes: Iterable[Route], state_dir: Path, log_dir: Path | None, listen_host: str = LOOPBACK,
                 behind_ingress: bool = False) -> str:
    """The whole nginx.conf: one server per route, request and response buffering on, read timeouts, each route's
    shedding. `log_dir` None: errors to stderr (a container's). `behind_ingress` (a pod's sidecar, `pod_edge_config`):
    the ingress in front already set X-Forwarded-For and X-Request-Start, which pass unchanged, and limits per
    client address are its own (every request here comes from its address)."""
    routes = list(routes)
    by_name = {route.name: route for route in routes}
    state_dir = Path(state_dir).resolve()
    temp = {kind: state_dir / kind for kind in ("body", "proxy", "fastcgi", "uwsgi", "scgi")}
    error_log = "stderr" if log_dir is None else Path(log_dir).resolve() / "edge.log"
    servers = "\n".join(_server(route, by_name, listen_host, behind_ingress) for route in routes)
    sheddings = {route.name: route.shedding for route in routes if route.shedding is not None}
    forwarded = "" if behind_ingress else """
    proxy_set_header X-Forwarded-For $remote_addr;
    proxy_set_header X-Forwarded-Proto $scheme;
    # When the edge took the request: the waiting room's pace controller counts the wait for a gunicorn thread
    # too (docs/registrations.md, the pace).
    proxy_set_header X-Request-Start "t=${msec}";"""
    public = "" if behind_ingress else f"""
    limit_req_zone $binary_remote_addr zone=public:10m rate={PUBLIC_RATE};
    limit_req_status 429;"""
    return f"""# Written by deploy/local/servers/nginx.py: edit that file, not this one.
daemon off;
worker_processes 1;
pid {state_dir / "nginx.pid"};
error_log {error_log} warn;
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
    proxy_set_header Host $http_host;{forwarded}
    proxy_read_timeout 60s;
    # An upstream's own answers, its 503s included, pass unchanged: error_page below only rewrites the edge's
    # own refusals.
    proxy_intercept_errors off;
{public}{_shedding_http(sheddings)}
{servers}
}}
"""


def pod_edge_config(route: Route, temp_dir: Path) -> str:
    """A pod's sidecar (deploy/kubernetes/base/registrations-room-edge.yaml): the same bound as the local edge, on
    the pod's port in front of gunicorn on the pod's loopback, behind the ingress; errors to the container's log."""
    return nginx_config([route], temp_dir, None, listen_host="0.0.0.0", behind_ingress=True)


def _ident(name: str) -> str:
    return name.replace("-", "_")


def _shedding_http(sheddings: Mapping[str, EdgeShedding]) -> str:
    """The http block's part of the routes' shedding: each route's counter and whom it counts, the Retry-After
    drawn per refusal, the request id answered (the client's X-Request-ID, as the services echo it, else nginx's)."""
    if not sheddings:
        return ""
    ranges = sorted({span for shedding in sheddings.values() for span in shedding.retry_after.values()}
                    | {shedding.apart.retry_after for shedding in sheddings.values() if shedding.apart is not None})
    parts = ["""
    # The edge's shedding (EdgeShedding). Beyond a route's bound nginx answers 503 itself; limit_conn counts the
    # requests being served (a keep-alive connection between two requests holds nothing).
    limit_conn_status 503;
    limit_conn_log_level info;
    map $http_x_request_id $edge_request_id {
        "" $request_id;
        default $http_x_request_id;
    }
    # A draw per refusal (0-255), from the two last hex digits of nginx's random request id.
    map $request_id $edge_draw {
        "~(?<draw>[0-9a-f]{2})$" $draw;
    }"""]
    for first, last in ranges:
        seconds = last - first + 1
        entries = "\n".join(f"        {draw:02x} {first + draw * seconds // 256};" for draw in range(256))
        parts.append(f"""    map $edge_draw $edge_retry_{first}_{last} {{  # {first}-{last} s, uniform
{entries}
        default {last};
    }}""")
    if any(shedding.echoed is not None or (shedding.apart is not None and shedding.apart.echoed is not None)
           for shedding in sheddings.values()):
        parts.append("""    # Another draw per refusal (0-15), for a Retry-After that follows what the client sent back.
    map $request_id $edge_draw_digit {
        "~(?<digit>[0-9a-f])$" $digit;
    }""")
    for name, shedding in sheddings.items():
        parts.append(_route_shedding_http(name, shedding))
    return "\n".join(parts)


def _route_shedding_http(name: str, shedding: EdgeShedding) -> str:
    """One route's counters (a zone each: its bound's, and its bound apart's) and its refusals' Retry-After."""
    ident, apart = _ident(name), shedding.apart
    fallback = shedding.retry_after.get("") or next(iter(shedding.retry_after.values()))
    if apart is None:
        counted = (f'{shedding.method} everyone;\n        default "";' if shedding.method
                   else "default everyone;")
        by_method = "".join(f"\n        {method} $edge_retry_{first}_{last};"
                            for method, (first, last) in shedding.retry_after.items() if method)
        return f"""    # {name}: at most {shedding.in_flight} {shedding.method or ""}{" " if shedding.method else ""}requests passed to its processes at once.
    map $request_method $edge_{ident}_counted {{
        {counted}
    }}
    limit_conn_zone $edge_{ident}_counted zone={ident}_in_flight:1m;
    map $request_method $edge_{ident}_retry_after {{{by_method}
        default $edge_retry_{fallback[0]}_{fallback[1]};
    }}"""
    assert shedding.method is None and not shedding.paths, "a bound apart is carved out of a route's every request"
    request = f'"~{apart.path.replace("^", "^" + apart.method + " ", 1)}"'
    by_method = "".join(f'\n        "~^{method} " $edge_retry_{first}_{last};'
                        for method, (first, last) in shedding.retry_after.items() if method)
    first, last = apart.retry_after
    apart_retry = (f"$edge_retry_{first}_{last}" if apart.echoed is None
                   else f"$edge_{ident}_{apart.name}_retry_after")
    echoed = ("" if apart.echoed is None else
              _echoed_backoff_http(f"edge_{ident}_{apart.name}", apart.echoed, apart.retry_after, apart.name))
    others_retry = f"$edge_retry_{fallback[0]}_{fallback[1]}"
    if shedding.echoed is not None:
        others_retry = f"$edge_{ident}_others_retry_after"
        echoed += _echoed_backoff_http(f"edge_{ident}_others", shedding.echoed, fallback, "other requests")
    if shedding.echoed is not None and shedding.echoed.answered:
        echoed += f"""
    # ... told back in {shedding.echoed.answered} (none for the {apart.name}), for the client to send back.
    map "$request_method $uri" $edge_{ident}_answered_backoff {{
        {request} "";
        default $edge_{ident}_retry_after;
    }}"""
    return f"""    # {name}: at most {apart.in_flight} of its {apart.name} ({apart.method} {apart.path}) and {shedding.in_flight} of its other
    # requests passed to its processes at once, counted apart.
    map "$request_method $uri" $edge_{ident}_counted {{
        {request} "";
        default everyone;
    }}
    map "$request_method $uri" $edge_{ident}_{apart.name}_counted {{
        {request} everyone;
        default "";
    }}
    limit_conn_zone $edge_{ident}_counted zone={ident}_in_flight:1m;
    limit_conn_zone $edge_{ident}_{apart.name}_counted zone={ident}_{apart.name}_in_flight:1m;
    map "$request_method $uri" $edge_{ident}_retry_after {{
        {request} {apart_retry};{by_method}
        default {others_retry};
    }}{echoed}"""


def _echoed_backoff_http(prefix: str, echoed: EchoedBackoff, fallback: tuple[int, int], what: str) -> str:
    """The Retry-After of a refused request that sent back its backoff (`EchoedBackoff`): the header's value kept
    when it is one the service would take (`echoed_seconds`: an exact entry per second, any longer number capped),
    then, per refusal, over `echoed.span` of it by a draw of 16; without one, `fallback`."""
    variable = "$http_" + echoed.header.lower().replace("-", "_")
    exact = "\n".join(f"        {seconds} {seconds};" for seconds in range(1, echoed.longest + 1))
    spans = {seconds: echoed.span(seconds) for seconds in range(1, echoed.longest + 1)}
    drawn = "\n".join(
        f'        "{seconds}:{digit:x}" {first + digit * (last - first + 1) // 16};'
        for seconds, (first, last) in spans.items() for digit in range(16))
    first, last = fallback
    return f"""
    # Refused {what}: Retry-After drawn from the {echoed.header} the client sent back (at most {echoed.longest} s);
    # without one, {first}-{last} s.
    map {variable} ${prefix}_backoff {{
{exact}
        "~^[1-9][0-9]*$" {echoed.longest};
        default "";
    }}
    map "${prefix}_backoff:$edge_draw_digit" ${prefix}_retry_after {{
{drawn}
        default $edge_retry_{first}_{last};
    }}"""


def busy_body(shedding: EdgeShedding, retry_after: str) -> str:
    """The problem the edge answers beyond a bound: the one the service gives for the same refusal
    (shared.errors.problem_document), `retry_after` written in (an nginx variable in the configuration)."""
    body = json.dumps(problem_document(503, shedding.code, ServiceUnavailable.title, shedding.detail,
                                       shedding.instance, retry_after=0))
    assert body.endswith('"retry_after": 0}') and not set("'\\$") & set(body), body  # written as is in nginx.conf
    return body[:-2] + retry_after + "}"


def _busy_location(route: Route) -> str:
    assert route.shedding is not None
    ident, echoed = _ident(route.name), route.shedding.echoed
    answered = ("" if echoed is None or not echoed.answered
                else f"\n            add_header {echoed.answered} $edge_{ident}_answered_backoff always;")
    return f"""
        location @{ident}_busy {{
            default_type {PROBLEM_CONTENT_TYPE};
            add_header Retry-After $edge_{ident}_retry_after always;
            add_header Cache-Control no-store always;
            add_header X-Request-ID $edge_request_id always;
            add_header {SHED_BY} edge always;{answered}
            return 503 '{busy_body(route.shedding, "${edge_" + ident + "_retry_after}")}';
        }}"""


def _bound(route: Route) -> str:
    """A location's lines bounding what it passes to `route`'s processes, when they are bounded."""
    if route.shedding is None:
        return ""
    apart = route.shedding.apart
    apart_line = ("" if apart is None else
                  f"\n            limit_conn {_ident(route.name)}_{apart.name}_in_flight {apart.in_flight};")
    return f"""
            limit_conn {_ident(route.name)}_in_flight {route.shedding.in_flight};{apart_line}
            error_page 503 @{_ident(route.name)}_busy;"""


def _server(route: Route, by_name: Mapping[str, Route], listen_host: str, behind_ingress: bool) -> str:
    everywhere = _bound(route) if route.shedding is not None and not route.shedding.paths else ""
    locations = [f"""
        location / {{{everywhere}
            proxy_pass http://{route.name};
        }}"""]
    for prefix, name in route.elsewhere:
        other = by_name[name]
        locations.append(f"""
        location ^~ {prefix} {{{_bound(other) if other.shedding is not None and not other.shedding.paths else ""}
            proxy_pass http://{name};
        }}""")
    for path in route.shedding.paths if route.shedding is not None else ():
        locations.append(f"""
        location = {path} {{{_bound(route)}
            proxy_pass http://{route.name};
        }}""")
    if everywhere:
        locations.extend(f"""
        location = {path} {{
            proxy_pass http://{route.name};
        }}""" for path in OPERATIONS_PATHS)
    if not behind_ingress:  # a pod's sidecar: the ingress limits per client address, every request comes from it
        locations.append(f"""
        location ~ ^/(public|draws)/ {{
            limit_req zone=public burst={PUBLIC_BURST} nodelay;{everywhere}
            proxy_pass http://{route.name};
        }}""")
    # A sidecar too: the portal sends a family's documents to registrations' Service, through it.
    locations.append(f"""
        location ~ ^/((household|agent/families/[^/]+)/documents|(accueil/)?justificatifs)$ {{
            client_max_body_size {EDGE_MAX_DOCUMENT_BODY};{everywhere}
            proxy_pass http://{route.name};
        }}""")
    busy = {name for _, name in route.elsewhere if by_name[name].shedding is not None}
    if route.shedding is not None:
        busy.add(route.name)
    locations.extend(_busy_location(by_name[name]) for name in sorted(busy))
    return f"""
    server {{
        listen {listen_host}:{route.port} reuseport;{"".join(locations)}
    }}
    upstream {route.name} {{
        server {route.upstream};
        keepalive 16;
        keepalive_timeout {UPSTREAM_IDLE_S}s;
    }}"""


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
