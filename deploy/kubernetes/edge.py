"""The waiting room's pods' edge sidecar (issue 15; docs/deploy.md, "Shedding at the edge"): nginx in front of
gunicorn in each registrations-room pod, with the bound `make run`'s edge has (deploy/local/servers/nginx.py).
ingress-nginx's limits (limit-connections, limit-rps) count per client address, and the room's crowd is thousands
of addresses: only something in front of each pod's processes bounds what they are given at once. Beyond the pod's
threads (joins), or the polls its processes serve at once (counted apart), nginx answers 503 problem+json `waiting-room-busy` with a jittered Retry-After, in microseconds, and
nothing reaches Python.

`python -m deploy.kubernetes.edge` writes deploy/kubernetes/base/registrations-room-edge.yaml (the ConfigMap the
sidecar mounts) from the room's Deployment's sizing; tests/unit/test_kubernetes_manifests.py checks it is current.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from deploy.local.servers.nginx import Route, pod_edge_config, waiting_room_shedding

BASE = Path(__file__).resolve().parent / "base"
ROOM_DEPLOYMENT = BASE / "registrations-room.yaml"
EDGE_CONFIGMAP = BASE / "registrations-room-edge.yaml"
CONFIGMAP_NAME = "registrations-room-edge"
EDGE_PORT = 8080  # the sidecar's, which the room's Service targets; gunicorn keeps 8002 for probes and Prometheus
TEMP_DIR = Path("/tmp")  # the pod's emptyDir: nginx's pid and buffers (a read-only root)


def _web_env(deployment: dict) -> dict[str, str | None]:
    (web,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "web"]
    return {item["name"]: item.get("value") for item in web["env"]}


def room_threads(deployment: dict) -> int:
    """Requests one room pod's gunicorn serves at once: its workers × threads, as its Deployment sets them."""
    env = _web_env(deployment)
    return int(env["GUICHET_WORKERS"]) * int(env["GUICHET_THREADS"])


def room_polls_in_flight(deployment: dict) -> int:
    """Polls one room pod serves at once: its workers × WAITING_ROOM_MAX_IN_FLIGHT (each process counts its polls
    apart from its joins), as its Deployment sets them."""
    env = _web_env(deployment)
    return int(env["GUICHET_WORKERS"]) * int(env["WAITING_ROOM_MAX_IN_FLIGHT"])


def room_deployment() -> dict:
    return next(doc for doc in yaml.safe_load_all(ROOM_DEPLOYMENT.read_text())
                if doc and doc["kind"] == "Deployment")


def edge_config(deployment: dict) -> str:
    web_port = next(p["containerPort"] for c in deployment["spec"]["template"]["spec"]["containers"]
                    if c["name"] == "web" for p in c["ports"] if p["name"] == "http")
    route = Route("waiting-room", EDGE_PORT, f"127.0.0.1:{web_port}",
                  shedding=waiting_room_shedding(room_threads(deployment), room_polls_in_flight(deployment)))
    return pod_edge_config(route, TEMP_DIR)


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings as YAML literal blocks: the configuration reads as nginx.conf in the file."""


_LiteralDumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


def configmap_text(deployment: dict) -> str:
    header = ("# Written by `python -m deploy.kubernetes.edge` (deploy/kubernetes/edge.py) from registrations-room.yaml's\n"
              "# sizing: edit those, not this. The waiting room's pods' edge sidecar (docs/deploy.md, \"Shedding at the edge\").\n")
    document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": CONFIGMAP_NAME},
                "data": {"nginx.conf": edge_config(deployment)}}
    return header + yaml.dump(document, Dumper=_LiteralDumper, sort_keys=False, width=1000)


def main() -> None:
    EDGE_CONFIGMAP.write_text(configmap_text(room_deployment()))
    print(f"wrote {EDGE_CONFIGMAP}")


if __name__ == "__main__":
    main()
