"""The Kubernetes manifests (deploy/kubernetes/) hold what docs/deploy.md promises, read as plain YAML files:
no cluster, no kubectl or kustomize needed; a Deployment for every web service and worker of the process
catalogue (deploy/catalogue.py). And the schema gate their initContainers run decides right.
"""
from __future__ import annotations

import ast
import ipaddress
import re
from pathlib import Path

import pytest
import yaml

from deploy.catalogue import SERVICES_WITH_SCHEMAS, WEB_SERVICES, WORKERS, web_service
from shared.config import Settings

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "kubernetes"
BASE = K8S / "base"
PRODUCTION = K8S / "overlays" / "production"
DEPENDENCIES = K8S / "dependencies"

SECRET = "guichet-secrets"
CONFIG = "guichet-config"
IMAGE = "guichet"


def load(path: Path) -> list[dict]:
    return [doc for doc in yaml.safe_load_all(path.read_text()) if doc is not None]


def manifests(folder: Path) -> list[dict]:
    return [doc for path in sorted(folder.glob("*.yaml")) if path.name != "kustomization.yaml" for doc in load(path)]


def of_kind(docs: list[dict], kind: str) -> list[dict]:
    return [doc for doc in docs if doc["kind"] == kind]


def by_name(docs: list[dict], kind: str) -> dict[str, dict]:
    return {doc["metadata"]["name"]: doc for doc in of_kind(docs, kind)}


@pytest.fixture(scope="module")
def base() -> list[dict]:
    return manifests(BASE)


@pytest.fixture(scope="module")
def deployments(base) -> dict[str, dict]:
    return by_name(base, "Deployment")


def component(deployment: dict) -> str:
    return deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/component"]


def service_of(deployment: dict) -> str:
    return deployment["spec"]["template"]["metadata"]["labels"]["app.kubernetes.io/name"]


def web_deployments(deployments: dict[str, dict]) -> list[dict]:
    return [d for d in deployments.values() if component(d) == "web"]


# Registrations' web image once more for the waiting room's paths (base/registrations-room.yaml): served over HTTP
# like a web pod, but not selected by registrations' Service.
WAITING_ROOM = "waiting-room"
EDGE = "edge"  # the room's pods' nginx sidecar (deploy/kubernetes/edge.py)


def http_deployments(deployments: dict[str, dict]) -> list[dict]:
    """Every Deployment serving HTTP: the web services' and the waiting room's."""
    return [d for d in deployments.values() if component(d) in ("web", WAITING_ROOM)]


def worker_deployments(deployments: dict[str, dict]) -> list[dict]:
    return [d for d in deployments.values() if component(d) == "worker"]


def pod(workload: dict) -> dict:
    return workload["spec"]["template"]["spec"]


def all_containers(workload: dict) -> list[dict]:
    return pod(workload).get("initContainers", []) + pod(workload)["containers"]


def env_of(container: dict) -> dict[str, dict]:
    return {entry["name"]: entry for entry in container.get("env", [])}


