"""Submit → allocate → accept → confirm, through the real broker and the real allocation worker: the
parent gets the email and the inbox message, the billing preview holds one correct line, the same
events delivered again change nothing, and a withdrawal after confirmation credits the line."""
import os
import signal
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import func, select

from examples.billing_preview.consumer import feed_consumer
from examples.billing_preview.invoices import monthly_invoices
from examples.billing_preview.store import ensure_schema, stored_lines
from services.allocation.store.tables import applications as applications_seen_by_allocation
from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings
from services.notifications.store.tables import notifications
from services.notifications.worker import CONSUMED_TOPICS, consumer_group
from shared.kafka import group_lag
from shared.runtime import Runtime
from shared.topics import ALLOCATION_EVENTS, APPLICATION_EVENTS, BILLING_FEED
from tests.support.allocation import ACTIVITY_AHEAD
from tests.support.broker import announce_window, deliver_again, records_on
from tests.support.notifications import PORTAL, text_of
from tests.support.registrations import campaign_snapshot, offer
from tests.support.workers import eventually, running

EMAIL = "famille.durand@example.org"
REPO = Path(__file__).resolve().parents[3]

DAYS = ("lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche")
MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def in_french(day) -> str:
    """How a parent reads a day in a message, written out here rather than taken from the code under test."""
    return f"{DAYS[day.weekday()]} {'1er' if day.day == 1 else day.day} {MONTHS[day.month - 1]} {day.year}"


def worker_env(settings, **extra) -> dict[str, str]:
    """A worker's environment, as in production, pointing at this test's servers."""
    return {**os.environ, **settings.environment(), **extra}


def started_worker(module: str, env: dict[str, str], log: Path) -> subprocess.Popen:
    with open(log, "w") as output:  # a file, not a pipe: a full pipe would block the worker's logging
        return subprocess.Popen([sys.executable, "-m", module], cwd=REPO, env=env, stdout=output,
                                stderr=subprocess.STDOUT)


def stopped(worker: subprocess.Popen, log: Path) -> None:
    worker.send_signal(signal.SIGTERM)
    worker.wait(timeout=30)
    assert worker.returncode == 0 and not tracebacks_of_ours(log.read_text()), log.read_text()


def tracebacks_of_ours(log: str) -> list[str]:
    """The log lines carrying a traceback, kafka-python's own transport noise excepted: its 3.x client sometimes
    logs an AttributeError when a socket it closed is read again, which says nothing about Guichet's code."""
    return [line for line in log.splitlines() if "Traceback" in line and '"name": "kafka.' not in line]


@pytest.fixture
def notifications_worker(make_settings, smtp, households_url, tmp_path):
    """`python -m services.notifications.worker`; yields its consumer group."""
    settings = make_settings("notifications", NotificationsSettings, smtp_host="127.0.0.1", smtp_port=smtp.port,
                             registrations_url=households_url, portal_url=PORTAL)
    log = tmp_path / "notifications-worker.log"
    worker = started_worker("services.notifications.worker", worker_env(settings), log)
    yield consumer_group(settings)
    stopped(worker, log)


@pytest.fixture
def allocation_worker(make_settings, tmp_path):
    """`python -m services.allocation.worker`, drawing as soon as a campaign closes."""
    settings = make_settings("allocation")
    log = tmp_path / "allocation-worker.log"
    worker = started_worker("services.allocation.worker", worker_env(settings, GUICHET_DRAW_DELAY_SECONDS="0"), log)
    yield
    stopped(worker, log)


@pytest.fixture
def billing_preview(make_settings):
    settings = make_settings("billing-preview")
    runtime = Runtime(settings)
    ensure_schema(runtime.engine)
    consumer = feed_consumer(settings, runtime.engine)
    with running([consumer]):
        yield consumer, runtime.engine
    runtime.close()


def notification_count(engine) -> int:
    with engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(notifications)).scalar_one()


def emailed(smtp, subject: str):
    """The email with this subject, once the parent has it (the way a parent waits for it)."""
    return eventually(lambda: next((m for m in smtp.to(EMAIL) if m["Subject"] == subject), None),
                      what=f"the email « {subject} »")


