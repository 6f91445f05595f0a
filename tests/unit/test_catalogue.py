"""The process catalogue (deploy/catalogue.py) names every entry point the tree has, and only those:
what `make run`, compose, Kubernetes, the tests' stack and the benchmarks start is what exists."""
from pathlib import Path

import pytest

from deploy.catalogue import SERVICES_WITH_SCHEMAS, WEB_SERVICES, WORKERS, web_service, worker

SERVICES = Path(__file__).resolve().parents[2] / "services"


def test_every_wsgi_module_is_a_web_service_of_the_catalogue():
    assert {p.parent.name for p in SERVICES.glob("*/wsgi.py")} == {service.name for service in WEB_SERVICES}
    for service in WEB_SERVICES:
        assert service.app == f"services.{service.name}.wsgi:app"


def test_every_worker_module_is_a_worker_of_the_catalogue():
    assert {p.parent.name for p in SERVICES.glob("*/worker.py")} == {w.service for w in WORKERS}
    assert all(w.argv() == ["python", "-m", f"services.{w.service}.worker"] for w in WORKERS)


def test_the_services_with_a_schema_are_those_with_migrations():
    assert set(SERVICES_WITH_SCHEMAS) == {p.parent.parent.name for p in SERVICES.glob("*/migrations/env.py")}
    assert web_service("portal").schema is None
    assert all(web_service(name).schema == name for name in SERVICES_WITH_SCHEMAS)


def test_ports_are_distinct_and_names_are_looked_up():
    assert len({service.port for service in WEB_SERVICES}) == len(WEB_SERVICES)
    assert web_service("registrations").on_port(9999).url == "http://127.0.0.1:9999"
    assert worker("allocation").name == "allocation-worker"
    with pytest.raises(KeyError, match="portal"):
        worker("portal")
