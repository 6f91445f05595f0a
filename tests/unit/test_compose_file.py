"""deploy/compose.yaml, read as YAML (no Docker engine here): the whole stack, not just the web services."""
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]


def compose_services() -> dict[str, dict]:
    return yaml.safe_load((REPO / "deploy" / "compose.yaml").read_text())["services"]


def test_every_worker_module_runs_in_a_container_of_its_own():
    workers = {p.parent.name for p in (REPO / "services").glob("*/worker.py")}
    commands = [service.get("command") for service in compose_services().values()]
    assert {name for name in workers if ["python", "-m", f"services.{name}.worker"] in commands} == workers


def test_every_web_service_and_the_portal_answer_on_their_local_port():
    services = compose_services()
    web = {p.parent.name for p in (REPO / "services").glob("*/wsgi.py")} | {"portal"}
    serving = {service["environment"].get("GUICHET_SERVICE"): service for service in services.values()
               if isinstance(service.get("environment"), dict)}
    assert web <= set(serving)
    for name in web:
        bind_port = serving[name]["environment"]["GUICHET_BIND"].rsplit(":", 1)[1]
        assert any(port.endswith(f":{bind_port}:{bind_port}") for port in serving[name]["ports"]), name
