"""The local edge's nginx.conf (deploy/local/servers/nginx.py), as `make run` writes it."""
import re
from pathlib import Path

from deploy.local.servers.nginx import Route, nginx_config


def test_every_request_reaches_gunicorn_with_the_instant_the_edge_took_it(tmp_path):
    config = nginx_config([Route("registrations", 8002, Path("/run/r.sock"), (("/waiting-rooms/", "room"),)),
                           Route("room", 8006, Path("/run/room.sock"))], tmp_path, tmp_path)
    assert re.search(r'^    proxy_set_header X-Request-Start "t=\$\{msec\}";$', config, re.MULTILINE)
    # nginx inherits the http block's proxy_set_header only into locations that set none of their own.
    servers = config[config.index("server {"):]
    assert "proxy_set_header" not in servers

