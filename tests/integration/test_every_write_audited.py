"""Every write of every service's API leaves exactly one audit entry (issue 16, item 3; docs/audit.md).

The test reads each service's OpenAPI document, finds every POST, PUT, PATCH and DELETE, and performs each one
with a valid body and the right role's token, on state prepared for it; then it checks that the service's audit
trail holds exactly one entry more, naming the actor (subject and role) and the changed fields before → after.
A write it does not know how to perform fails the test, unless `NOT_AUDITED` lists it with the reason: a new
endpoint without audit cannot land unnoticed. Then one stored entry of each service is altered, and the chain
check names it (`check_service` and the command `python -m shared.audit_check`).
"""
from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, select, text

from shared.audit_check import check_service, tables_of
from shared.waiting import wait_until
from tests.support.agents import ledger_application, new_family
from tests.support.campaigns import BEFORE_OPENING, MovableClock, campaign_body, etag_of, offer_body, paris
from tests.support.documents import PDF
from tests.support.registrations import campaign_snapshot, offer

WRITES = ("post", "put", "patch", "delete")
REASON = "au guichet, à la demande de la famille"
FACTS = {"single_parent": False, "quotient_tranche": 4, "quotient_justified_on": date.today().isoformat(), "arrondissement": 11,
         "postal_mail": False, "email": "parent@example.org", "language": "fr"}

# The writes that leave no entry, and why (docs/audit.md says the same).
NOT_AUDITED = {
    "registrations": {
        ("put", "/waiting-rooms/{campaign_id}/place"):
            "a place in a waiting room lives in Redis only, for the hour of an opening: no PostgreSQL transaction "
            "to write an entry in; the application it leads to is audited",
        ("put", "/agent/families/{family_account}/waiting-rooms/{campaign_id}/place"):
            "the same place in a waiting room, taken by an agent for the family: Redis only",
    },
    "notifications": {
        (method, path): "a parent's own preference or reading of its own inbox (docs/audit.md#notifications)"
        for method, path in (("post", "/notifications/inbox/{message_id}/read"),
                             ("put", "/notifications/subscriptions/{campaign_id}"),
                             ("delete", "/notifications/subscriptions/{campaign_id}"),
                             ("put", "/notifications/closing-reminders/{campaign_id}"),
                             ("delete", "/notifications/closing-reminders/{campaign_id}"))
    },
}


@dataclass
class Performed:
    """A write performed: its answer, who must be named as its actor, and whether a worker writes its entry."""
    response: Any
    actor: tuple[str, str]
    by_worker: bool = False


@dataclass
class Service:
    name: str
    engine: Engine
    client: Any
    token_for: Callable[..., str]
    performers: dict[tuple[str, str], Callable[[], Performed]] = field(default_factory=dict)

    def call(self, method: str, path: str, role: str, subject: str, body: Any = None, **headers: str) -> Any:
        headers = {"Authorization": f"Bearer {self.token_for(role, subject)}", "Idempotency-Key": uuid.uuid4().hex,
                   "X-Request-ID": f"req-{uuid.uuid4().hex[:8]}", **headers}
        return self.client.open(path, method=method.upper(), json=body, headers=headers)

    def write(self, method: str, path: str) -> Callable[[Callable[[], Performed]], Callable[[], Performed]]:
        def register(performer: Callable[[], Performed]) -> Callable[[], Performed]:
            self.performers[(method, path)] = performer
            return performer
        return register


def entries(engine: Engine, schema: str) -> dict[tuple[str, int], dict]:
    audit = tables_of(schema)
    with engine.connect() as connection:
        return {(row["chain"], row["seq"]): dict(row) for row in connection.execute(select(audit.entries)).mappings()}


# --- campaigns ---------------------------------------------------------------------------------------------------

