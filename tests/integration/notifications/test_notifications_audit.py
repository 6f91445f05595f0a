"""The notifications audit trail against real PostgreSQL (docs/audit.md#notifications): one entry per manager
write (a failed notification retried, a letter printed) in the write's transaction, on the family's chain, with
actor and before → after; none for a repeat or a parent's own change; tampering named by the check; the managers'
read with its filters and CSV; the chain erased with the family and purged after its retention."""
import csv
import io
import subprocess
import sys
import uuid
from datetime import timedelta

import pytest
from sqlalchemy import func, select, text

from services.notifications.purge import NotificationsRetention, purge
from services.notifications.store.tables import audit
from services.registrations.domain.household import PostalAddress
from shared.audit import check_chains
from shared.audit_check import check_service
from tests.support.notifications import TEST_RETRY, event

YEAR = timedelta(days=365)
# Every write the notifications API offers: who makes it, and whether it is audited (docs/audit.md#notifications).
AUDITED_WRITES = {("post", "/notifications/failures/{notification_id}/retry"),
                  ("post", "/notifications/letters/{letter_id}/printed")}
PARENTS_OWN_WRITES = {("post", "/notifications/inbox/{message_id}/read"),
                      ("put", "/notifications/subscriptions/{campaign_id}"),
                      ("delete", "/notifications/subscriptions/{campaign_id}"),
                      ("put", "/notifications/closing-reminders/{campaign_id}"),
                      ("delete", "/notifications/closing-reminders/{campaign_id}")}


def chain_entries(notifications, account: str, *, courier: bool = False) -> list:
    """The family's chain: the managers' entries (and the courier's deliveries, test_courier_audit.py, if asked)."""
    query = select(audit.entries).where(audit.entries.c.chain == f"family:{account}").order_by(audit.entries.c.seq)
    with notifications.engine.connect() as connection:
        return list(connection.execute(query if courier else query.where(audit.entries.c.actor_role != "system"))
                    .mappings())


def entry_count(notifications) -> int:
    """Entries made by anyone but the courier."""
    with notifications.engine.connect() as connection:
        return connection.execute(select(func.count()).select_from(audit.entries)
                                  .where(audit.entries.c.actor_role != "system")).scalar_one()


def manager(notifications, subject: str = "mail-room-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {notifications.token_for('manager', subject)}"}


def failed_notification(notifications) -> tuple[str, str]:
    """A family whose `application_received` email failed after every attempt; its notification id."""
    notifications.smtp.refuse_next(TEST_RETRY.max_attempts)
    account = notifications.household(email="famille@example.org")
    notifications.received(account, notifications.published_campaign())
    for _ in range(TEST_RETRY.max_attempts):
        notifications.deliver()
        notifications.clock.advance(hours=1)
    (failure,) = notifications.client.get("/notifications/failures", headers=manager(notifications)).json
    return account, failure["notification_id"]


def letters_for(notifications) -> tuple[str, list[str]]:
    """A family on paper with two letters to print: one per campaign it applied to."""
    account = notifications.household(email=None, postal_mail=True,
                                      postal_address=PostalAddress("12 rue Oberkampf", "75011", "Paris"))
    for _ in range(2):
        notifications.received(account, notifications.published_campaign())
    notifications.deliver()
    to_print = notifications.client.get("/notifications/letters", headers=manager(notifications)).json
    return account, [letter["letter_id"] for letter in to_print if letter["family_account"] == account]


def print_letter(notifications, letter_id: str, subject: str = "mail-room-1"):
    return notifications.client.post(f"/notifications/letters/{letter_id}/printed",
                                     headers={**manager(notifications, subject), "X-Request-ID": f"req-{letter_id}"})


def audit_of(notifications, account: str, query: str = "", **headers):
    return notifications.client.get(f"/notifications/families/{account}/audit{query}",
                                    headers={**manager(notifications), **headers})


def tamper(notifications, statement: str, **parameters) -> None:
    """What someone with the database's keys could do: the append-only trigger switched off for one statement."""
    with notifications.engine.begin() as connection:
        connection.execute(text("ALTER TABLE notifications.audit_entries DISABLE TRIGGER audit_entries_append_only"))
        connection.execute(text(statement), parameters)
        connection.execute(text("ALTER TABLE notifications.audit_entries ENABLE TRIGGER audit_entries_append_only"))


def database_url(notifications) -> str:
    return notifications.engine.url.render_as_string(hide_password=False)


