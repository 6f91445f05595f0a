"""Submit → allocate → accept → confirm, through the real broker: the parent gets the email and the
inbox message, the billing preview holds one correct line, and the same events delivered again
change nothing."""
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Callable

import pytest
from sqlalchemy import func, select

from services.billing_preview.consumer import feed_consumer
from services.billing_preview.store import ensure_schema
from services.billing_preview.tables import invoice_lines
from services.notifications.app import create_app
from services.notifications.tables import notifications
from services.notifications.worker import CONSUMED_TOPICS, consumer_group
from shared.events import make_event
from shared.kafka import Producer, group_lag
from shared.runtime import Runtime
from shared.topics import ALLOCATION_EVENTS, REGISTRATION_EVENTS, TopicSpec
from tests.integration.notifications.conftest import PORTAL
from tests.integration.notifications.support import text_of
from tests.integration.registrations.conftest import campaign_snapshot, offer
from tests.support.workers import eventually, running

EMAIL = "famille.durand@example.org"
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
def notifications_worker(make_settings, smtp, households_url, tmp_path):
    """`python -m services.notifications.worker`, configured through its environment as in production."""
    settings = make_settings("notifications")
    env = {**os.environ, "DATABASE_URL": settings.database_url, "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
           "REDIS_URL": settings.redis_url, "KAFKA_TOPIC_PREFIX": settings.kafka_topic_prefix, "LOG_LEVEL": "WARNING",
           "JWT_PUBLIC_KEY_FILE": str(settings.jwt_public_key_file),
           "JWT_PRIVATE_KEY_FILE": str(settings.jwt_private_key_file), "GUICHET_SMTP_HOST": "127.0.0.1",
           "GUICHET_SMTP_PORT": str(smtp.port), "GUICHET_REGISTRATIONS_URL": households_url,
           "GUICHET_PORTAL_URL": PORTAL}
    log = tmp_path / "notifications-worker.log"
    with open(log, "w") as output:  # a file, not a pipe: a full pipe would block the worker's logging
        worker = subprocess.Popen([sys.executable, "-m", "services.notifications.worker"], cwd=REPO, env=env,
                                  stdout=output, stderr=subprocess.STDOUT)
    yield consumer_group(settings)
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)
    assert worker.returncode == 0 and "Traceback" not in log.read_text(), log.read_text()


@pytest.fixture
def billing_preview(make_settings):
    settings = make_settings("billing-preview")
    runtime = Runtime(settings)
    ensure_schema(runtime.engine)
    consumer = feed_consumer(settings, runtime.engine)
    with running([consumer]):
        yield consumer, runtime.engine
    runtime.close()


def publish_as_allocation(settings, topic: TopicSpec, key, event_type: str, data: dict) -> Callable[[], None]:
    """Publish an event as allocation's relay does; returns how to deliver that same event again."""
    event = make_event(event_type, source="/guichet/allocation", subject=f"applications/{data['application_id']}",
                       data=data)

    def send() -> None:
        producer = Producer(settings)
        producer.send_event(topic.name, str(key), event).get(timeout=10)
        producer.close()

    send()
    return send


def notification_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(notifications)).scalar_one()


def emailed(smtp, subject: str):
    """The email with this subject, once the parent has it (the way a parent waits for it)."""
    return eventually(lambda: next((m for m in smtp.to(EMAIL) if m["Subject"] == subject), None),
                      what=f"the email « {subject} »")