def gunicorn_graceful_timeout() -> int:
    """Read from deploy/gunicorn.conf.py without importing it (it sets PROMETHEUS_MULTIPROC_DIR on import)."""
    tree = ast.parse((REPO / "deploy" / "gunicorn.conf.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "graceful_timeout" for t in node.targets):
            return ast.literal_eval(node.value)
    raise AssertionError("graceful_timeout not found in deploy/gunicorn.conf.py")


# --- files and kustomizations -------------------------------------------------------------------------------

@pytest.mark.parametrize("folder", [BASE, PRODUCTION, DEPENDENCIES], ids=lambda p: str(p.relative_to(K8S)))
def test_every_file_of_a_kustomization_folder_is_listed_and_every_listed_file_exists(folder):
    kustomization = load(folder / "kustomization.yaml")[0]
    listed = {entry for entry in kustomization.get("resources", []) if not entry.startswith("..")}
    listed |= {patch["path"] for patch in kustomization.get("patches", []) if "path" in patch}
    on_disk = {path.name for path in folder.iterdir() if path.is_file() and path.name != "kustomization.yaml"}
    assert on_disk == listed, f"{folder}: on disk but not listed {on_disk - listed}, listed but missing {listed - on_disk}"


def test_every_manifest_parses_and_names_its_kind():
    for path in K8S.rglob("*.yaml"):
        for doc in load(path):
            assert doc.get("apiVersion") and doc.get("kind"), path
            if doc["kind"] != "Kustomization":
                assert doc["metadata"]["name"], path


def test_no_secret_value_is_committed():
    for path in K8S.rglob("*.yaml"):
        for doc in load(path):
            assert doc["kind"] != "Secret", f"{path}: Secrets are created by hand (docs/deploy.md#secrets)"
            if doc["kind"] == "Kustomization":
                assert "secretGenerator" not in doc, path


# --- web Deployments ----------------------------------------------------------------------------------------

def test_there_is_one_web_deployment_per_web_service_of_the_catalogue_on_its_port(deployments):
    web = {service_of(d): d for d in web_deployments(deployments)}
    assert set(web) == {service.name for service in WEB_SERVICES}
    for service in WEB_SERVICES:
        assert web[service.name]["metadata"]["name"] == f"{service.name}-web"
        ports = {p["name"]: p["containerPort"] for p in pod(web[service.name])["containers"][0]["ports"]}
        assert ports == {"http": service.port}, service.name


def test_web_pods_are_probed_on_readyz_and_healthz_through_their_http_port(deployments):
    for deployment in http_deployments(deployments):
        web = pod(deployment)["containers"][0]
        ports = {p["name"]: p["containerPort"] for p in web["ports"]}
        assert web["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "http"}, deployment["metadata"]["name"]
        assert web["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        assert web["startupProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
        # The app's readiness check may take a database connect timeout; liveness must be the cheaper one.
        assert web["livenessProbe"]["failureThreshold"] * web["livenessProbe"]["periodSeconds"] >= 20
        env = env_of(web)
        assert env["GUICHET_SERVICE"]["value"] == service_of(deployment)
        assert env["GUICHET_BIND"]["value"] == f"0.0.0.0:{ports['http']}"
        annotations = deployment["spec"]["template"]["metadata"]["annotations"]
        assert annotations["prometheus.io/scrape"] == "true"
        assert annotations["prometheus.io/port"] == str(ports["http"])
        assert annotations["prometheus.io/path"] == "/metrics"


def test_web_termination_grace_outlasts_the_pre_stop_pause_and_gunicorns_graceful_timeout(deployments):
    graceful = gunicorn_graceful_timeout()
    for deployment in http_deployments(deployments):
        web = pod(deployment)["containers"][0]
        pre_stop = web["lifecycle"]["preStop"]["exec"]["command"]
        assert pre_stop[0] == "sleep"
        grace = pod(deployment)["terminationGracePeriodSeconds"]
        assert grace > 25
        assert grace >= int(pre_stop[1]) + graceful + 10, deployment["metadata"]["name"]


def test_every_container_has_requests_and_limits_that_fit_a_two_core_node(base):
    def cores(value) -> float:
        text = str(value)
        return int(text[:-1]) / 1000 if text.endswith("m") else float(text)

    for workload in of_kind(base, "Deployment") + of_kind(base, "Job"):
        for container in all_containers(workload):
            resources = container["resources"]
            for kind in ("requests", "limits"):
                assert {"cpu", "memory"} <= set(resources[kind]), (workload["metadata"]["name"], container["name"])
            assert cores(resources["requests"]["cpu"]) <= cores(resources["limits"]["cpu"]) <= 1.5
            assert cores(resources["requests"]["cpu"]) <= 1.0


def test_every_pod_runs_non_root_on_a_read_only_root_with_writable_emptydirs(base):
    for workload in of_kind(base, "Deployment") + of_kind(base, "Job"):
        spec = pod(workload)
        name = workload["metadata"]["name"]
        assert spec["securityContext"]["runAsNonRoot"] is True, name
        assert spec["securityContext"]["runAsUser"] != 0
        assert spec["automountServiceAccountToken"] is False
        volumes = {v["name"]: v for v in spec["volumes"]}
        for container in all_containers(workload):
            context = container["securityContext"]
            assert context["readOnlyRootFilesystem"] is True, (name, container["name"])
            assert context["allowPrivilegeEscalation"] is False
            assert context["capabilities"]["drop"] == ["ALL"]
            assert context.get("runAsNonRoot", True) is True
            mounts = {m["mountPath"]: m["name"] for m in container.get("volumeMounts", [])}
            assert "emptyDir" in volumes[mounts["/tmp"]], (name, container["name"])
            metrics_dir = env_of(container).get("PROMETHEUS_MULTIPROC_DIR")
            if metrics_dir:
                assert "emptyDir" in volumes[mounts[metrics_dir["value"]]]
    for deployment in http_deployments(by_name(base, "Deployment")):
        assert "PROMETHEUS_MULTIPROC_DIR" in env_of(pod(deployment)["containers"][0])


def test_every_container_runs_the_guichet_image_with_the_configmap(base):
    configmaps = by_name(base, "ConfigMap")
    assert CONFIG in configmaps
    for workload in of_kind(base, "Deployment") + of_kind(base, "Job"):
        for container in all_containers(workload):
            where = (workload["metadata"]["name"], container["name"])
            if container["name"] == EDGE:  # nginx in front of the room's gunicorn: test_the_rooms_pods_shed_at_their_edge
                continue
            assert container["image"] == IMAGE, where
            assert {"configMapRef": {"name": CONFIG}} in container["envFrom"], where


def secret_key(container: dict, variable: str) -> tuple[str, str] | None:
    """(Secret, key) a container's variable is read from, or None when it has no such variable."""
    entry = env_of(container).get(variable)
    if entry is None:
        return None
    reference = entry["valueFrom"]["secretKeyRef"]
    return reference["name"], reference["key"]


def test_each_service_logs_in_to_postgresql_and_redis_as_itself_from_its_own_secret_keys(base):
    """Every container of a service (web, worker, schema gate) reads DATABASE_URL from the key of its own role
    (guichet_<service>, deploy/database_roles.py) and REDIS_URL from its own ACL user's key; no two services share
    a key, and the one shared key of earlier releases is gone."""
    database_keys: dict[str, set] = {}
    redis_keys: dict[str, set] = {}
    for deployment in of_kind(base, "Deployment"):
        service = service_of(deployment)
        for container in all_containers(deployment):
            where = (deployment["metadata"]["name"], container["name"])
            database, redis = secret_key(container, "DATABASE_URL"), secret_key(container, "REDIS_URL")
            if container["name"] == EDGE:
                assert database is None and redis is None, f"{where}: the edge only passes requests on"
                continue
            if not web_service(service).has_schema:
                assert database is None, f"{where}: the portal stores nothing in PostgreSQL"
            else:
                assert database == (SECRET, f"{service}-database-url"), where
                database_keys.setdefault(service, set()).add(database)
            if container["name"] in ("web", "worker"):
                # The portal too: its sessions live in Redis.
                assert redis == (SECRET, f"{service}-redis-url"), where
                redis_keys.setdefault(service, set()).add(redis)
            else:
                assert redis is None, f"{where}: the schema gate needs no Redis"
    for keys in (database_keys, redis_keys):
        assert all(len(found) == 1 for found in keys.values())
        flat = [key for found in keys.values() for key in found]
        assert len(flat) == len(set(flat)), "two services share a credential"
    assert set(database_keys) == set(SERVICES_WITH_SCHEMAS)
    assert set(redis_keys) == {service.name for service in WEB_SERVICES}


def test_the_migrations_job_logs_in_as_the_migrations_role_and_becomes_each_schemas_owner(base, deployments):
    from deploy.database_roles import owner_role

    job = pod(by_name(base, "Job")["guichet-migrate"])["containers"][0]
    assert secret_key(job, "DATABASE_URL") == (SECRET, "migrate-database-url")
    role = env_of(job)["DATABASE_MIGRATION_ROLE"]["value"]
    # shared/migrations.py formats it with each service it migrates.
    assert {role.format(service=service) for service in SERVICES_WITH_SCHEMAS} == {
        owner_role(service) for service in SERVICES_WITH_SCHEMAS}
    # No service process becomes an owner: only the Job migrates.
    assert "DATABASE_MIGRATION_ROLE" not in by_name(base, "ConfigMap")[CONFIG]["data"]
    for deployment in deployments.values():
        for container in all_containers(deployment):
            assert "DATABASE_MIGRATION_ROLE" not in env_of(container), deployment["metadata"]["name"]
            assert secret_key(container, "DATABASE_URL") != (SECRET, "migrate-database-url")


def test_no_pod_mounts_a_public_key_and_every_pod_verifies_tokens_at_the_provider(base):
    """The static key mode (JWT_PUBLIC_KEY_FILE) is for the provider-less tests only: production names the
    provider (OIDC_ISSUER, https) in the base and the overlay, and no pod carries a key file or its variable."""
    for configmap in (by_name(base, "ConfigMap")[CONFIG], by_name(manifests(PRODUCTION), "ConfigMap")[CONFIG]):
        data = configmap["data"]
        assert data["OIDC_ISSUER"].startswith("https://"), "without an issuer the services would use a static key"
        assert not {"JWT_PUBLIC_KEY_FILE", "JWT_PRIVATE_KEY_FILE", "JWT_ISSUER"} & set(data)
    for workload in of_kind(base, "Deployment") + of_kind(base, "Job"):
        name = workload["metadata"]["name"]
        for container in all_containers(workload):
            env = env_of(container)
            assert not {"JWT_PUBLIC_KEY_FILE", "JWT_PRIVATE_KEY_FILE", "OIDC_ISSUER"} & set(env), (name, env)
            assert all(not mount["mountPath"].startswith("/etc/guichet/jwt") for mount in container.get("volumeMounts", []))
        for volume in pod(workload).get("volumes", []):
            items = volume.get("secret", {}).get("items", [])
            assert not any(item["key"].endswith(".pem") for item in items), (name, volume["name"])


def test_the_portal_signs_in_with_its_client_secret_and_session_key_from_secrets(deployments, base):
    web = pod(deployments["portal-web"])["containers"][0]
    assert secret_key(web, "GUICHET_PORTAL_OIDC_CLIENT_SECRET") == (SECRET, "portal-oidc-client-secret")
    assert secret_key(web, "GUICHET_PORTAL_SECRET_KEY") == (SECRET, "portal-secret-key")
    assert by_name(base, "ConfigMap")[CONFIG]["data"]["GUICHET_PORTAL_OIDC_CLIENT_ID"]
    env = env_of(web)
    assert env["GUICHET_PORTAL_SECURE_COOKIE"]["value"] == "1"
    # Behind the ingress: X-Forwarded-Proto makes the redirect URI https, as registered at the provider.
    assert env["TRUSTED_PROXIES"]["value"] == "1"


def settings_classes() -> list[type[Settings]]:
    """The shared Settings and every settings class the catalogue's services declare (services/<name>/settings.py)."""
    return [Settings, *(service.settings_class() for service in WEB_SERVICES)]


def test_the_configmap_only_names_settings_guichet_reads(base):
    """Every key of the ConfigMap is a variable that shared.config.Settings or a service's settings class
    reads (`Settings.variables()`): a typo, or a setting no process reads any more, fails here."""
    read = {variable for settings_class in settings_classes() for variable in settings_class.variables()}
    data = by_name(base, "ConfigMap")[CONFIG]["data"]
    for key in data:
        assert key in read, f"{key} is read by no settings class (typo?)"
    assert "DATABASE_URL" not in data
    assert "REDIS_URL" not in data


# --- workers, migrations --------------------------------------------------------------------------------------

def test_there_is_one_worker_deployment_per_worker_of_the_catalogue_and_each_stops_cleanly(deployments):
    workers = {service_of(d): d for d in worker_deployments(deployments)}
    assert set(workers) == {w.service for w in WORKERS}, "a worker of the catalogue needs its Deployment (and only those exist)"
    for worker in WORKERS:
        deployment = workers[worker.service]
        assert deployment["metadata"]["name"] == worker.name
        assert pod(deployment)["containers"][0]["command"] == worker.argv()
        assert pod(deployment)["terminationGracePeriodSeconds"] >= 30


def test_the_notifications_worker_asks_the_provider_for_its_service_token_with_its_own_client(deployments):
    """Client credentials (services/notifications/store/contacts.py: ServiceToken); a token file would take
    precedence over them, so none is mounted or named."""
    worker = deployments["notifications-worker"]
    container = pod(worker)["containers"][0]
    assert secret_key(container, "OIDC_CLIENT_ID") == (SECRET, "notifications-oidc-client-id")
    assert secret_key(container, "OIDC_CLIENT_SECRET") == (SECRET, "notifications-oidc-client-secret")
    assert "GUICHET_SERVICE_TOKEN_FILE" not in env_of(container)
    # Only a process that calls another service's API holds client credentials.
    for name, deployment in deployments.items():
        if name != "notifications-worker":
            for other in all_containers(deployment):
                assert not {"OIDC_CLIENT_ID", "OIDC_CLIENT_SECRET"} & set(env_of(other)), name


def test_the_registrations_worker_runs_two_replicas_with_a_budget(base, deployments):
    """Its guard keeper's rebuild holds a lease (tests/integration/registrations/test_ledger.py): two may run."""
    worker = deployments["registrations-worker"]
    assert worker["spec"]["replicas"] == 2
    assert worker["spec"]["strategy"]["type"] == "RollingUpdate"
    assert worker["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    assert "registrations-worker" in by_name(base, "PodDisruptionBudget")


def test_every_pod_waits_for_its_schema_and_the_job_migrates_every_service(base, deployments):
    from deploy.kubernetes.release import SERVICES

    for deployment in deployments.values():
        if not web_service(service_of(deployment)).has_schema:
            assert "initContainers" not in pod(deployment), "a service without a schema has no schema to wait for"
            continue
        gate = pod(deployment)["initContainers"][0]
        assert gate["command"][:5] == ["python", "-m", "deploy.kubernetes.release", "wait-for-schema",
                                       service_of(deployment)]
    job = by_name(base, "Job")["guichet-migrate"]
    command = pod(job)["containers"][0]["command"]
    assert command[:4] == ["python", "-m", "deploy.kubernetes.release", "migrate"]
    assert command[command.index("--expect-replication") + 1] == "3"
    assert pod(job)["restartPolicy"] == "Never"
    assert SERVICES == SERVICES_WITH_SCHEMAS
    assert set(SERVICES) == {p.parent.parent.name for p in (REPO / "services").glob("*/migrations/env.py")}


# --- Services, disruption budgets, autoscaling, network -----------------------------------------------------------

def test_every_service_selects_an_existing_deployments_pods_and_a_named_port(base, deployments):
    for service in of_kind(base, "Service"):
        selector = service["spec"]["selector"]
        matches = [d for d in deployments.values()
                   if selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()]
        assert len(matches) == 1, service["metadata"]["name"]
        port_names = {p["name"] for c in pod(matches[0])["containers"] for p in c.get("ports", [])}
        for port in service["spec"]["ports"]:
            assert port["targetPort"] in port_names


def test_deployment_selectors_match_their_own_pod_labels(deployments):
    for deployment in deployments.values():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
        for constraint in pod(deployment)["topologySpreadConstraints"]:
            assert constraint["labelSelector"]["matchLabels"].items() <= labels.items()


def test_disruption_budgets_cover_every_multi_replica_deployment(base, deployments):
    budgets = of_kind(base, "PodDisruptionBudget")
    for budget in budgets:
        selector = budget["spec"]["selector"]["matchLabels"]
        assert any(selector.items() <= d["spec"]["template"]["metadata"]["labels"].items()
                   for d in deployments.values()), budget["metadata"]["name"]
    for deployment in deployments.values():
        if deployment["spec"].get("replicas", 2) > 1:
            labels = deployment["spec"]["template"]["metadata"]["labels"]
            assert any(b["spec"]["selector"]["matchLabels"].items() <= labels.items() for b in budgets), \
                deployment["metadata"]["name"]


def test_the_registrations_autoscaler_owns_its_replicas(base, deployments):
    hpa = by_name(base, "HorizontalPodAutoscaler")["registrations-web"]
    target = hpa["spec"]["scaleTargetRef"]
    assert target["kind"] == "Deployment" and target["name"] in deployments
    assert "replicas" not in deployments[target["name"]]["spec"], "an apply would reset the autoscaler's count"
    kustomization = load(PRODUCTION / "kustomization.yaml")[0]
    assert target["name"] not in {r["name"] for r in kustomization.get("replicas", [])}
    assert hpa["spec"]["minReplicas"] >= 2
    production = by_name(manifests(PRODUCTION), "HorizontalPodAutoscaler")["registrations-web"]
    assert production["spec"]["minReplicas"] < production["spec"]["maxReplicas"]


def test_the_waiting_room_runs_registrations_image_and_configuration_sized_apart_behind_its_own_service(base, deployments):
    """base/registrations-room.yaml: registrations' web container once more (image, command, configuration, secrets,
    port), only its sizing its own; a Service, a disruption budget and an autoscaler of its own; and the two
    Services never select each other's pods (the room's crowd must not reach intake's pods, nor submissions the room's)."""
    intake, room = deployments["registrations-web"], deployments["registrations-room"]
    assert service_of(room) == "registrations" and component(room) == WAITING_ROOM
    intake_web, room_web = pod(intake)["containers"][0], pod(room)["containers"][0]
    for key in ("image", "envFrom", "ports", "volumeMounts"):
        assert room_web[key] == intake_web[key], key
    assert room_web.get("command") == intake_web.get("command") and room_web.get("args") == intake_web.get("args")
    assert pod(room)["initContainers"] == pod(intake)["initContainers"]
    edge_volumes = {"edge-tmp", "edge-config"}  # the edge sidecar's (test_the_rooms_pods_shed_at_their_edge_…)
    assert ([v for v in pod(room)["volumes"] if v["name"] not in edge_volumes]
            == [v for v in pod(intake)["volumes"] if v["name"] not in edge_volumes])
    sizing = {"GUICHET_THREADS", "INTAKE_MAX_IN_FLIGHT", "WAITING_ROOM_MAX_IN_FLIGHT", "DB_POOL_SIZE", "DB_MAX_OVERFLOW"}
    intake_env, room_env = env_of(intake_web), env_of(room_web)
    assert {k: v for k, v in room_env.items() if k not in sizing} == {k: v for k, v in intake_env.items() if k not in sizing}
    # More threads than joins and polls served at once: one beyond gets a thread and a 503 at once.
    assert int(room_env["GUICHET_THREADS"]["value"]) > int(room_env["WAITING_ROOM_MAX_IN_FLIGHT"]["value"]) > 0
    assert "INTAKE_MAX_IN_FLIGHT" not in room_env, "no submission is routed to the room's pods"

    services = by_name(base, "Service")
    room_labels, intake_labels = (d["spec"]["template"]["metadata"]["labels"] for d in (room, intake))
    assert services["registrations-room"]["spec"]["selector"].items() <= room_labels.items()
    assert not services["registrations-room"]["spec"]["selector"].items() <= intake_labels.items()
    assert not services["registrations"]["spec"]["selector"].items() <= room_labels.items()

    budgets = [b for b in of_kind(base, "PodDisruptionBudget")
               if b["spec"]["selector"]["matchLabels"].items() <= room_labels.items()]
    assert [b["metadata"]["name"] for b in budgets] == ["registrations-room"]
    hpa = by_name(base, "HorizontalPodAutoscaler")["registrations-room"]
    assert hpa["spec"]["scaleTargetRef"]["name"] == "registrations-room" and "replicas" not in room["spec"]
    production = by_name(manifests(PRODUCTION), "HorizontalPodAutoscaler")["registrations-room"]
    assert 2 <= production["spec"]["minReplicas"] < production["spec"]["maxReplicas"]
    assert "registrations-room" not in {r["name"] for r in load(PRODUCTION / "kustomization.yaml")[0].get("replicas", [])}


def test_the_ingress_and_the_portal_send_the_rooms_paths_to_the_rooms_pods(base, deployments):
    """The public API's /waiting-rooms to the room's Service; the portal's room calls to it too
    (GUICHET_WAITING_ROOM_URL, services/portal/settings.py), through policies that let both reach its pods."""
    room_labels = deployments["registrations-room"]["spec"]["template"]["metadata"]["labels"]
    routes = {path["path"]: path["backend"]["service"]["name"]
              for ingress in by_name(manifests(PRODUCTION), "Ingress").values()
              for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]}
    assert routes["/waiting-rooms"] == "registrations-room" and routes["/applications"] == "registrations"
    config = by_name(base, "ConfigMap")[CONFIG]["data"]
    assert config["GUICHET_WAITING_ROOM_URL"] == "http://registrations-room.guichet.svc"
    from services.portal.settings import WAITING_ROOM_PATHS, PortalSettings
    settings = PortalSettings.from_env("portal", config)
    assert settings.path_urls("registrations") == {WAITING_ROOM_PATHS: config["GUICHET_WAITING_ROOM_URL"]}
    assert WAITING_ROOM_PATHS.startswith("/waiting-rooms")
    policies = by_name(base, "NetworkPolicy")
    for name in ("allow-public-ingress", "allow-services-from-portal", "allow-metrics-scrape",
                 "allow-identity-provider-egress"):
        assert selects(policies[name]["spec"]["podSelector"], room_labels), name
    (to_services,) = policies["allow-portal-egress"]["spec"]["egress"]
    assert any(selects(peer["podSelector"], room_labels) for peer in to_services["to"])
    room_port = pod(deployments["registrations-room"])["containers"][0]["ports"][0]["containerPort"]
    assert room_port in {port["port"] for port in to_services["ports"]}


def test_the_network_is_denied_by_default_and_opened_only_to_web_pods_and_backing_services(base):
    policies = by_name(base, "NetworkPolicy")
    deny = policies["default-deny"]
    assert deny["spec"]["podSelector"] == {} and set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert all("ingress" not in p["spec"] and "egress" not in p["spec"] for p in [deny])
    egress_ports = {port["port"] for p in policies.values() for rule in p["spec"].get("egress", [])
                    for port in rule.get("ports", [])}
    service_ports = {service.port for service in WEB_SERVICES if service.has_schema}
    smtp = {25, 587, 465}
    # DNS, Kafka, PostgreSQL, Redis; the services' ports for the portal (and the room's edge sidecar's),
    # registrations' port and SMTP for the notifications worker; the OpenID Connect provider over HTTPS; nothing else.
    from deploy.kubernetes.edge import EDGE_PORT

    assert egress_ports == {53, 9093, 5432, 6379, 443} | service_ports | smtp | {EDGE_PORT}
    notifications_worker = {"app.kubernetes.io/name": "notifications", "app.kubernetes.io/component": "worker"}
    portal_web = {"app.kubernetes.io/name": "portal", "app.kubernetes.io/component": "web"}
    for policy in policies.values():
        ports = {port["port"] for rule in policy["spec"].get("egress", []) for port in rule.get("ports", [])}
        selected = policy["spec"]["podSelector"].get("matchLabels")
        if ports & smtp:
            assert selected == notifications_worker, policy["metadata"]["name"]
        if ports & service_ports:
            assert selected in (notifications_worker, portal_web), policy["metadata"]["name"]
            if selected == notifications_worker:
                assert ports & service_ports == {web_service("registrations").port}
    for policy in policies.values():
        if policy["spec"].get("ingress"):
            selector = policy["spec"]["podSelector"]
            expressions = {e["key"]: e["values"] for e in selector.get("matchExpressions", [])}
            assert selector.get("matchLabels", {}).get("app.kubernetes.io/component") == "web" \
                or expressions.get("app.kubernetes.io/component") in (["web"], ["web", WAITING_ROOM]), \
                policy["metadata"]["name"]


def selects(selector: dict, labels: dict) -> bool:
    """Whether a NetworkPolicy's podSelector selects pods with these labels (matchLabels, matchExpressions In)."""
    if not selector.get("matchLabels", {}).items() <= labels.items():
        return False
    for expression in selector.get("matchExpressions", []):
        assert expression["operator"] == "In", expression
        if labels.get(expression["key"]) not in expression["values"]:
            return False
    return True


def https_egress_policies(policies: dict[str, dict]) -> dict[str, dict]:
    return {name: policy for name, policy in policies.items()
            if any(port["port"] == 443 for rule in policy["spec"].get("egress", []) for port in rule.get("ports", []))}


def test_every_pod_that_talks_to_the_provider_may_reach_it_over_https_and_no_other(base, deployments):
    """OIDC_ISSUER reaches every pod (the ConfigMap): a web pod fetches the discovery document and the JWKS from it
    (the portal also signs people in there), a process with client credentials asks it for tokens. Without the
    egress rule the provider is unreachable and every bearer token is refused; other pods get no HTTPS egress."""
    assert by_name(base, "ConfigMap")[CONFIG]["data"]["OIDC_ISSUER"].startswith("https://")
    allowing = https_egress_policies(by_name(base, "NetworkPolicy"))
    for name, deployment in deployments.items():
        labels = deployment["spec"]["template"]["metadata"]["labels"]
        talks_to_provider = component(deployment) in ("web", WAITING_ROOM) or any(
            "OIDC_CLIENT_ID" in env_of(container) for container in all_containers(deployment))
        reaches = any(selects(policy["spec"]["podSelector"], labels) for policy in allowing.values())
        assert reaches == talks_to_provider, name
    job_labels = by_name(base, "Job")["guichet-migrate"]["spec"]["template"]["metadata"]["labels"]
    assert not any(selects(policy["spec"]["podSelector"], job_labels) for policy in allowing.values())


def test_production_narrows_https_egress_to_the_providers_addresses(base):
    """Each base policy that opens 443 to any address is patched in the overlay with an ipBlock."""
    allowing = https_egress_policies(by_name(base, "NetworkPolicy"))
    assert allowing, "the pods must reach the provider at all"
    patches = {name: policy for name, policy in https_egress_policies(by_name(manifests(PRODUCTION),
                                                                               "NetworkPolicy")).items()}
    assert set(patches) == set(allowing)
    for name, patch in patches.items():
        for rule in patch["spec"]["egress"]:
            assert rule["to"] and all("ipBlock" in peer for peer in rule["to"]), name
            assert all(peer["ipBlock"]["cidr"] != "0.0.0.0/0" for peer in rule["to"]), name


# --- production overlay and dependencies ----------------------------------------------------------------------------

def test_production_pins_the_image_and_serves_the_portal_and_only_public_and_parent_api_paths_over_tls():
    kustomization = load(PRODUCTION / "kustomization.yaml")[0]
    image = {i["name"]: i for i in kustomization["images"]}[IMAGE]
    assert image.get("newTag") not in (None, "", "latest") or image.get("digest")
    ingresses = by_name(manifests(PRODUCTION), "Ingress")
    routes: dict[str, dict[str, str]] = {}
    for ingress in ingresses.values():
        hosts = {h for tls in ingress["spec"]["tls"] for h in tls["hosts"]}
        for rule in ingress["spec"]["rules"]:
            assert rule["host"] in hosts, "every host over TLS"
            for path in rule["http"]["paths"]:
                routes.setdefault(rule["host"], {})[path["path"]] = path["backend"]["service"]["name"]
    portal_url = by_name(manifests(PRODUCTION), "ConfigMap")[CONFIG]["data"]["GUICHET_PORTAL_URL"]
    portal_host = portal_url.removeprefix("https://").rstrip("/")
    assert routes.pop(portal_host) == {"/": "portal", "/justificatifs": "portal", "/accueil/justificatifs": "portal",
                                       "/gestion": "portal", "/accueil": "portal"}, (
        "the portal alone on the host its links and redirect URIs name (its documents' upload and its staff pages on "
        "Ingresses of their own)")
    (api_routes,) = routes.values()
    assert api_routes == {"/public": "campaigns", "/applications": "registrations", "/household": "registrations",
                          "/household/documents": "registrations", "/waiting-rooms": "registrations-room",
                          "/explanations": "allocation", "/draws": "allocation"}
    body_limits = {path["path"]: ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-body-size"]
                   for ingress in ingresses.values() for rule in ingress["spec"]["rules"]
                   for path in rule["http"]["paths"]}
    # Only the supporting documents' uploads (5 MB, issue 16: the API's, the portal's forms) pass bodies over 1m.
    assert {path: limit for path, limit in body_limits.items() if limit != "1m"} == {
        "/household/documents": "6m", "/justificatifs": "6m", "/accueil/justificatifs": "6m"}
    admitted = by_name(manifests(BASE), "NetworkPolicy")["allow-public-ingress"]["spec"]["podSelector"]
    names = {e["key"]: e["values"] for e in admitted["matchExpressions"]}["app.kubernetes.io/name"]
    routed_apps = {by_name(manifests(BASE), "Service")[service]["spec"]["selector"]["app.kubernetes.io/name"]
                   for service in api_routes.values()}
    assert routed_apps | {"portal"} <= set(names), "the ingress must reach every routed service"


def test_the_staff_pages_are_reachable_from_the_citys_networks_only():
    """Managers' /gestion and agents' /accueil (every page under them, uploads included) go through Ingresses that
    admit the source ranges the city lists, and no Ingress without that list routes a path under them."""
    staff_prefixes = ("/gestion", "/accueil")
    for name, ingress in by_name(manifests(PRODUCTION), "Ingress").items():
        paths = [path for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]]
        staff = [path for path in paths if path["path"].startswith(staff_prefixes)]
        if not staff:
            continue
        assert len(staff) == len(paths), f"{name}: staff paths on an Ingress of their own"
        ranges = ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/whitelist-source-range"]
        networks = [ipaddress.ip_network(cidr.strip()) for cidr in ranges.split(",")]
        assert networks and all(network.prefixlen > 0 for network in networks), f"{name}: not the whole internet"
    staff_routed = {path["path"] for ingress in by_name(manifests(PRODUCTION), "Ingress").values()
                    for rule in ingress["spec"]["rules"] for path in rule["http"]["paths"]
                    if path["path"].startswith(staff_prefixes)}
    assert {"/gestion", "/accueil", "/accueil/justificatifs"} <= staff_routed


def test_the_kafka_example_keeps_acknowledged_writes_through_a_broker_loss():
    docs = manifests(DEPENDENCIES)
    pool = of_kind(docs, "KafkaNodePool")[0]
    config = of_kind(docs, "Kafka")[0]["spec"]["kafka"]["config"]
    assert pool["spec"]["replicas"] >= 3 and set(pool["spec"]["roles"]) == {"controller", "broker"}
    assert config["default.replication.factor"] == 3 and config["min.insync.replicas"] == 2
    assert config["unclean.leader.election.enable"] is False
    postgres = of_kind(docs, "Cluster")[0]["spec"]
    assert postgres["postgresql"]["synchronous"]["dataDurability"] == "required"
    redis_args = of_kind(docs, "StatefulSet")[0]["spec"]["template"]["spec"]["containers"][0]["args"]
    settings = dict(zip(redis_args[::2], redis_args[1::2]))
    assert settings["--appendonly"] == "yes" and settings["--maxmemory-policy"] == "noeviction"


# --- the schema gate (deploy/kubernetes/release.py) -------------------------------------------------------------

@pytest.fixture(scope="module")
def registrations_scripts():
    from alembic.script import ScriptDirectory

    from shared.config import Settings
    from shared.migrations import alembic_config

    return ScriptDirectory.from_config(alembic_config("registrations", Settings.from_env("test")))


def test_the_gate_waits_for_a_database_never_migrated(registrations_scripts):
    from deploy.kubernetes.release import schema_verdict

    assert not schema_verdict(registrations_scripts, []).ready


def test_the_gate_opens_at_every_head_and_waits_while_one_branch_is_behind(registrations_scripts):
    from deploy.kubernetes.release import schema_verdict

    heads = registrations_scripts.get_heads()
    assert len(heads) > 1, "registrations has independent branches: the gate must handle several heads"
    assert schema_verdict(registrations_scripts, heads).ready
    for missing in heads:
        verdict = schema_verdict(registrations_scripts, [head for head in heads if head != missing])
        assert not verdict.ready and missing in verdict.reason
    # Alembic never stores a revision with its own descendant, but the gate must not trip over it either.
    first = registrations_scripts.get_revision(heads[0]).down_revision
    assert schema_verdict(registrations_scripts, [first if isinstance(first, str) else first[0], *heads]).ready


def test_the_gate_lets_an_older_image_run_on_a_newer_schema_for_a_rollback(registrations_scripts):
    from deploy.kubernetes.release import schema_verdict

    verdict = schema_verdict(registrations_scripts, ["registrations_9999_from_a_newer_release"])
    assert verdict.ready and "ahead" in verdict.reason


# -- Production neighbours (issue 21): Kafka principals and ACLs, PostgreSQL roles, Redis ACL users and TLS --------

def test_kafka_listens_only_with_tls_and_scram_and_refuses_what_no_acl_allows():
    kafka = by_name(manifests(DEPENDENCIES), "Kafka")["guichet-kafka"]["spec"]
    listeners = kafka["kafka"]["listeners"]
    assert [(item["tls"], item.get("authentication", {}).get("type")) for item in listeners] == [(True, "scram-sha-512")]
    assert kafka["kafka"]["authorization"]["type"] == "simple"
    assert "userOperator" in kafka["entityOperator"]
    config = by_name(manifests(BASE), "ConfigMap")[CONFIG]["data"]
    assert config["KAFKA_BOOTSTRAP_SERVERS"].endswith(f":{listeners[0]['port']}")
    assert (config["KAFKA_SECURITY_PROTOCOL"], config["KAFKA_SASL_MECHANISM"]) == ("SASL_SSL", "SCRAM-SHA-512")


def test_the_kafka_users_are_the_table_of_who_may_do_what():
    from deploy.kafka_access import kafka_users

    assert load(DEPENDENCIES / "kafka-users.yaml") == kafka_users()
    assert "kafka-users.yaml" in yaml.safe_load((DEPENDENCIES / "kustomization.yaml").read_text())["resources"]


def test_each_kafka_client_pod_is_its_services_principal_with_its_password_and_the_ca(deployments, base):
    from deploy.kafka_access import MIGRATIONS_PRINCIPAL, principal

    config = by_name(base, "ConfigMap")[CONFIG]["data"]
    pods = {name: (deployment["spec"]["template"]["spec"], principal(service_of(deployment)))
            for name, deployment in deployments.items() if service_of(deployment) != "portal"}
    pods["guichet-migrate"] = (by_name(base, "Job")["guichet-migrate"]["spec"]["template"]["spec"], MIGRATIONS_PRINCIPAL)
    for name, (spec, expected) in pods.items():
        container = spec["containers"][0]
        env = {item["name"]: item.get("value") for item in container.get("env", [])}
        assert env.get("KAFKA_SASL_USERNAME") == expected, name
        mounts = {mount["name"]: mount["mountPath"] for mount in container["volumeMounts"]}
        volumes = {volume["name"]: volume.get("secret", {}).get("secretName") for volume in spec["volumes"]}
        assert config["KAFKA_SASL_PASSWORD_FILE"] == f"{mounts['kafka-user']}/password", name
        assert config["KAFKA_SSL_CAFILE"] == f"{mounts['kafka-ca']}/ca.crt", name
        assert volumes["kafka-user"] == f"kafka-{expected}", name


def test_postgresql_has_one_role_per_service_on_its_own_schema():
    from deploy.database_roles import MIGRATIONS_ROLE, owner_role, roles_sql, service_role

    cluster = by_name(manifests(DEPENDENCIES), "Cluster")["guichet-pg"]["spec"]
    assert cluster["bootstrap"]["initdb"]["postInitApplicationSQL"] == roles_sql("guichet", SERVICES_WITH_SCHEMAS)
    roles = {role["name"]: role for role in cluster["managed"]["roles"]}
    for service in SERVICES_WITH_SCHEMAS:
        assert roles[owner_role(service)]["login"] is False
        assert roles[service_role(service)]["login"] is True and roles[service_role(service)]["passwordSecret"]
    assert roles[MIGRATIONS_ROLE]["login"] is True


def test_redis_takes_tls_and_acl_users_only_and_only_from_guichet():
    docs = manifests(DEPENDENCIES)
    args = by_name(docs, "StatefulSet")["redis"]["spec"]["template"]["spec"]["containers"][0]["args"]
    options = dict(zip(args[::2], args[1::2], strict=True))
    assert options["--port"] == "0" and options["--tls-port"] == "6379"
    assert "--aclfile" in options and "--requirepass" not in options
    policy = by_name(docs, "NetworkPolicy")["redis-from-guichet-only"]["spec"]
    assert policy["policyTypes"] == ["Ingress"]
    assert [peer["namespaceSelector"]["matchLabels"] for rule in policy["ingress"] for peer in rule["from"]] == [
        {"kubernetes.io/metadata.name": "guichet"}]


# -- the Secrets to create (docs/deploy.md#secrets) ---------------------------------------------------------------

DEPLOY_DOC = REPO / "docs" / "deploy.md"


def secrets_section() -> str:
    text = DEPLOY_DOC.read_text()
    start = text.index("\n## Secrets\n")
    return text[start:text.index("\n## ", start + 1)]


def test_every_secret_and_key_the_manifests_read_is_in_the_docs_table(base):
    """What an operator must create before the first apply: each (Secret, key) a pod reads, in one table."""
    section = secrets_section()
    rows = [line for line in section.splitlines() if line.startswith("| `")]
    referenced: set[tuple[str, str]] = set()
    for workload in of_kind(base, "Deployment") + of_kind(base, "Job"):
        for container in all_containers(workload):
            for entry in container.get("env", []):
                reference = entry.get("valueFrom", {}).get("secretKeyRef")
                if reference:
                    referenced.add((reference["name"], reference["key"]))
        for volume in pod(workload).get("volumes", []):
            secret = volume.get("secret")
            if secret:
                keys = [item["key"] for item in secret.get("items", [])] or [None]
                referenced |= {(secret["secretName"], key) for key in keys}
    assert referenced
    for name, key in referenced:
        assert any(f"`{name}`" in row and (key is None or f"`{key}`" in row) for row in rows), (name, key)


def test_the_docs_create_one_redis_user_per_service_that_uses_redis(deployments):
    section = secrets_section()
    services = {service_of(d) for d in deployments.values()
                if any("REDIS_URL" in env_of(c) for c in all_containers(d))}
    assert services == {service.name for service in WEB_SERVICES}
    for service in services:
        assert f"user guichet-{service} on " in section, service
    assert "user default off" in section


def test_each_service_purges_nightly_as_itself_one_at_a_time(base):
    """docs/privacy.md: every `services/<name>/purge.py` is run once a night by its CronJob."""
    purges = {path.parent.name for path in (REPO / "services").glob("*/purge.py")}
    cronjobs = by_name(base, "CronJob")
    assert {f"{name}-purge" for name in purges} == set(cronjobs)
    schedules = set()
    for name in purges:
        cronjob = cronjobs[f"{name}-purge"]
        assert cronjob["spec"]["concurrencyPolicy"] == "Forbid" and cronjob["spec"]["timeZone"] == "Europe/Paris"
        schedules.add(cronjob["spec"]["schedule"])
        spec = cronjob["spec"]["jobTemplate"]["spec"]["template"]["spec"]
        assert spec["restartPolicy"] == "Never" and spec["automountServiceAccountToken"] is False
        assert spec["securityContext"]["runAsNonRoot"] is True
        (container,) = spec["containers"]
        assert container["command"] == ["python", "-m", f"services.{name}.purge"]
        assert container["image"] == IMAGE
        assert env_of(container)["DATABASE_URL"]["valueFrom"]["secretKeyRef"]["key"] == f"{name}-database-url"
        assert "REDIS_URL" not in env_of(container) and "KAFKA_SASL_USERNAME" not in env_of(container)
        for one in spec["initContainers"] + spec["containers"]:
            assert one["securityContext"]["readOnlyRootFilesystem"] is True
            assert one["securityContext"]["capabilities"]["drop"] == ["ALL"]
        assert spec["initContainers"][0]["command"][:5] == ["python", "-m", "deploy.kubernetes.release",
                                                            "wait-for-schema", name]
    assert len(schedules) == len(purges), "staggered: two purges never start together"


def test_the_rooms_pods_shed_at_their_edge_with_the_local_edges_bound_at_their_threads(base, deployments):
    """Issue 15: an nginx sidecar in each room pod passes gunicorn at most its threads' worth of requests and
    answers the rest 503 itself, as `make run`'s edge does (deploy/local/servers/nginx.py); its configuration is the
    one deploy/kubernetes/edge.py writes from the Deployment's sizing (regenerate: `python -m deploy.kubernetes.edge`)."""
    from deploy.kubernetes.edge import CONFIGMAP_NAME, EDGE_PORT, edge_config, room_threads

    room = deployments["registrations-room"]
    web, edge = pod(room)["containers"]
    assert edge["name"] == EDGE and web["name"] == "web"
    config = by_name(base, "ConfigMap")[CONFIGMAP_NAME]["data"]["nginx.conf"]
    assert config == edge_config(room), "stale: run `python -m deploy.kubernetes.edge`"
    web_port = {p["name"]: p["containerPort"] for p in web["ports"]}["http"]
    assert f"limit_conn waiting_room_in_flight {room_threads(room)};" in config
    assert room_threads(room) == 2 * 8
    assert f"server 127.0.0.1:{web_port};" in config and f"listen 0.0.0.0:{EDGE_PORT} " in config
    # behind the ingress: its X-Forwarded-For and X-Request-Start pass unchanged (the pace reads the latter)
    assert "X-Request-Start" not in config and "X-Forwarded-For" not in config
    assert {p["name"]: p["containerPort"] for p in edge["ports"]} == {EDGE: EDGE_PORT}
    mounts = {m["mountPath"]: m["name"] for m in edge["volumeMounts"]}
    volumes = {v["name"]: v for v in pod(room)["volumes"]}
    assert volumes[mounts["/etc/guichet/edge"]]["configMap"]["name"] == CONFIGMAP_NAME
    assert edge["command"][:3] == ["nginx", "-c", "/etc/guichet/edge/nginx.conf"]
    assert re.fullmatch(r"nginx:[0-9.]+-alpine@sha256:[0-9a-f]{64}", edge["image"]), "pinned by digest"
    # the room's Service goes through the edge; probes and Prometheus to gunicorn itself (never refused)
    assert by_name(base, "Service")["registrations-room"]["spec"]["ports"][0]["targetPort"] == EDGE
    assert web["readinessProbe"]["httpGet"]["port"] == "http"
    policies = by_name(base, "NetworkPolicy")
    for name in ("allow-public-ingress", "allow-services-from-portal"):
        assert {"protocol": "TCP", "port": EDGE} in policies[name]["spec"]["ingress"][0]["ports"], name
    (to_services,) = policies["allow-portal-egress"]["spec"]["egress"]
    assert EDGE_PORT in {port["port"] for port in to_services["ports"]}



def test_intakes_pods_shed_submissions_at_their_edge_with_the_local_edges_bound_at_their_threads(base, deployments):
    """Issue 15: an nginx sidecar in each registrations-web pod passes gunicorn at most its threads' worth of
    submissions (`POST /applications`) and answers the rest 503 `intake-saturated` itself, as `make run`'s edge does
    for intake (deploy/local/run.py, edge_route); other requests pass unbounded; documents keep their larger body."""
    from deploy.kubernetes.edge import EDGE_PORT, INTAKE_CONFIGMAP_NAME, edge_config, room_threads

    intake = deployments["registrations-web"]
    web, edge = pod(intake)["containers"]
    assert edge["name"] == EDGE and web["name"] == "web"
    config = by_name(base, "ConfigMap")[INTAKE_CONFIGMAP_NAME]["data"]["nginx.conf"]
    assert config == edge_config(intake), "stale: run `python -m deploy.kubernetes.edge`"
    assert room_threads(intake) == 2 * 16
    assert re.search(r"location = /applications \{\s+limit_conn registrations_in_flight 32;", config)
    assert re.search(r"map \$request_method \$edge_registrations_counted \{\s+POST everyone;\s+default \"\";", config)
    assert config.count("limit_conn registrations_in_flight") == 1, "only submissions are bounded"
    assert re.search(r"location ~ \S+documents\S+ \{\s+client_max_body_size 6m;", config)
    web_port = {p["name"]: p["containerPort"] for p in web["ports"]}["http"]
    assert f"server 127.0.0.1:{web_port};" in config and f"listen 0.0.0.0:{EDGE_PORT} " in config
    assert "X-Request-Start" not in config and "X-Forwarded-For" not in config
    assert {p["name"]: p["containerPort"] for p in edge["ports"]} == {EDGE: EDGE_PORT}
    mounts = {m["mountPath"]: m["name"] for m in edge["volumeMounts"]}
    volumes = {v["name"]: v for v in pod(intake)["volumes"]}
    assert volumes[mounts["/etc/guichet/edge"]]["configMap"]["name"] == INTAKE_CONFIGMAP_NAME
    assert edge == pod(deployments["registrations-room"])["containers"][1], "the room's sidecar, its ConfigMap apart"
    assert by_name(base, "Service")["registrations"]["spec"]["ports"][0]["targetPort"] == EDGE
    assert web["readinessProbe"]["httpGet"]["port"] == "http"