def campaigns_service(make_settings, token_for) -> tuple[Service, Callable[[], None]]:
    from services.campaigns.app import create_app
    from services.campaigns.settings import CampaignsSettings

    clock = MovableClock(paris(BEFORE_OPENING))
    app = create_app(make_settings("campaigns", CampaignsSettings), clock=clock)
    service = Service("campaigns", app.extensions["guichet.runtime"].engine, app.test_client(), token_for)
    manager = ("manager-audit", "manager")

    def as_manager(method: str, path: str, body: Any = None, etag: str | None = None) -> Any:
        return service.call(method, path, "manager", manager[0], body, **({"If-Match": etag} if etag else {}))

    def draft() -> dict:
        clock.set(BEFORE_OPENING)
        created = as_manager("post", "/campaigns", campaign_body())
        assert created.status_code == 201, created.json
        return created.json

    def published() -> dict:
        campaign = draft()
        answer = as_manager("post", f"/campaigns/{campaign['id']}/publish", None, etag_of(campaign))
        assert answer.status_code == 200, answer.json
        return answer.json

    @service.write("post", "/campaigns")
    def create():
        return lambda: Performed(as_manager("post", "/campaigns", campaign_body()), manager)

    @service.write("patch", "/campaigns/{campaign_id}")
    def edit():
        campaign = draft()
        return lambda: Performed(as_manager("patch", f"/campaigns/{campaign['id']}", {"title": "Hiver 2026 (bis)"},
                                            etag_of(campaign)), manager)

    @service.write("post", "/campaigns/{campaign_id}/offers")
    def add_offer():
        campaign = draft()
        return lambda: Performed(as_manager("post", f"/campaigns/{campaign['id']}/offers", offer_body(title="Judo"),
                                            etag_of(campaign)), manager)

    @service.write("patch", "/campaigns/{campaign_id}/offers/{offer_id}")
    def edit_offer():
        campaign = draft()
        path = f"/campaigns/{campaign['id']}/offers/{campaign['offers'][0]['id']}"
        return lambda: Performed(as_manager("patch", path, {"capacity": 30}, etag_of(campaign)), manager)

    @service.write("delete", "/campaigns/{campaign_id}/offers/{offer_id}")
    def remove_offer():
        campaign = draft()
        added = as_manager("post", f"/campaigns/{campaign['id']}/offers", offer_body(title="Judo"), etag_of(campaign))
        path = f"/campaigns/{campaign['id']}/offers/{added.json['offers'][-1]['id']}"
        return lambda: Performed(as_manager("delete", path, None, etag_of(added.json)), manager)

    @service.write("post", "/campaigns/{campaign_id}/publish")
    def publish():
        campaign = draft()
        return lambda: Performed(as_manager("post", f"/campaigns/{campaign['id']}/publish", None, etag_of(campaign)),
                                 manager)

    @service.write("post", "/campaigns/{campaign_id}/extend-close")
    def extend_close():
        campaign = published()
        return lambda: Performed(as_manager("post", f"/campaigns/{campaign['id']}/extend-close",
                                            {"closes_at": "2026-03-01T23:59"}, etag_of(campaign)), manager)

    @service.write("post", "/campaigns/{campaign_id}/close-early")
    def close_early():
        campaign = published()
        clock.set("2026-02-10T12:00")
        return lambda: Performed(as_manager("post", f"/campaigns/{campaign['id']}/close-early", None,
                                            etag_of(campaign)), manager)

    @service.write("post", "/campaigns/{campaign_id}/archive")
    def archive():
        campaign = draft()
        return lambda: Performed(as_manager("post", f"/campaigns/{campaign['id']}/archive"), manager)

    @service.write("post", "/campaigns/{campaign_id}/clone")
    def clone():
        campaign = draft()
        return lambda: Performed(as_manager("post", f"/campaigns/{campaign['id']}/clone", {"shift_days": 364}),
                                 manager)

    return service, lambda: app.extensions["guichet.runtime"].close()


# --- allocation --------------------------------------------------------------------------------------------------

