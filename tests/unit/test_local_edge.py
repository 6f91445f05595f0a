"""The local edge's nginx.conf (deploy/local/servers/nginx.py), as `make run` writes it."""
import json
import random
import re
from collections import Counter
from pathlib import Path

from deploy.local.servers.nginx import Route, nginx_config


def test_every_request_reaches_gunicorn_with_the_instant_the_edge_took_it(tmp_path):
    config = nginx_config([Route("registrations", 8002, Path("/run/r.sock"), (("/waiting-rooms/", "room"),)),
                           Route("room", 8006, Path("/run/room.sock"))], tmp_path, tmp_path)
    assert re.search(r'^    proxy_set_header X-Request-Start "t=\$\{msec\}";$', config, re.MULTILINE)
    # nginx inherits the http block's proxy_set_header only into locations that set none of their own.
    servers = config[config.index("server {"):]
    assert "proxy_set_header" not in servers



def make_run_edge(tmp_path) -> str:
    """The configuration `make run` writes (deploy/local/run.py, start_edge's routes)."""
    from deploy.catalogue import WEB_SERVICES
    from deploy.local.run import (
        WAITING_ROOM,
        WAITING_ROOM_GUNICORN_ENV,
        WAITING_ROOM_PATHS,
        edge_route,
        room_polls_in_flight,
        threads_of,
    )
    from deploy.local.servers.nginx import waiting_room_shedding

    routes = [edge_route(service, tmp_path, {}, ((WAITING_ROOM_PATHS, WAITING_ROOM),)) for service in WEB_SERVICES]
    routes.append(Route(WAITING_ROOM, 8006, tmp_path / "room.sock",
                        shedding=waiting_room_shedding(threads_of(WAITING_ROOM_GUNICORN_ENV, {}),
                                                       room_polls_in_flight(WAITING_ROOM_GUNICORN_ENV))))
    return nginx_config(routes, tmp_path, tmp_path)


def server_of(config: str, port: int) -> str:
    start = config.index(f"listen 127.0.0.1:{port} ")
    return config[start:config.index("\n    upstream ", start)]


def test_the_edge_bounds_the_rooms_requests_at_its_threads_on_every_port_that_reaches_it(tmp_path):
    config = make_run_edge(tmp_path)
    room, registrations = server_of(config, 8006), server_of(config, 8002)
    # one counter (zone) for the room's processes, whichever port sends to them, 1 worker x 8 threads
    assert "limit_conn_zone $edge_waiting_room_counted zone=waiting_room_in_flight:1m;" in config
    # and one for its polls, counted apart (1 process x WAITING_ROOM_MAX_IN_FLIGHT 4)
    assert "limit_conn_zone $edge_waiting_room_polls_counted zone=waiting_room_polls_in_flight:1m;" in config
    assert re.search(r"location / \{\s+limit_conn waiting_room_in_flight 8;\s+limit_conn waiting_room_polls_in_flight 4;"
                     r"\s+error_page 503 @waiting_room_busy;", room)
    assert re.search(r"location \^~ /waiting-rooms/ \{\s+limit_conn waiting_room_in_flight 8;\s+"
                     r"limit_conn waiting_room_polls_in_flight 4;\s+"
                     r"error_page 503 @waiting_room_busy;\s+proxy_pass http://waiting-room;", registrations)
    # probes are never refused
    assert re.search(r"location = /readyz \{\s+proxy_pass http://waiting-room;\s+\}", room)


def test_the_edge_bounds_only_intakes_submissions_and_lets_the_services_503s_through(tmp_path):
    config = make_run_edge(tmp_path)
    registrations = server_of(config, 8002)
    assert re.search(r"location = /applications \{\s+limit_conn registrations_in_flight 32;", registrations)
    assert re.search(r"map \$request_method \$edge_registrations_counted \{\s+POST everyone;\s+default \"\";", config)
    assert re.search(r"location / \{\s+proxy_pass http://registrations;", registrations)
    for port in (8001, 8003, 8004, 8005):  # the other services: no bound
        assert "limit_conn " not in server_of(config, port)
    assert "proxy_intercept_errors off;" in config and "proxy_intercept_errors on" not in config


def test_the_edges_refusal_is_the_services_problem_with_its_retry_after():
    from deploy.local.servers.nginx import busy_body, submissions_shedding, waiting_room_shedding
    from services.registrations.web.parents.shedding import shed_body
    from services.registrations.web.parents.waiting_room_fast import BUSY_DETAIL
    from shared.errors import ServiceUnavailable, problem_document

    assert json.loads(busy_body(waiting_room_shedding(8, 4), "7")) == problem_document(
        503, "waiting-room-busy", ServiceUnavailable.title, BUSY_DETAIL, None, retry_after=7)
    assert json.loads(busy_body(submissions_shedding(32), "2")) == json.loads(shed_body(2))


