"""The edge sidecars of registrations' pods (issue 15; docs/deploy.md, "Shedding at the edge"): nginx in front of
gunicorn in each pod, with the bounds `make run`'s edge has (deploy/local/servers/nginx.py). ingress-nginx's limits
(limit-connections, limit-rps) count per client address, and an opening's crowd is thousands of addresses: only
something in front of each pod's processes bounds what they are given at once.

- registrations-room (the waiting room's pods): beyond the pod's threads (joins), or the polls its processes serve
  at once (counted apart), nginx answers 503 problem+json `waiting-room-busy` with a jittered Retry-After;
- registrations-web (intake's pods): beyond the pod's threads, submissions (`POST /applications`) are answered 503
  problem+json `intake-saturated` by nginx; every other request passes unbounded.

In microseconds, and nothing reaches Python. `python -m deploy.kubernetes.edge` writes each Deployment's ConfigMap
(deploy/kubernetes/base/<deployment>-edge.yaml, which its sidecar mounts) from the Deployment's sizing;
tests/unit/test_kubernetes_manifests.py checks they are current.
"""
from __future__ import annotations

from pathlib import Path

import yaml

from deploy.local.servers.nginx import Route, pod_edge_config, submissions_shedding, waiting_room_shedding

BASE = Path(__file__).resolve().parent / "base"
ROOM_DEPLOYMENT = BASE / "registrations-room.yaml"
INTAKE_DEPLOYMENT = BASE / "registrations-web.yaml"
CONFIGMAP_NAME = "registrations-room-edge"  # the room's
INTAKE_CONFIGMAP_NAME = "registrations-web-edge"
EDGE_PORT = 8080  # the sidecar's, which the room's Service targets; gunicorn keeps 8002 for probes and Prometheus
TEMP_DIR = Path("/tmp")  # the pod's emptyDir: nginx's pid and buffers (a read-only root)


def _web_env(deployment: dict) -> dict[str, str | None]:
    (web,) = [c for c in deployment["spec"]["template"]["spec"]["containers"] if c["name"] == "web"]
    return {item["name"]: item.get("value") for item in web["env"]}


def room_threads(deployment: dict) -> int:
    """Requests one pod's gunicorn serves at once: its workers × threads, as its Deployment sets them."""
    env = _web_env(deployment)
    return int(env["GUICHET_WORKERS"]) * int(env["GUICHET_THREADS"])


def room_polls_in_flight(deployment: dict) -> int:
    """Polls one room pod serves at once: its workers × WAITING_ROOM_MAX_IN_FLIGHT (each process counts its polls
    apart from its joins), as its Deployment sets them."""
    env = _web_env(deployment)
    return int(env["GUICHET_WORKERS"]) * int(env["WAITING_ROOM_MAX_IN_FLIGHT"])


def deployment_in(path: Path) -> dict:
    return next(doc for doc in yaml.safe_load_all(path.read_text()) if doc and doc["kind"] == "Deployment")


def room_deployment() -> dict:
    return deployment_in(ROOM_DEPLOYMENT)


def configmap_name(deployment: dict) -> str:
    return f"{deployment['metadata']['name']}-edge"


def edge_config(deployment: dict) -> str:
    """The sidecar's nginx.conf: the waiting room's bounds for the room's pods, intake's for registrations-web's."""
    web_port = next(p["containerPort"] for c in deployment["spec"]["template"]["spec"]["containers"]
                    if c["name"] == "web" for p in c["ports"] if p["name"] == "http")
    upstream = f"127.0.0.1:{web_port}"
    if deployment["metadata"]["name"] == "registrations-web":
        route = Route("registrations", EDGE_PORT, upstream, shedding=submissions_shedding(room_threads(deployment)))
    else:
        route = Route("waiting-room", EDGE_PORT, upstream,
                      shedding=waiting_room_shedding(room_threads(deployment), room_polls_in_flight(deployment)))
    return pod_edge_config(route, TEMP_DIR)


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line strings as YAML literal blocks: the configuration reads as nginx.conf in the file."""


_LiteralDumper.add_representer(str, lambda dumper, text: dumper.represent_scalar(
    "tag:yaml.org,2002:str", text, style="|" if "\n" in text else None))


def configmap_text(deployment: dict) -> str:
    name = deployment["metadata"]["name"]
    header = (f"# Written by `python -m deploy.kubernetes.edge` (deploy/kubernetes/edge.py) from {name}.yaml's\n"
              "# sizing: edit those, not this. The pods' edge sidecar (docs/deploy.md, \"Shedding at the edge\").\n")
    document = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": configmap_name(deployment)},
                "data": {"nginx.conf": edge_config(deployment)}}
    return header + yaml.dump(document, Dumper=_LiteralDumper, sort_keys=False, width=1000)


def main() -> None:
    for path in (ROOM_DEPLOYMENT, INTAKE_DEPLOYMENT):
        deployment = deployment_in(path)
        written = BASE / f"{configmap_name(deployment)}.yaml"
        written.write_text(configmap_text(deployment))
        print(f"wrote {written}")


if __name__ == "__main__":
    main()