def allocation_service(make_settings, token_for) -> tuple[Service, Callable[[], None]]:
    from services.allocation.app import create_app
    from services.allocation.settings import AllocationSettings
    from tests.support.allocation import Allocation, a_campaign, an_application

    clock = MovableClock(datetime(2026, 2, 10, 9, 0, tzinfo=UTC))
    app = create_app(make_settings("allocation", AllocationSettings), clock=clock)
    engine = app.extensions["guichet.runtime"].engine
    service = Service("allocation", engine, app.test_client(), token_for)
    harness = Allocation(engine, clock)
    alice, bruno = ("manager-alice", "manager"), ("manager-bruno", "manager")

    def closed(four_eyes: bool) -> str:
        campaign = {**a_campaign(), "publication_needs_second_manager": four_eyes}
        harness.publish(campaign)
        harness.open(campaign)
        harness.receive(*[an_application(campaign, arrival=n) for n in range(3)])
        harness.close(campaign)
        return f"/campaigns/{campaign['campaign_id']}/allocation"

    def by(who: tuple[str, str], method: str, path: str) -> Performed:
        return Performed(service.call(method, path, "manager", who[0]), who)

    for step, four_eyes in (("dry-run", True), ("publish", False), ("publication-request", True)):
        def by_alice(step=step, four_eyes=four_eyes):
            path = closed(four_eyes)
            return lambda: by(alice, "post", f"{path}/{step}")
        service.write("post", f"/campaigns/{{campaign_id}}/allocation/{step}")(by_alice)

    @service.write("delete", "/campaigns/{campaign_id}/allocation/publication-request")
    def withdraw_request():
        path = closed(four_eyes=True)
        assert by(alice, "post", f"{path}/publication-request").response.status_code == 201
        return lambda: by(alice, "delete", f"{path}/publication-request")

    @service.write("post", "/campaigns/{campaign_id}/allocation/publication-request/approval")
    def approve():
        path = closed(four_eyes=True)
        assert by(alice, "post", f"{path}/publication-request").response.status_code == 201
        return lambda: by(bruno, "post", f"{path}/publication-request/approval")

    return service, lambda: app.extensions["guichet.runtime"].close()


# --- notifications -----------------------------------------------------------------------------------------------

def notifications_service(make_settings, token_for) -> tuple[Service, Callable[[], None]]:
    from services.notifications.app import create_app
    from services.notifications.settings import NotificationsSettings
    from services.notifications.store.tables import deliveries, notifications

    app = create_app(make_settings("notifications", NotificationsSettings))
    engine = app.extensions["guichet.runtime"].engine
    service = Service("notifications", engine, app.test_client(), token_for)
    mail_room = ("mail-room-1", "manager")

    def notification(status: str, channel: str | None = None) -> tuple[uuid.UUID, uuid.UUID | None]:
        now, notification_id, delivery_id = datetime.now(UTC), uuid.uuid4(), uuid.uuid4()
        account = f"family-{uuid.uuid4().hex[:8]}"
        with engine.begin() as connection:
            connection.execute(notifications.insert().values(
                notification_id=notification_id, dedup_key=uuid.uuid4().hex, family_account=account,
                kind="application_received", data={}, status=status, attempts=5 if status == "failed" else 1,
                next_attempt_at=now, created_at=now, updated_at=now, last_error="550 mailbox unavailable"))
            if channel:
                connection.execute(deliveries.insert().values(
                    delivery_id=delivery_id, notification_id=notification_id, channel=channel, family_account=account,
                    language="fr", subject="Demande reçue", body="…", created_at=now))
        return notification_id, delivery_id if channel else None

    @service.write("post", "/notifications/failures/{notification_id}/retry")
    def retry():
        failed, _ = notification("failed")
        return lambda: Performed(service.call("post", f"/notifications/failures/{failed}/retry", "manager",
                                              mail_room[0]), mail_room)

    @service.write("post", "/notifications/letters/{letter_id}/printed")
    def printed():
        _, letter = notification("delivered", "letter")
        return lambda: Performed(service.call("post", f"/notifications/letters/{letter}/printed", "manager",
                                              mail_room[0]), mail_room)

    return service, lambda: app.extensions["guichet.runtime"].close()