def test_the_room_counts_exactly_the_polls_its_fast_path_answers_apart_and_sends_them_back_sooner(tmp_path):
    """A poll is a GET of a family's place, as web/parents/waiting_room_fast.py tells it from a join: only those
    are counted by the polls' bound (and told to come back after ROOM_POLL_RETRY_S), everything else by the room's."""
    from deploy.local.servers.nginx import ROOM_POLL_RETRY_S, ROOM_RETRY_S

    config = make_run_edge(tmp_path)
    counted = re.search(r'map "\$request_method \$uri" \$edge_waiting_room_polls_counted \{\s+"~(\S+) (\S+)" '
                        r'everyone;\s+default "";\s+\}', config)
    assert counted is not None
    method, path = counted.group(1), counted.group(2)
    place = "/waiting-rooms/123e4567-e89b-12d3-a456-426614174000/place"

    def is_poll(request_method: str, uri: str) -> bool:
        return bool(re.search(f"{method} {path}", f"{request_method} {uri}"))

    assert is_poll("GET", place) and is_poll("GET", place.upper().replace("/WAITING-ROOMS/", "/waiting-rooms/")
                                             .replace("/PLACE", "/place"))
    for request_method, uri in (("PUT", place), ("HEAD", place), ("GET", place + "/x"), ("GET", "/x" + place),
                                ("GET", "/waiting-rooms/not-a-uuid/place"), ("GET", place.rsplit("/", 1)[0]),
                                ("GET", place.rsplit("/", 1)[0] + "/live")):
        assert not is_poll(request_method, uri), (request_method, uri)
    assert re.search(r'map "\$request_method \$uri" \$edge_waiting_room_counted \{\s+"~\S+ \S+" "";\s+'
                     r'default everyone;', config)
    first, last = ROOM_POLL_RETRY_S
    retry = re.search(r'map "\$request_method \$uri" \$edge_waiting_room_retry_after \{\s+"~\S+ \S+" '
                      r'\$edge_waiting_room_polls_retry_after;\s+default \$edge_waiting_room_others_retry_after;', config)
    assert retry is not None
    # a join that sent back no Join-Backoff (the test below for one that did)
    others = re.search(r'\$edge_waiting_room_others_retry_after \{\n(?:        "\d+:[0-9a-f]" \d+;\n)+'
                       r'        default \$edge_retry_(\d+)_(\d+);', config)
    assert others is not None and tuple(map(int, others.groups())) == ROOM_RETRY_S
    # a poll that sent back no Poll-Backoff (the test below for one that did)
    polls = re.search(r'\$edge_waiting_room_polls_retry_after \{\n(?:        "\d+:[0-9a-f]" \d+;\n)+'
                      r'        default \$edge_retry_(\d+)_(\d+);', config)
    assert polls is not None and tuple(map(int, polls.groups())) == (first, last)
    assert first < ROOM_RETRY_S[0] and last < ROOM_RETRY_S[1]


def test_the_edges_retry_after_is_uniform_over_its_span(tmp_path):
    from deploy.local.servers.nginx import ROOM_POLL_RETRY_S, ROOM_RETRY_S, SUBMISSION_RETRY_S

    config = make_run_edge(tmp_path)
    for first, last in (ROOM_RETRY_S, ROOM_POLL_RETRY_S, SUBMISSION_RETRY_S):
        block = config[config.index(f"map $edge_draw $edge_retry_{first}_{last} {{"):]
        block = block[:block.index("}")]
        draws = Counter(int(value) for value in re.findall(r"^        [0-9a-f]{2} (\d+);$", block, re.MULTILINE))
        assert sum(draws.values()) == 256 and set(draws) == set(range(first, last + 1))
        assert max(draws.values()) - min(draws.values()) <= 1


def test_the_edge_closes_an_idle_connection_to_gunicorn_before_gunicorn_does(tmp_path):
    """Else a request sent as gunicorn closes the connection is reset, and a POST is answered 502, not retried."""
    gunicorn_conf = (Path(__file__).parents[2] / "deploy" / "gunicorn.conf.py").read_text()
    gunicorn_keepalive = int(re.search(r"^keepalive = (\d+)$", gunicorn_conf, re.MULTILINE).group(1))
    config = make_run_edge(tmp_path)
    upstreams = re.findall(r"^    upstream \S+ \{\n(.*?)^    \}", config, re.MULTILINE | re.DOTALL)
    assert len(upstreams) >= 5
    for upstream in upstreams:
        idle = re.search(r"^\s+keepalive_timeout (\d+)s;$", upstream, re.MULTILINE)
        assert idle is not None and int(idle.group(1)) < gunicorn_keepalive, upstream


