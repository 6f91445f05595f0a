"""Scoped managers in notifications (GUICHET_MANAGER_SCOPES, docs/notifications.md): a manager lists, retries and
marks printed only the failed notifications and letters of the campaigns its kinds or ids are granted (403
`out-of-scope` and nothing changed for the others); what is about no campaign known here, and a family's whole
record (export, audit trail), need city-wide rights."""
from __future__ import annotations

import uuid
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from services.notifications.app import create_app
from services.notifications.settings import NotificationsSettings
from services.notifications.store.tables import audit, campaigns, deliveries, notifications
from tests.support.scopes import SCOPES, calls_as


@pytest.fixture
def app(make_settings, redis_client):
    app = create_app(make_settings("notifications", NotificationsSettings, manager_scopes=SCOPES))
    yield app
    app.extensions["guichet.runtime"].close()


@pytest.fixture
def engine(app):
    return app.extensions["guichet.runtime"].engine


@pytest.fixture
def call(app, token_for):
    return calls_as(app, token_for)


def failed_with_letter(engine, kind: str | None) -> tuple[str, str, str]:
    """A failed notification of a family on paper, about a campaign of `kind` (None: about no campaign): its id,
    its letter's id and the family."""
    now, notification_id, letter_id = datetime.now(UTC), uuid.uuid4(), uuid.uuid4()
    account, campaign_id = f"family-{uuid.uuid4().hex[:8]}", uuid.uuid4()
    with engine.begin() as connection:
        if kind is not None:
            connection.execute(campaigns.insert().values(campaign_id=campaign_id, version=1,
                                                         snapshot={"campaign_id": str(campaign_id), "kind": kind}))
        connection.execute(notifications.insert().values(
            notification_id=notification_id, dedup_key=uuid.uuid4().hex, family_account=account,
            kind="application_received", data={"campaign_id": str(campaign_id)} if kind else {}, status="failed",
            attempts=5, next_attempt_at=now, created_at=now, updated_at=now, last_error="550 mailbox unavailable"))
        connection.execute(deliveries.insert().values(
            delivery_id=letter_id, notification_id=notification_id, channel="letter", family_account=account,
            language="fr", subject="Demande reçue", body="…", created_at=now))
    return str(notification_id), str(letter_id), account


def test_a_manager_sees_and_acts_on_its_campaigns_only(call, engine):
    psv = failed_with_letter(engine, "sport_vacances")
    other = failed_with_letter(engine, "conservatoire_examen")
    nowhere = failed_with_letter(engine, None)

    assert [row["notification_id"] for row in call("GET", "/notifications/failures", "psv-team").json] == [psv[0]]
    assert [row["letter_id"] for row in call("GET", "/notifications/letters", "/psv-team").json] == [psv[1]]
    assert {row["notification_id"] for row in call("GET", "/notifications/failures", "direction").json} == {
        psv[0], other[0], nowhere[0]}
    assert call("GET", "/notifications/failures", "no-such-team").json == []

    for notification_id, letter_id, _ in (other, nowhere):
        retry = call("POST", f"/notifications/failures/{notification_id}/retry", "psv-team")
        printed = call("POST", f"/notifications/letters/{letter_id}/printed", "psv-team")
        assert (retry.status_code, retry.json["code"]) == (printed.status_code, printed.json["code"]) == (
            403, "out-of-scope")
    with engine.connect() as connection:  # refused: nothing changed, nothing recorded
        assert connection.execute(select(func.count()).select_from(notifications)
                                  .where(notifications.c.status == "failed")).scalar_one() == 3
        assert connection.execute(select(func.count()).select_from(deliveries)
                                  .where(deliveries.c.printed_at.is_not(None))).scalar_one() == 0
        assert connection.execute(select(func.count()).select_from(audit.entries)).scalar_one() == 0

    assert call("POST", f"/notifications/failures/{psv[0]}/retry", "psv-team").status_code == 200
    assert call("POST", f"/notifications/letters/{psv[1]}/printed", "psv-team").status_code == 200
    assert call("POST", f"/notifications/failures/{nowhere[0]}/retry", "direction").status_code == 200
    assert call("POST", f"/notifications/failures/{uuid.uuid4()}/retry", "psv-team").status_code == 404


def test_a_familys_record_is_for_city_wide_managers_only(call, engine):
    _, _, account = failed_with_letter(engine, "sport_vacances")
    for path in (f"/notifications/families/{account}/export", f"/notifications/families/{account}/audit"):
        refused = call("GET", path, "psv-team")
        assert (refused.status_code, refused.json["code"]) == (403, "out-of-scope"), path
        assert call("GET", path, "direction").status_code == 200