# --- registrations -----------------------------------------------------------------------------------------------

def registrations_service(registrations) -> Service:
    engine = registrations.runtime.engine
    service = Service("registrations", engine, registrations.client, registrations.token_for)
    agent, manager = ("agent-jemmapes-1", "agent"), ("manager-audit", "manager")
    campaign = registrations.publish_campaign(campaign_snapshot(mode="lottery", offers=[offer(), offer(title="Judo")]))
    offer_id, other_offer = (str(each["offer_id"]) for each in campaign["offers"])

    def submission(child) -> dict:
        return {"campaign_id": str(campaign["campaign_id"]), "child_id": str(child), "choices": [offer_id],
                "sworn_statement": True}

    def family(**facts) -> tuple[str, uuid.UUID]:
        return new_family(engine, **facts)

    def as_parent(account: str, method: str, path: str, body: Any = None, **headers: str) -> Performed:
        return Performed(service.call(method, path, "parent", account, body, **headers), (account, "parent"))

    def as_agent(method: str, path: str, body: Any = None, **headers: str) -> Performed:
        return Performed(service.call(method, path, "agent", agent[0], body, **headers), agent)

    def in_ledger(account: str, child) -> str:
        answer = registrations.submit(account, campaign, child)
        assert answer.status_code == 202, answer.json
        application_id = answer.json["application_id"]
        wait_until(lambda: registrations.ledger().get(application_id) == "received", timeout=30, what="in the ledger")
        return application_id

    @service.write("post", "/applications")
    def apply():
        account, child = family()
        return lambda: Performed(registrations.submit(account, campaign, child), (account, "parent"), by_worker=True)

    @service.write("post", "/agent/families/{family_account}/applications")
    def apply_for_family():
        account, child = family()
        return lambda: Performed(as_agent("post", f"/agent/families/{account}/applications",
                                          {**submission(child), "reason": REASON}).response, agent, by_worker=True)

    @service.write("put", "/applications/{application_id}/choices")
    def change_choices():
        account, child = family()
        application_id = in_ledger(account, child)
        return lambda: as_parent(account, "put", f"/applications/{application_id}/choices",
                                 {"choices": [offer_id, other_offer]})

    for answer in ("withdraw", "accept", "decline"):
        def family_answer(answer=answer):
            account, child = family()
            application_id = ledger_application(engine, account, child)
            return lambda: as_parent(account, "post", f"/applications/{application_id}/{answer}")

        def agent_answer(answer=answer):
            account, child = family()
            application_id = ledger_application(engine, account, child)
            return lambda: as_agent("post", f"/agent/families/{account}/applications/{application_id}/{answer}",
                                    {"reason": REASON})
        service.write("post", f"/applications/{{application_id}}/{answer}")(family_answer)
        service.write("post", f"/agent/families/{{family_account}}/applications/{{application_id}}/{answer}")(
            agent_answer)

    @service.write("put", "/household")
    def declare():
        account = f"family-{uuid.uuid4().hex[:8]}"
        return lambda: as_parent(account, "put", "/household", FACTS,
                                 **{"If-Match": "*"})

    @service.write("put", "/agent/families/{family_account}/household")
    def correct():
        account, _ = family(quotient_tranche=3)
        return lambda: as_agent("put", f"/agent/families/{account}/household",
                                {**FACTS, "quotient_tranche": 5, "reason": REASON}, **{"If-Match": "*"})

    @service.write("post", "/household/children")
    def add_child():
        account, _ = family()
        return lambda: as_parent(account, "post", "/household/children",
                                 {"first_name": "Lina", "last_name": "Durand", "birth_date": "2016-04-02"})

    @service.write("patch", "/household/children/{child_id}")
    def change_child():
        account, child = family()
        return lambda: as_parent(account, "patch", f"/household/children/{child}", {"first_name": "Zoé"})

    @service.write("delete", "/household/children/{child_id}")
    def remove_child():
        account, child = family()
        return lambda: as_parent(account, "delete", f"/household/children/{child}")

    @service.write("post", "/household/erasure")
    def erase():
        account, _ = family()
        # The entry names the family by its pseudonym, which the answer gives.
        return lambda: _erased(as_parent(account, "post", "/household/erasure"), "parent")

    @service.write("post", "/households/{family_account}/erasure")
    def erase_for_family():
        account, _ = family()
        return lambda: Performed(service.call("post", f"/households/{account}/erasure", "manager", manager[0]),
                                 manager)

    @service.write("post", "/household/documents")
    def upload():
        account, _ = family()
        return lambda: _uploaded(service, (account, "parent"), "/household/documents?fact=quotient_tranche")

    @service.write("post", "/agent/families/{family_account}/documents")
    def upload_for_family():
        account, _ = family()
        return lambda: _uploaded(service, agent, f"/agent/families/{account}/documents?{AGENT_UPLOAD}")

    @service.write("post", "/agent/families/{family_account}/facts/{fact}/validation")
    def validate():
        account, _ = family(quotient_tranche=3)
        document = _uploaded(service, agent, f"/agent/families/{account}/documents?{AGENT_UPLOAD}"
                             ).response.json["document_id"]
        return lambda: as_agent("post", f"/agent/families/{account}/facts/quotient_tranche/validation",
                                {"value": 3, "effective_from": date.today().isoformat(), "document_id": document,
                                 "reason": REASON})

    @service.write("delete", "/household/documents/{document_id}")
    def delete_document():
        account, _ = family()
        document = _uploaded(service, (account, "parent"), "/household/documents?fact=quotient_tranche"
                             ).response.json["document_id"]
        return lambda: as_parent(account, "delete", f"/household/documents/{document}")

    @service.write("post", "/agent/families/{family_account}/household/children")
    def add_child_for_family():
        account, _ = family()
        return lambda: as_agent("post", f"/agent/families/{account}/household/children",
                                {"first_name": "Lina", "last_name": "Durand", "birth_date": "2016-04-02",
                                 "reason": REASON})

    @service.write("put", "/agent/families/{family_account}/household/children/{child_id}")
    def change_child_for_family():
        account, child = family()
        return lambda: as_agent("put", f"/agent/families/{account}/household/children/{child}",
                                {"first_name": "Zoé", "last_name": "Durand", "birth_date": "2015-06-01",
                                 "reason": REASON}, **{"If-Match": "*"})

    @service.write("post", "/agent/families/{family_account}/household/children/{child_id}/removal")
    def remove_child_for_family():
        account, child = family()
        return lambda: as_agent("post", f"/agent/families/{account}/household/children/{child}/removal",
                                {"reason": REASON})

    return service