def test_a_confirmed_place_reaches_the_parent_and_billing_once(registrations, notifications_worker, billing_preview,
                                                               smtp):
    settings = registrations.settings
    escalade = offer(title="Escalade — initiation")
    campaign = registrations.publish_campaign(campaign_snapshot(offers=[escalade]))
    account, (child,) = registrations.family(email=EMAIL, postal_mail=True)
    submitted = registrations.submit(account, campaign, child)
    assert submitted.status_code == 202
    application_id = submitted.json["application_id"]
    subjects = ["Demande reçue : Enfant0 Durand — Paris Sport Vacances — test",
                "Une place pour Enfant0 Durand : Escalade — initiation",
                "Inscription confirmée : Enfant0 Durand — Escalade — initiation"]
    emailed(smtp, subjects[0])

    decided = publish_as_allocation(settings, ALLOCATION_EVENTS, campaign["campaign_id"], "allocation.decided", {
        "application_id": application_id, "campaign_id": campaign["campaign_id"], "family_account": account,
        "child_id": child, "outcome": "allocated", "offer_id": escalade["offer_id"],
        "offer_expires_at": datetime.now(UTC) + timedelta(hours=72), "waitlist": [], "reasons": [],
        "allocation_run_id": "7f6e5d4c-3b2a-4190-8f7e-6d5c4b3a2918",
        "explanation_url": f"/applications/{application_id}/explanation"})
    place = text_of(emailed(smtp, subjects[1]))
    assert f"{PORTAL}/applications/{application_id}/explanation" in place and "(heure de Paris)" in place
    eventually(lambda: registrations.ledger()[application_id] == "allocated", what="the offer in the ledger")
    accepted = registrations.client.post(f"/applications/{application_id}/accept", headers={
        "Authorization": f"Bearer {registrations.token_for('parent', account)}", "Idempotency-Key": "accept-1"})
    assert accepted.status_code == 200 and accepted.json["status"] == "confirmed"
    confirmed = publish_as_allocation(settings, REGISTRATION_EVENTS, account, "registration.confirmed", {
        "line_id": f"reg-{application_id}", "application_id": application_id, "family_account": account,
        "child_id": child, "child_name": "Enfant0 Durand", "campaign_id": campaign["campaign_id"],
        "campaign_title": campaign["title"], "offer_id": escalade["offer_id"], "offer_title": escalade["title"],
        "period_start": escalade["starts_on"], "period_end": escalade["ends_on"], "quotient_tranche": 10,
        "unit_price_cents": escalade["tariffs_cents"][9], "quantity": 1, "currency": "EUR",
        "confirmed_at": datetime.now(UTC)})
    confirmation = text_of(emailed(smtp, subjects[2]))
    assert "du lundi 2 mars 2026 au vendredi 6 mars 2026" in confirmation and "Montant : 13,00 €" in confirmation
    assert [m["Subject"] for m in smtp.to(EMAIL)] == subjects

    app = create_app(settings)
    parent = {"Authorization": f"Bearer {registrations.token_for('parent', account)}"}

    def inbox() -> list[str]:
        return [message["subject"] for message in app.test_client().get("/notifications/inbox", headers=parent).json]

    assert inbox() == subjects[::-1]

    def invoice_lines_stored() -> list:
        with billing_preview[1].connect() as connection:
            return connection.execute(select(invoice_lines)).all()

    (line,) = eventually(invoice_lines_stored, what="the invoice line")
    assert (line.line_id, line.family_account, line.period_start.isoformat(), line.unit_price_cents,
            line.quantity) == (f"reg-{application_id}", account, "2026-03-02", 1300, 1)

    decided(), confirmed()  # the same events again, as after a producer's retry or a consumer's crash
    groups = [(notifications_worker, topic) for topic in CONSUMED_TOPICS]
    groups.append((billing_preview[0].group_id, REGISTRATION_EVENTS))
    eventually(lambda: all(group_lag(settings, group, topic) == 0 for group, topic in groups),
               what="the redelivered events read")
    # Read means handled: the consumers commit an offset only after its record's transaction committed.
    assert notification_count(app.extensions["guichet.runtime"].engine) == len(subjects)
    assert [m["Subject"] for m in smtp.to(EMAIL)] == subjects
    assert inbox() == subjects[::-1]
    assert len(invoice_lines_stored()) == 1
    app.extensions["guichet.runtime"].close()