def test_a_confirmed_place_reaches_the_parent_and_billing_once(registrations, allocation_worker, notifications_worker,
                                                               billing_preview, smtp):
    settings = registrations.settings
    escalade = offer(title="Escalade — initiation", starts_on=ACTIVITY_AHEAD)
    campaign = registrations.publish_campaign(campaign_snapshot(offers=[escalade]))
    announce_window(settings, "campaign.opened", campaign["campaign_id"], campaign["opens_at"], campaign["version"])
    account, (child,) = registrations.family(email=EMAIL, postal_mail=True)
    submitted = registrations.submit(account, campaign, child)
    assert submitted.status_code == 202
    application_id = submitted.json["application_id"]
    subjects = ["Demande reçue : Enfant0 Durand — Paris Sport Vacances — test",
                "Une place pour Enfant0 Durand : Escalade — initiation",
                "Inscription confirmée : Enfant0 Durand — Escalade — initiation"]
    emailed(smtp, subjects[0])

    def allocation_has_the_application() -> bool:
        with registrations.runtime.engine.connect() as connection:
            return connection.execute(select(applications_seen_by_allocation.c.application_id).where(
                applications_seen_by_allocation.c.application_id == application_id)).first() is not None

    eventually(allocation_has_the_application, what="the application in allocation's store")
    announce_window(settings, "campaign.closed", campaign["campaign_id"], datetime.now(UTC), campaign["version"])  # the worker draws at once

    place = text_of(emailed(smtp, subjects[1]))
    assert f"{PORTAL}/applications/{application_id}/explanation" in place and "(heure de Paris)" in place
    eventually(lambda: registrations.ledger()[application_id] == "allocated", what="the offer in the ledger")
    parent = {"Authorization": f"Bearer {registrations.token_for('parent', account)}"}
    accepted = registrations.client.post(f"/applications/{application_id}/accept",
                                         headers={**parent, "Idempotency-Key": "accept-1"})
    assert accepted.status_code == 200 and accepted.json["status"] == "confirmed"
    confirmation = text_of(emailed(smtp, subjects[2]))
    # No quotient on file: the highest tranche (10) of the offer's grid, 400 + 9 × 100 cents.
    assert f"du {in_french(ACTIVITY_AHEAD)} au {in_french(escalade['ends_on'])}" in confirmation
    assert "Montant : 13,00 €" in confirmation
    assert [m["Subject"] for m in smtp.to(EMAIL)] == subjects

    app = create_app(settings)

    def inbox() -> list[str]:
        return [message["subject"] for message in app.test_client().get("/notifications/inbox", headers=parent).json]

    assert inbox() == subjects[::-1]

    def lines() -> list:
        with billing_preview[1].connect() as connection:
            return stored_lines(connection, account)

    (line,) = eventually(lines, what="the invoice line")
    assert (line.line_id, line.period_start.isoformat(), line.quotient_tranche, line.unit_price_cents,
            line.quantity, line.currency, line.reverses_line_id) == (
        f"reg-{application_id}", ACTIVITY_AHEAD.isoformat(), 10, 1300, 1, "EUR", None)

    # The same records again, as after a producer's retry or a consumer's crash before its commit.
    decided = records_on(settings, ALLOCATION_EVENTS, "allocation.decided")
    confirmed = records_on(settings, BILLING_FEED, "registration.confirmed")
    received = records_on(settings, APPLICATION_EVENTS, "application.received")
    assert (len(decided), len(confirmed), len(received)) == (1, 1, 1)
    deliver_again(settings, ALLOCATION_EVENTS, decided)
    deliver_again(settings, BILLING_FEED, confirmed)
    deliver_again(settings, APPLICATION_EVENTS, received)
    groups = [(notifications_worker, topic) for topic in CONSUMED_TOPICS]
    groups += [(billing_preview[0].group_id, BILLING_FEED), (f"{settings.kafka_topic_prefix}allocation-applications", APPLICATION_EVENTS)]
    eventually(lambda: all(group_lag(settings, group, topic) == 0 for group, topic in groups),
               what="the redelivered events read")
    # Read means handled: the consumers commit an offset only after its record's transaction committed.
    assert notification_count(app.extensions["guichet.runtime"].engine) == len(subjects)
    assert [m["Subject"] for m in smtp.to(EMAIL)] == subjects
    assert inbox() == subjects[::-1]
    assert len(lines()) == 1
    # Allocation, given its application.received again, confirmed nothing more: one event id, sent by it and by us.
    assert {dict(r.headers)["ce_id"] for r in records_on(settings, BILLING_FEED, "registration.confirmed")} \
        == {dict(confirmed[0].headers)["ce_id"]}

    # The family withdraws after confirmation: billing gets the reversal, the month's invoice nets to zero.
    withdrawn = registrations.client.post(f"/applications/{application_id}/withdraw",
                                          headers={**parent, "Idempotency-Key": "withdraw-1"})
    assert withdrawn.status_code == 200, withdrawn.json
    charge, credit = eventually(lambda: (lambda got: got if len(got) == 2 else None)(lines()),
                                what="the credit line")
    assert (credit.reverses_line_id, credit.unit_price_cents, credit.quantity) == (charge.line_id, 1300, -1)
    (invoice,) = monthly_invoices(lines())
    assert invoice.total_cents == 0
    app.extensions["guichet.runtime"].close()