AGENT_UPLOAD = "fact=quotient_tranche&reason=justificatif+apport%C3%A9+au+guichet"


def _uploaded(service: Service, who: tuple[str, str], path: str) -> Performed:
    """A supporting document sent as the request's body (a PDF), by `who` (subject, role)."""
    return Performed(service.client.post(path, data=PDF, headers={
        "Authorization": f"Bearer {service.token_for(who[1], who[0])}", "Content-Type": "application/pdf"}), who)


def _erased(performed: Performed, role: str) -> Performed:
    """A family's own erasure is recorded under the pseudonym its kept records carry (nothing of the account)."""
    pseudonym = performed.response.json["pseudonym"] if performed.response.status_code == 200 else "?"
    return Performed(performed.response, (pseudonym, role))


# --- the walk ----------------------------------------------------------------------------------------------------

def written_operations(service: Service) -> set[tuple[str, str]]:
    paths = service.client.get("/openapi.json").json["paths"]
    return {(method, path) for path, operations in paths.items() for method in operations if method in WRITES}


def check_one_entry(service: Service, operation: tuple[str, str], act: Callable[[], Performed]) -> dict:
    """Perform the write; exactly one entry more (and none gone), with its actor and each change before → after."""
    before = entries(service.engine, service.name)
    performed = act()
    answer = performed.response
    assert 200 <= answer.status_code < 300, (operation, answer.status_code, answer.get_data(as_text=True)[:500])
    if performed.by_worker:  # the ledger worker writes the submission's entry, in the ledger's transaction
        wait_until(lambda: len(entries(service.engine, service.name)) > len(before), timeout=30,
                   what=f"the entry of {operation}")
    after = entries(service.engine, service.name)
    new = [after[key] for key in sorted(after.keys() - before.keys())]
    assert len(new) == 1 and before.keys() <= after.keys(), (operation, new)
    (entry,) = new
    assert (entry["actor_subject"], entry["actor_role"]) == performed.actor, (operation, entry)
    assert entry["changes"] and all(set(change) == {"before", "after"} for change in entry["changes"].values()), (
        operation, entry["changes"])
    sent_request_id = answer.request.headers.get("X-Request-ID")
    if performed.by_worker:
        assert entry["request_id"] is None, (operation, entry)
    elif sent_request_id:
        assert entry["request_id"] == sent_request_id, (operation, entry)
    return entry