def test_a_managers_retry_leaves_one_entry_with_its_actor_and_before_after(notifications):
    account, notification_id = failed_notification(notifications)
    retried = notifications.client.post(f"/notifications/failures/{notification_id}/retry",
                                        headers={**manager(notifications), "X-Request-ID": "req-retry-1"})
    assert retried.status_code == 200
    again = notifications.client.post(f"/notifications/failures/{notification_id}/retry",
                                      headers=manager(notifications))
    assert again.status_code == 404  # not failed any more: nothing changed, nothing recorded

    (entry,) = chain_entries(notifications, account)
    assert (entry["actor_subject"], entry["actor_role"], entry["on_behalf_of"]) == ("mail-room-1", "manager", None)
    assert (entry["action"], entry["target_type"], entry["target_id"]) == (
        "notification.retry", "notification", notification_id)
    assert entry["changes"] == {"status": {"before": "failed", "after": "pending"},
                                "attempts": {"before": TEST_RETRY.max_attempts, "after": 0}}
    # After the courier's entries, one per failed attempt.
    assert (entry["seq"], entry["request_id"], entry["occurred_at"]) == (
        TEST_RETRY.max_attempts + 1, "req-retry-1", notifications.clock())


def test_printing_a_letter_leaves_one_entry_and_printing_it_again_none(notifications):
    account, (first, second) = letters_for(notifications)
    assert print_letter(notifications, first).status_code == 200
    printed_at = chain_entries(notifications, account)[0]["changes"]["printed_at"]["after"]
    notifications.clock.advance(hours=1)
    assert print_letter(notifications, first, "mail-room-2").json["printed_at"] is not None
    assert print_letter(notifications, second, "mail-room-2").status_code == 200

    entries = chain_entries(notifications, account)
    assert [(e["seq"], e["actor_subject"], e["action"], e["target_id"]) for e in entries] == [  # after the deliveries
        (3, "mail-room-1", "letter.printed", first), (4, "mail-room-2", "letter.printed", second)]
    assert entries[0]["changes"] == {"printed_at": {"before": None, "after": printed_at}}
    assert entries[1]["previous_hash"] == entries[0]["hash"] and entries[0]["request_id"] == f"req-{first}"
    unknown = print_letter(notifications, str(uuid.uuid4()))
    assert unknown.status_code == 404 and len(chain_entries(notifications, account)) == 2


def test_a_parents_own_changes_are_not_audited(notifications):
    account = notifications.household()
    campaign = notifications.published_campaign()
    notifications.received(account, campaign)
    notifications.deliver()
    (message,) = notifications.inbox(account)
    parent = notifications.parent(account)
    assert notifications.client.post(f"/notifications/inbox/{message['message_id']}/read",
                                     headers=parent).status_code == 200
    assert notifications.client.put(f"/notifications/closing-reminders/{campaign['campaign_id']}",
                                    headers=parent).status_code == 200
    assert notifications.client.delete(f"/notifications/closing-reminders/{campaign['campaign_id']}",
                                       headers=parent).status_code == 204
    assert entry_count(notifications) == 0


def test_every_write_of_the_api_is_audited_or_a_parents_own(notifications):
    """A new write fails here until it is audited or docs/audit.md says why it is not."""
    paths = notifications.client.get("/openapi.json").json["paths"]
    writes = {(method, path) for path, operations in paths.items() for method in operations
              if method in ("post", "put", "patch", "delete")}
    assert writes == AUDITED_WRITES | PARENTS_OWN_WRITES


def test_the_check_names_an_altered_entry_of_notifications(notifications):
    account, (first, second) = letters_for(notifications)
    print_letter(notifications, first)
    print_letter(notifications, second)
    chain = f"family:{account}"
    assert [report.describe() for report in check_service(database_url(notifications), "notifications")] == [
        f"OK {chain}: 4 entries"]  # two letters delivered by the courier, two printed

    tamper(notifications, "UPDATE notifications.audit_entries SET actor_subject = 'quelqu-un' "
                          "WHERE chain = :chain AND seq = 1", chain=chain)
    (report,) = check_service(database_url(notifications), "notifications")
    assert (report.ok, report.broken_seq) == (False, 1)
    command = subprocess.run([sys.executable, "-m", "shared.audit_check", "--service", "notifications"],
                             env={"DATABASE_URL": database_url(notifications), "PATH": "/usr/bin:/bin"},
                             capture_output=True, text=True, timeout=60, check=False)
    assert command.returncode == 1, command.stdout + command.stderr
    assert f"BROKEN {chain}: entry 1: its content does not match its hash (altered)" in command.stdout


def test_stored_entries_refuse_update_and_delete(notifications):
    account, (first, _) = letters_for(notifications)
    print_letter(notifications, first)
    for statement in ("UPDATE notifications.audit_entries SET action = 'x'",
                      "DELETE FROM notifications.audit_entries"):
        with pytest.raises(Exception, match="append-only"), notifications.engine.begin() as connection:
            connection.execute(text(statement))
    assert len(chain_entries(notifications, account)) == 1


