"""deploy/compose.yaml, read as YAML (no Docker engine here): the whole stack, not just the web services,
checked against the process catalogue (deploy/catalogue.py), and its sign-in against the local realm it imports
(deploy/local/keycloak/guichet-realm.json)."""
import json
from pathlib import Path
from urllib.parse import urlsplit

import yaml

from deploy.catalogue import WEB_SERVICES, WORKERS
from deploy.local.run import DEMO_ACCOUNTS, WAITING_ROOM_GUNICORN_ENV, WAITING_ROOM_PORT
from deploy.local.servers.keycloak import KEYCLOAK_VERSION, REALM_FILE

REPO = Path(__file__).resolve().parents[2]
COMPOSE = REPO / "deploy" / "compose.yaml"
ROOM = "registrations-room"


def compose_services() -> dict[str, dict]:
    return yaml.safe_load(COMPOSE.read_text())["services"]


def test_every_worker_of_the_catalogue_runs_in_a_container_of_its_own():
    services = compose_services()
    for worker in WORKERS:
        assert services[worker.name]["command"] == worker.argv(), worker.name
    running_a_worker = {name for name, service in services.items() if ".worker" in str(service.get("command", ""))}
    assert running_a_worker == {worker.name for worker in WORKERS}, "a worker container the catalogue does not name"


def test_every_web_service_of_the_catalogue_answers_on_its_local_port():
    services = compose_services()
    serving = {service["environment"].get("GUICHET_SERVICE"): service for name, service in services.items()
               if isinstance(service.get("environment"), dict) and "GUICHET_SERVICE" in service["environment"]
               and name != ROOM}
    assert set(serving) == {service.name for service in WEB_SERVICES}
    for service in WEB_SERVICES:
        container = serving[service.name]
        bind_port = container["environment"]["GUICHET_BIND"].rsplit(":", 1)[1]
        assert bind_port == str(service.port), service.name
        assert any(port.endswith(f":{bind_port}:{bind_port}") for port in container["ports"]), service.name
        # The image's command runs services.<GUICHET_SERVICE>.wsgi:app, the catalogue's app.
        assert "command" not in container, f"{service.name}: let the image run {service.app}"


def test_the_waiting_room_runs_on_registrations_containers_of_its_own_as_make_run_starts_it():
    services = compose_services()
    room = services[ROOM]["environment"]
    assert room["GUICHET_SERVICE"] == "registrations" and "command" not in services[ROOM]
    assert room["GUICHET_BIND"] == f"0.0.0.0:{WAITING_ROOM_PORT}"
    assert {name: room[name] for name in WAITING_ROOM_GUNICORN_ENV} == WAITING_ROOM_GUNICORN_ENV
    assert services["portal"]["environment"]["GUICHET_WAITING_ROOM_URL"] == f"http://{ROOM}:{WAITING_ROOM_PORT}"


def test_the_image_runs_the_web_service_that_guichet_service_names():
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    assert 'services.${GUICHET_SERVICE' in dockerfile and '}.wsgi:app' in dockerfile
    exposed = next(line for line in dockerfile.splitlines() if line.startswith("EXPOSE")).split()[1:]
    assert {int(port) for port in exposed} == {service.port for service in WEB_SERVICES}


def realm() -> dict:
    return json.loads(REALM_FILE.read_text())


def realm_client(client_id: str) -> dict:
    return next(client for client in realm()["clients"] if client["clientId"] == client_id)


def guichet_containers() -> dict[str, dict]:
    """Every container running the Guichet image: the web services, the workers and the init job."""
    return {name: service for name, service in compose_services().items() if service.get("image") == "guichet:local"}


def keycloak_issuer() -> str:
    keycloak = compose_services()["keycloak"]
    return f"{keycloak['environment']['KC_HOSTNAME']}/realms/{realm()['realm']}"


def test_keycloak_runs_the_local_version_with_the_repositorys_realm_imported():
    keycloak = compose_services()["keycloak"]
    image, tag = keycloak["image"].rsplit(":", 1)
    assert image == "quay.io/keycloak/keycloak"
    assert tag == KEYCLOAK_VERSION and tag.startswith("26."), "the same Keycloak as `make run`'s"
    assert keycloak["command"][0] == "start-dev" and "--import-realm" in keycloak["command"]
    mounts = {target.removesuffix(":ro"): source for source, target in
              (volume.split(":", 1) for volume in keycloak["volumes"])}
    source = mounts[f"/opt/keycloak/data/import/{REALM_FILE.name}"]
    assert (COMPOSE.parent / source).resolve() == REALM_FILE, "paths in a compose file are relative to it"


