"""/readyz follows the real dependencies: a private Kafka broker is stopped and started again."""
import pytest

from services.registrations.app import create_app
from services.registrations.settings import RegistrationsSettings
from shared.waiting import WaitTimedOut, wait_until
from tests.support.servers import free_port


def wait_for_status(client, expected: int, timeout: float = 60.0):
    """The first /readyz answer with the `expected` status, or the last one at the time-out: the test's
    own assertions then show what the service said."""
    answers = []

    def answered() -> bool:
        answers.append(client.get("/readyz"))
        return answers[-1].status_code == expected

    try:
        wait_until(answered, timeout=timeout, interval=0.5, what=f"/readyz answering {expected}")
    except WaitTimedOut:
        pass
    return answers[-1]


@pytest.fixture
def private_kafka(servers_dir):
    from deploy.local.servers import KafkaServer

    server = KafkaServer(servers_dir / f"kafka-private-{free_port()}", port=free_port(), controller_port=free_port())
    server.start()
    yield server
    server.stop()


@pytest.mark.slow
def test_readyz_goes_unready_without_kafka_and_recovers(private_kafka, make_settings, redis_client):
    app = create_app(make_settings("registrations", RegistrationsSettings, kafka_bootstrap_servers=private_kafka.bootstrap_servers))
    client = app.test_client()

    ready = wait_for_status(client, 200)
    assert ready.status_code == 200, ready.json
    assert ready.json["checks"]["kafka"]["ready"] is True

    private_kafka.stop()
    unready = wait_for_status(client, 503)
    assert unready.status_code == 503
    assert unready.json["checks"]["kafka"]["ready"] is False
    assert unready.json["checks"]["database"]["ready"] is True

    private_kafka.start()
    back = wait_for_status(client, 200)
    assert back.status_code == 200, back.json


def test_healthz_answers_without_dependencies(make_settings):
    app = create_app(make_settings("registrations", RegistrationsSettings, kafka_bootstrap_servers="127.0.0.1:1",
                                   redis_url="redis://127.0.0.1:1/0"))
    client = app.test_client()
    assert client.get("/healthz").status_code == 200
    unready = client.get("/readyz")
    assert unready.status_code == 503
    assert {name for name, check in unready.json["checks"].items() if not check["ready"]} == {"kafka", "redis"}


def test_registrations_stays_in_its_load_balancer_without_postgresql_and_says_so(make_settings, redis_client):
    """Intake needs Redis and Kafka, not PostgreSQL: a database failover at the opening must not take
    it out of the load balancer. The campaigns service, which needs PostgreSQL for everything, leaves."""
    from services.campaigns.app import create_app as create_campaigns_app
    from services.campaigns.settings import CampaignsSettings

    nowhere = f"postgresql+psycopg://postgres@127.0.0.1:{free_port()}/postgres"
    registrations = create_app(make_settings("registrations", RegistrationsSettings, database_url=nowhere)).test_client()
    degraded = wait_for_status(registrations, 200)
    assert (degraded.status_code, degraded.json["status"]) == (200, "degraded"), degraded.json
    assert [name for name, check in degraded.json["checks"].items() if not check["ready"]] == ["database"]

    campaigns = create_campaigns_app(make_settings("campaigns", CampaignsSettings, database_url=nowhere)).test_client()
    unready = campaigns.get("/readyz")
    assert (unready.status_code, unready.json["status"]) == (503, "unready")