def test_managers_read_a_familys_trail_filtered_by_time_and_actor(notifications):
    account, (first, second) = letters_for(notifications)
    other_family, (other_letter, _) = letters_for(notifications)
    print_letter(notifications, first)
    print_letter(notifications, other_letter)
    notifications.clock.advance(hours=2)
    middle = notifications.clock() - timedelta(hours=1)
    print_letter(notifications, second, "mail-room-2")

    everything = audit_of(notifications, account)
    assert everything.status_code == 200
    courier = {"subject": "system:courier", "role": "system"}
    assert [(e["seq"], e["actor"], e["target"]["id"]) for e in everything.json][2:] == [
        (3, {"subject": "mail-room-1", "role": "manager"}, first), (4, {"subject": "mail-room-2", "role": "manager"},
                                                                    second)]
    assert [e["actor"] for e in everything.json][:2] == [courier, courier]  # the two letters delivered
    assert {e["chain"] for e in everything.json} == {f"family:{account}"}  # never the other family's entry
    assert [e["seq"] for e in audit_of(notifications, account, "?actor=mail-room-2").json] == [4]
    since = middle.isoformat().replace("+", "%2B")
    assert [e["seq"] for e in audit_of(notifications, account, f"?since={since}").json] == [4]
    assert [e["seq"] for e in audit_of(notifications, account, f"?until={since}").json] == [1, 2, 3]
    assert audit_of(notifications, "family-nobody-acted-for").json == []
    hostile = audit_of(notifications, "family%00nul")  # PostgreSQL text cannot hold a NUL: no family's account
    assert hostile.status_code == 200 and hostile.json == []


def test_managers_export_the_trail_as_csv_and_parents_cannot_read_it(notifications):
    account, (first, second) = letters_for(notifications)
    print_letter(notifications, first)
    print_letter(notifications, second)
    for answer in (audit_of(notifications, account, Accept="text/csv"), audit_of(notifications, account, "?format=csv")):
        assert answer.status_code == 200 and answer.mimetype == "text/csv"
        rows = list(csv.DictReader(io.StringIO(answer.get_data(as_text=True))))
        assert [(row["seq"], row["action"], row["target_id"]) for row in rows][2:] == [
            ("3", "letter.printed", first), ("4", "letter.printed", second)]
        assert rows[2]["actor_subject"] == "mail-room-1" and '"before":null' in rows[2]["changes"]
    backwards = audit_of(notifications, account, "?since=2026-02-01T00:00:00Z&until=2026-01-01T00:00:00Z")
    assert backwards.status_code == 422 and "until" in str(backwards.json)
    as_parent = notifications.client.get(f"/notifications/families/{account}/audit",
                                         headers=notifications.parent(account))
    assert as_parent.status_code == 403
    assert notifications.client.get(f"/notifications/families/{account}/audit").status_code == 401


def test_the_chain_goes_with_the_familys_erasure(notifications):
    account, (first, _) = letters_for(notifications)
    kept, (kept_letter, _) = letters_for(notifications)
    print_letter(notifications, first)
    print_letter(notifications, kept_letter)
    notifications.apply(event("family.erased", family_account=account))
    assert chain_entries(notifications, account) == [] and len(chain_entries(notifications, kept)) == 1
    with notifications.engine.connect() as connection:
        assert [report.chain for report in check_chains(connection, audit)] == [f"family:{kept}"]


def test_the_purge_deletes_whole_chains_idle_past_their_retention(notifications):
    idle, (idle_letter, idle_second) = letters_for(notifications)
    active, (active_letter, active_second) = letters_for(notifications)
    print_letter(notifications, idle_letter)
    print_letter(notifications, active_letter)
    notifications.clock.advance(days=3 * 365)
    print_letter(notifications, active_second)  # this family's chain was used since: kept whole
    notifications.clock.advance(days=2 * 365 + 1)
    retention = NotificationsRetention(messages=10 * YEAR, applications=10 * YEAR, inbox=timedelta(days=60),
                                       audit=5 * YEAR)

    assert purge(notifications.engine, notifications.clock(), retention)["audit"] == 3  # 2 deliveries, 1 print
    assert chain_entries(notifications, idle) == []
    assert [e["target_id"] for e in chain_entries(notifications, active)] == [active_letter, active_second]
    assert purge(notifications.engine, notifications.clock(), retention)["audit"] == 0
    assert all(report.ok for report in check_service(database_url(notifications), "notifications"))