def test_a_refused_poll_follows_the_backoff_its_page_sent_back_by_the_rooms_own_rule(tmp_path):
    """nginx cannot read the room: the page sends back the Poll-Backoff the room gave it, and the edge's table
    gives exactly what the room's processes give a refused poll for it (`echoed_backoff`, `refused_poll_retry`):
    from it to a fifth later, about uniformly; nothing usable, the polls' own span."""
    from deploy.local.servers.nginx import ROOM_POLL_RETRY_S
    from services.registrations.domain.waiting_room import PollBudget, echoed_backoff, refused_poll_retry

    config = make_run_edge(tmp_path)
    assert re.search(r'map "\$request_method \$uri" \$edge_waiting_room_retry_after \{\s+"~\S+ \S+" '
                     r'\$edge_waiting_room_polls_retry_after;', config)
    kept = config[config.index("map $http_poll_backoff $edge_waiting_room_polls_backoff {"):]
    kept = kept[:kept.index("}")]
    exact = dict(re.findall(r"^        (\d+) (\d+);$", kept, re.MULTILINE))
    longest = round(PollBudget().longest_seconds)
    assert re.search(r'^        "~\^\[1-9\]\[0-9\]\*\$" (\d+);$', kept, re.MULTILINE).group(1) == str(longest)
    assert re.search(r'^        default "";$', kept, re.MULTILINE)
    assert {int(k): int(v) for k, v in exact.items()} == {s: echoed_backoff(str(s)) for s in range(1, longest + 1)}

    drawn = config[config.index('map "$edge_waiting_room_polls_backoff:$edge_draw_digit" '
                                '$edge_waiting_room_polls_retry_after {'):]
    drawn = drawn[:drawn.index("}")]
    first, last = ROOM_POLL_RETRY_S
    assert re.search(rf"^        default \$edge_retry_{first}_{last};$", drawn, re.MULTILINE)
    table: dict[int, Counter] = {}
    for backoff, _digit, value in re.findall(r'^        "(\d+):([0-9a-f])" (\d+);$', drawn, re.MULTILINE):
        table.setdefault(int(backoff), Counter())[int(value)] += 1
    assert set(table) == set(range(1, longest + 1))
    rng = random.Random(1)
    for backoff, values in table.items():
        assert sum(values.values()) == 16
        assert set(values) == {refused_poll_retry(backoff, rng=rng) for _ in range(400)}, backoff
        assert max(values.values()) - min(values.values()) <= 1  # as uniform as 16 draws allow
    assert re.search(r'map \$request_id \$edge_draw_digit \{\s+"~\(\?<digit>\[0-9a-f\]\)\$" \$digit;', config)


def test_a_join_refused_again_at_the_edge_waits_longer_by_the_rooms_rule(tmp_path):
    """The edge keeps no place for a join it refuses (no arrival ticket): it tells it when to come back, in
    Retry-After and Join-Backoff, and a join that sends that Join-Backoff back is refused with the span the room's
    rule gives for it (`refused_join_span`: twice as long, at most 60 s and a fifth), about uniformly; nothing
    usable, the first span. Polls are told no Join-Backoff."""
    from deploy.local.servers.nginx import ROOM_RETRY_S
    from services.registrations.domain.waiting_room import JoinBackoff, echoed_seconds, refused_join_span

    config = make_run_edge(tmp_path)
    longest = JoinBackoff().longest_seconds
    kept = config[config.index("map $http_join_backoff $edge_waiting_room_others_backoff {"):]
    kept = kept[:kept.index("}")]
    exact = dict(re.findall(r"^        (\d+) (\d+);$", kept, re.MULTILINE))
    assert {int(k): int(v) for k, v in exact.items()} == {s: echoed_seconds(str(s), longest)
                                                          for s in range(1, longest + 1)}
    assert re.search(r'^        "~\^\[1-9\]\[0-9\]\*\$" (\d+);$', kept, re.MULTILINE).group(1) == str(longest)
    assert echoed_seconds("600", longest) == longest and echoed_seconds("060", longest) is None

    drawn = config[config.index('map "$edge_waiting_room_others_backoff:$edge_draw_digit" '
                                '$edge_waiting_room_others_retry_after {'):]
    drawn = drawn[:drawn.index("}")]
    assert re.search(rf"^        default \$edge_retry_{ROOM_RETRY_S[0]}_{ROOM_RETRY_S[1]};$", drawn, re.MULTILINE)
    table: dict[int, Counter] = {}
    for backoff, _digit, value in re.findall(r'^        "(\d+):([0-9a-f])" (\d+);$', drawn, re.MULTILINE):
        table.setdefault(int(backoff), Counter())[int(value)] += 1
    assert set(table) == set(range(1, longest + 1))
    for backoff, values in table.items():
        first, last = refused_join_span(backoff)
        assert sum(values.values()) == 16 and set(values) == set(range(first, last + 1)), backoff
        assert max(values.values()) - min(values.values()) <= 1
    assert min(table[ROOM_RETRY_S[1]]) == 2 * ROOM_RETRY_S[1] and min(table[longest]) == longest

    told = re.search(r'map "\$request_method \$uri" \$edge_waiting_room_answered_backoff \{\s+"~\S+ \S+" "";\s+'
                     r'default \$edge_waiting_room_retry_after;', config)
    assert told is not None
    assert "add_header Join-Backoff $edge_waiting_room_answered_backoff always;" in config