def test_the_issuer_is_one_url_for_the_browser_and_for_the_containers():
    """A token's `iss` is what the services check and where they fetch the keys: the browser (through the port
    published on the loopback address) and the containers (through the network alias) must reach Keycloak by the
    same name and port, and KC_HOSTNAME pins the issuer Keycloak writes."""
    keycloak = compose_services()["keycloak"]
    pinned = urlsplit(keycloak["environment"]["KC_HOSTNAME"])
    assert pinned.hostname.endswith(".localhost"), "browsers resolve *.localhost to the loopback address themselves"
    assert pinned.hostname in keycloak["networks"]["default"]["aliases"], "and the containers to Keycloak's"
    assert str(pinned.port) == keycloak["environment"]["KC_HTTP_PORT"]
    assert f"127.0.0.1:{pinned.port}:{pinned.port}" in keycloak["ports"], "the same port inside and out"
    assert realm()["sslRequired"] == "none", "the containers call it over plain HTTP from outside the loopback"


def test_every_guichet_container_trusts_the_keycloak_of_the_compose_file_and_waits_for_it():
    issuer = keycloak_issuer()
    containers = guichet_containers()
    assert set(containers) >= {service.name for service in WEB_SERVICES} | {worker.name for worker in WORKERS}
    for name, container in containers.items():
        assert container["environment"]["OIDC_ISSUER"] == issuer, name
        if name != "init":
            assert container["depends_on"]["keycloak"] == {"condition": "service_healthy"}, name
            # The static key of the provider-less tests: neither its file nor its volume.
            assert not {"JWT_PUBLIC_KEY_FILE", "JWT_PRIVATE_KEY_FILE"} & set(container["environment"]), name
            assert not any(str(volume).startswith("keys:") for volume in container.get("volumes", [])), name


def test_the_portal_signs_in_with_the_realms_portal_client_and_the_development_sign_in_is_gone():
    portal = compose_services()["portal"]["environment"]
    client = realm_client(portal["GUICHET_PORTAL_OIDC_CLIENT_ID"])
    assert client["publicClient"] is False and client["standardFlowEnabled"] is True
    assert portal["GUICHET_PORTAL_OIDC_CLIENT_SECRET"] == client["secret"]
    assert portal["GUICHET_PORTAL_SECRET_KEY"]
    assert "GUICHET_PORTAL_DEV_SIGN_IN" not in COMPOSE.read_text()


def test_only_the_notifications_worker_holds_client_credentials_those_of_the_realms_service_account():
    containers = guichet_containers()
    holding = {name for name, container in containers.items() if "OIDC_CLIENT_ID" in container["environment"]}
    assert holding == {"notifications-worker"}, "only a process calling another service's API"
    worker = containers["notifications-worker"]["environment"]
    client = realm_client(worker["OIDC_CLIENT_ID"])
    assert client["serviceAccountsEnabled"] is True and worker["OIDC_CLIENT_SECRET"] == client["secret"]
    account = next(user for user in realm()["users"] if user.get("serviceAccountClientId") == client["clientId"])
    assert account["realmRoles"] == ["service"]


def test_the_demo_accounts_make_run_prints_are_the_realms_with_the_roles_they_are_said_to_have():
    users = {user["username"]: user for user in realm()["users"]}
    for username, _ in DEMO_ACCOUNTS:
        passwords = [c["value"] for c in users[username]["credentials"] if c["type"] == "password"]
        assert passwords == [username], "make run prints: password = user name"
    roles = {username: set(users[username]["realmRoles"]) for username, _ in DEMO_ACCOUNTS}
    assert "manager" in roles["manager-demo"] and "parent" not in roles["manager-demo"]
    assert roles["parent-demo"] == {"parent"}
    # An employee without the manager role: the portal refuses an account with neither parent nor manager.
    assert roles["agent-demo"] == {"agent"}
