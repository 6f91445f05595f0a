"""The Kubernetes manifests (deploy/kubernetes/) hold what docs/deploy.md promises, read as plain YAML files:
no cluster, no kubectl or kustomize needed; a Deployment for every web service and worker of the process
catalogue (deploy/catalogue.py). And the schema gate their initContainers run decides right.
"""
from __future__ import annotations

import ast
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
            assert doc["kind"] != "Secret", f"{path}: Secrets are created by hand (docs/deploy.md#secret)"
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
    for deployment in web_deployments(deployments):
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
    for deployment in web_deployments(deployments):
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
    for deployment in web_deployments(by_name(base, "Deployment")):
        assert "PROMETHEUS_MULTIPROC_DIR" in env_of(pod(deployment)["containers"][0])


def test_every_container_runs_the_guichet_image_with_the_configmap_and_the_secret(base):
    configmaps = by_name(base, "ConfigMap")
    for workload in of_kind(base, "Deployment") + of_kind(base, "Job"):
        for container in all_containers(workload):
            where = (workload["metadata"]["name"], container["name"])
            assert container["image"] == IMAGE, where
            assert {"configMapRef": {"name": CONFIG}} in container["envFrom"], where
            assert CONFIG in configmaps
            env = env_of(container)
            if workload["kind"] == "Deployment" and not web_service(service_of(workload)).has_schema:
                # The portal stores nothing: it holds no database or Redis credentials.
                assert not {"DATABASE_URL", "REDIS_URL"} & set(env), where
                continue
            assert env["DATABASE_URL"]["valueFrom"]["secretKeyRef"] == {"name": SECRET, "key": "DATABASE_URL"}, where
            if container["name"] in ("web", "worker"):
                assert env["REDIS_URL"]["valueFrom"]["secretKeyRef"] == {"name": SECRET, "key": "REDIS_URL"}, where
    for deployment in web_deployments(by_name(base, "Deployment")):
        web = pod(deployment)["containers"][0]
        key_file = configmaps[CONFIG]["data"]["JWT_PUBLIC_KEY_FILE"]
        mount = next(m for m in web["volumeMounts"] if key_file.startswith(m["mountPath"] + "/"))
        volume = next(v for v in pod(deployment)["volumes"] if v["name"] == mount["name"])
        assert volume["secret"]["secretName"] == SECRET
        assert [item["path"] for item in volume["secret"]["items"]] == [Path(key_file).name]


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


def test_the_notifications_worker_reads_its_service_token_from_a_mounted_secret(deployments):
    worker = deployments["notifications-worker"]
    container = pod(worker)["containers"][0]
    token_file = env_of(container)["GUICHET_SERVICE_TOKEN_FILE"]["value"]
    mount = next(m for m in container["volumeMounts"] if token_file.startswith(m["mountPath"] + "/"))
    volume = next(v for v in pod(worker)["volumes"] if v["name"] == mount["name"])
    assert "secretName" in volume["secret"] and "subPath" not in mount, "a subPath mount never sees a renewal"


def test_the_registrations_worker_never_runs_twice(deployments):
    """Its guard keeper rebuilds Redis from the ledger and is not safe with two instances."""
    worker = deployments["registrations-worker"]
    assert worker["spec"]["replicas"] == 1
    assert worker["spec"]["strategy"] == {"type": "Recreate"}
    kustomization = load(PRODUCTION / "kustomization.yaml")[0]
    assert "registrations-worker" not in {r["name"] for r in kustomization.get("replicas", [])}


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


def test_the_network_is_denied_by_default_and_opened_only_to_web_pods_and_backing_services(base):
    policies = by_name(base, "NetworkPolicy")
    deny = policies["default-deny"]
    assert deny["spec"]["podSelector"] == {} and set(deny["spec"]["policyTypes"]) == {"Ingress", "Egress"}
    assert all("ingress" not in p["spec"] and "egress" not in p["spec"] for p in [deny])
    egress_ports = {port["port"] for p in policies.values() for rule in p["spec"].get("egress", [])
                    for port in rule.get("ports", [])}
    service_ports = {service.port for service in WEB_SERVICES if service.has_schema}
    smtp = {25, 587, 465}
    # DNS, Kafka, PostgreSQL, Redis; the services' ports for the portal, registrations' port and SMTP for
    # the notifications worker; nothing else.
    assert egress_ports == {53, 9093, 5432, 6379} | service_ports | smtp
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
                or expressions.get("app.kubernetes.io/component") == ["web"], policy["metadata"]["name"]


# --- production overlay and dependencies ----------------------------------------------------------------------------

def test_production_pins_the_image_and_serves_only_public_and_parent_paths_over_tls():
    kustomization = load(PRODUCTION / "kustomization.yaml")[0]
    image = {i["name"]: i for i in kustomization["images"]}[IMAGE]
    assert image.get("newTag") not in (None, "", "latest") or image.get("digest")
    ingress = by_name(manifests(PRODUCTION), "Ingress")["guichet-public"]
    hosts = {h for tls in ingress["spec"]["tls"] for h in tls["hosts"]}
    routes = {}
    for rule in ingress["spec"]["rules"]:
        assert rule["host"] in hosts
        for path in rule["http"]["paths"]:
            routes[path["path"]] = path["backend"]["service"]["name"]
    assert routes == {"/public": "campaigns", "/applications": "registrations", "/household": "registrations",
                      "/explanations": "allocation", "/draws": "allocation"}
    admitted = by_name(manifests(BASE), "NetworkPolicy")["allow-public-ingress"]["spec"]["podSelector"]
    names = {e["key"]: e["values"] for e in admitted["matchExpressions"]}["app.kubernetes.io/name"]
    assert set(routes.values()) <= set(names), "the network policy must let the ingress reach every routed service"


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