def tamper(engine: Engine, schema: str, entry: dict) -> None:
    """What someone holding the database's keys could do: the append-only trigger off for one statement."""
    with engine.begin() as connection:
        connection.execute(text(f"ALTER TABLE {schema}.audit_entries DISABLE TRIGGER audit_entries_append_only"))
        connection.execute(text(f"UPDATE {schema}.audit_entries SET changes = '{{}}'::jsonb "
                                "WHERE chain = :chain AND seq = :seq"), {"chain": entry["chain"], "seq": entry["seq"]})
        connection.execute(text(f"ALTER TABLE {schema}.audit_entries ENABLE TRIGGER audit_entries_append_only"))


@pytest.mark.parametrize("name", ["campaigns", "allocation", "notifications", "registrations"])
def test_every_write_of_the_api_leaves_exactly_one_audit_entry(name, request, make_settings, token_for,
                                                              redis_client, database_url):
    if name == "registrations":
        service, close = registrations_service(request.getfixturevalue("registrations")), (lambda: None)
    else:
        service, close = {"campaigns": campaigns_service, "allocation": allocation_service,
                          "notifications": notifications_service}[name](make_settings, token_for)
    try:
        operations, exempt = written_operations(service), NOT_AUDITED.get(name, {})
        unknown = operations - service.performers.keys() - exempt.keys()
        assert not unknown, f"{name}: writes neither performed by this test nor listed in NOT_AUDITED: {unknown}"
        assert service.performers.keys() | exempt.keys() <= operations, "this test names writes the API lacks"
        written = [check_one_entry(service, operation, service.performers[operation]())
                   for operation in sorted(service.performers)]

        # Altering any stored entry breaks its chain, and the check names it (chain and position).
        altered = written[len(written) // 2]
        tamper(service.engine, name, altered)
        broken = [report for report in check_service(database_url, name) if not report.ok]
        assert [(report.chain, report.broken_seq) for report in broken] == [(altered["chain"], altered["seq"])]
        command = subprocess.run([sys.executable, "-m", "shared.audit_check", "--service", name],
                                 env={"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"},
                                 capture_output=True, text=True, timeout=60, check=False)
        assert command.returncode == 1, command.stdout + command.stderr
        assert (f"BROKEN {altered['chain']}: entry {altered['seq']}: its content does not match its hash (altered)"
                in command.stdout)
    finally:
        close()
