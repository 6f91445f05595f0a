"""A notifications service under test: its API, a courier on a clock the test moves, the real SMTP
server it sends to, and registrations over HTTP for the families' contacts."""
from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select

from services.notifications.app import create_app
from services.notifications.handlers.courier import Courier
from services.notifications.handlers.events import handle_event
from services.notifications.settings import NotificationsSettings
from services.notifications.store import tables
from services.notifications.store.contacts import HouseholdContacts, ServiceToken
from services.notifications.store.mailer import SmtpMailer
from services.registrations.domain.household import Child, Household, Language, PostalAddress
from services.registrations.store.household_cache import HouseholdReader
from services.registrations.store.households import load_household, save_household
from shared.events import Event, contract_for, make_event
from tests.support.campaigns import MovableClock
from tests.support.notifications import PORTAL, TEST_RETRY, SmtpRecorder, event
from tests.support.registrations import campaign_snapshot


@dataclass
class NotificationsUnderTest:
    engine: Engine
    client: Any
    clock: MovableClock
    courier: Courier
    smtp: SmtpRecorder
    token_for: Callable[..., str]
    redis: Any

    def apply(self, *events: Event) -> None:
        for each in events:
            handle_event(self.engine, each, self.clock())

    def deliver(self) -> int:
        return self.courier.deliver_due()

    def household(self, email: str | None = "parent@example.org", language: str = "fr",
                  postal_mail: bool = False, postal_address: PostalAddress | None = None) -> str:
        account = f"family-{uuid.uuid4().hex[:8]}"
        with self.engine.begin() as connection:
            save_household(connection, Household(account, email=email, language=Language(language),
                                                 postal_mail=postal_mail, postal_address=postal_address,
                                                 children=(Child(uuid.uuid4(), "Inès", "Martin", date(2016, 5, 14)),)))
        return account

    def correct_email(self, account: str, email: str) -> None:
        """As the parent does in registrations: the household changes, its cached copy with it."""
        with self.engine.begin() as connection:
            saved = save_household(connection, replace(load_household(connection, account, for_update=True),
                                                       email=email))
        HouseholdReader(self.engine, self.redis).write_through(saved)

    def published_campaign(self, **overrides: Any) -> dict[str, Any]:
        published = make_event("campaign.published", source="/tests", subject="tests",
                               data={**campaign_snapshot(), **overrides})
        self.apply(published)
        return published.data

    def received(self, account: str, campaign: dict[str, Any], first_name: str = "Inès") -> str:
        application_id = str(uuid.uuid4())
        self.apply(event("application.received", application_id=application_id, campaign_id=campaign["campaign_id"],
                         family_account=account, choices=[campaign["offers"][0]["offer_id"]],
                         child={**contract_for("application.received").example["child"], "first_name": first_name}))
        return application_id

    def parent(self, account: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_for('parent', account)}"}

    def manager(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token_for('manager', 'agent-1')}"}

    def inbox(self, account: str) -> list[dict[str, Any]]:
        response = self.client.get("/notifications/inbox", headers=self.parent(account))
        assert response.status_code == 200, response.json
        return response.json

    def deliveries(self, channel: str) -> list[Any]:
        with self.engine.connect() as connection:
            return connection.execute(select(tables.deliveries).where(tables.deliveries.c.channel == channel)).all()

    def statuses(self) -> dict[str, str]:
        with self.engine.connect() as connection:
            return {row.kind: row.status for row in connection.execute(select(tables.notifications))}


@pytest.fixture
def notifications(make_settings, smtp, households_url, token_for, redis_client):
    settings = make_settings("notifications", NotificationsSettings)
    clock = MovableClock(datetime.now(UTC))
    app = create_app(settings, clock=clock)
    engine = app.extensions["guichet.runtime"].engine
    courier = Courier(engine, HouseholdContacts(households_url, ServiceToken(settings, None)),
                      SmtpMailer("127.0.0.1", smtp.port, "Guichet <ne-pas-repondre@example.org>"), clock, PORTAL,
                      TEST_RETRY)
    yield NotificationsUnderTest(engine, app.test_client(), clock, courier, smtp, token_for, redis_client)
    app.extensions["guichet.runtime"].close()
