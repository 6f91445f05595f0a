"""deploy/compose.yaml, read as YAML (no Docker engine here): the whole stack, not just the web services,
checked against the process catalogue (deploy/catalogue.py)."""
from pathlib import Path

import yaml

from deploy.catalogue import WEB_SERVICES, WORKERS

REPO = Path(__file__).resolve().parents[2]


def compose_services() -> dict[str, dict]:
    return yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())["services"]


def test_every_worker_of_the_catalogue_runs_in_a_container_of_its_own():
    services = compose_services()
    for worker in WORKERS:
        assert services[worker.name]["command"] == worker.argv(), worker.name
    running_a_worker = {name for name, service in services.items() if ".worker" in str(service.get("command", ""))}
    assert running_a_worker == {worker.name for worker in WORKERS}, "a worker container the catalogue does not name"


def test_every_web_service_of_the_catalogue_answers_on_its_local_port():
    services = compose_services()
    serving = {service["environment"].get("GUICHET_SERVICE"): service for service in services.values()
               if isinstance(service.get("environment"), dict) and "GUICHET_SERVICE" in service["environment"]}
    assert set(serving) == {service.name for service in WEB_SERVICES}
    for service in WEB_SERVICES:
        container = serving[service.name]
        bind_port = container["environment"]["GUICHET_BIND"].rsplit(":", 1)[1]
        assert bind_port == str(service.port), service.name
        assert any(port.endswith(f":{bind_port}:{bind_port}") for port in container["ports"]), service.name
        # The image's command runs services.<GUICHET_SERVICE>.wsgi:app, the catalogue's app.
        assert "command" not in container, f"{service.name}: let the image run {service.app}"


def test_the_image_runs_the_web_service_that_guichet_service_names():
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    assert 'services.${GUICHET_SERVICE' in dockerfile and '}.wsgi:app' in dockerfile
    exposed = next(line for line in dockerfile.splitlines() if line.startswith("EXPOSE")).split()[1:]
    assert {int(port) for port in exposed} == {service.port for service in WEB_SERVICES}
