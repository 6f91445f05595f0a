"""Every Guichet process, written once: the web services with their gunicorn app and local port, the
workers with their module, and the services that own a PostgreSQL schema.

Read by `make run` (deploy/local/run.py), `make migrate` (deploy/local/migrate.py), the tests' stack
(tests/conftest.py, tests/e2e, tests/support), the benchmarks (bench/stack.py), and checked against
deploy/compose.yaml and deploy/kubernetes/ by their tests (tests/unit/test_compose_file.py,
tests/unit/test_kubernetes_manifests.py). A new service or worker is added here first; those tests
then name every place that still lacks it.

Nothing under services/ or shared/ imports this module (the import-linter contracts in pyproject.toml):
the product does not know how it is deployed.
"""
from __future__ import annotations

import dataclasses
import importlib
from dataclasses import dataclass

LOOPBACK = "127.0.0.1"


@dataclass(frozen=True)
class WebService:
    """A service's web process: `services.<name>.wsgi:app` under gunicorn (deploy/gunicorn.conf.py)."""

    name: str
    # The local port (make run, compose); in Kubernetes the container port of its Deployment.
    port: int
    # Whether it owns a PostgreSQL schema (services/<name>/migrations/); the portal has no storage.
    has_schema: bool = True

    @property
    def schema(self) -> str | None:
        """Its PostgreSQL schema (named after it; Alembic's version table lives there too), if it has one."""
        return self.name if self.has_schema else None

    @property
    def app(self) -> str:
        """What gunicorn is given."""
        return f"services.{self.name}.wsgi:app"

    @property
    def settings_module(self) -> str:
        """Where its typed settings class lives (a subclass of shared.config.Settings)."""
        return f"services.{self.name}.settings"

    def settings_class(self) -> type:
        """Its typed settings class (imported on demand: the catalogue itself imports no service)."""
        from shared.config import Settings

        module = importlib.import_module(self.settings_module)
        declared = [value for value in vars(module).values()
                    if isinstance(value, type) and issubclass(value, Settings) and value.__module__ == module.__name__]
        if len(declared) != 1:
            raise LookupError(f"{self.settings_module} must declare exactly one settings class, not {len(declared)}")
        return declared[0]

    @property
    def url(self) -> str:
        return f"http://{LOOPBACK}:{self.port}"

    def on_port(self, port: int) -> WebService:
        """The same service on another port: the tests and the benchmarks run beside `make run`."""
        return dataclasses.replace(self, port=port)


@dataclass(frozen=True)
class Worker:
    """A service's worker process: `python -m services.<service>.worker` (consumers, relays, periodic jobs)."""

    service: str

    @property
    def name(self) -> str:
        """Its name as a process, a container and a Kubernetes Deployment."""
        return f"{self.service}-worker"

    @property
    def module(self) -> str:
        return f"services.{self.service}.worker"

    def argv(self, python: str = "python") -> list[str]:
        return [python, "-m", self.module]


WEB_SERVICES: tuple[WebService, ...] = (
    WebService("campaigns", 8001),
    WebService("registrations", 8002),
    WebService("allocation", 8003),
    WebService("notifications", 8004),
    # The pages for parents and managers: it calls the four services above; no schema, no broker.
    WebService("portal", 8005, has_schema=False),
)

WORKERS: tuple[Worker, ...] = (
    Worker("campaigns"),
    Worker("registrations"),
    Worker("allocation"),
    Worker("notifications"),
)

# In migration order (make migrate, make run, the Kubernetes migrations Job, the tests' databases).
SERVICES_WITH_SCHEMAS: tuple[str, ...] = tuple(service.name for service in WEB_SERVICES if service.has_schema)


def web_service(name: str) -> WebService:
    """The web service called `name`; KeyError names the known ones."""
    for service in WEB_SERVICES:
        if service.name == name:
            return service
    raise KeyError(f"no web service {name!r} in deploy/catalogue.py (known: {', '.join(s.name for s in WEB_SERVICES)})")


def worker(service: str) -> Worker:
    """The worker of `service`; KeyError names the services that have one."""
    for candidate in WORKERS:
        if candidate.service == service:
            return candidate
    raise KeyError(f"no worker for {service!r} in deploy/catalogue.py (known: {', '.join(w.service for w in WORKERS)})")
