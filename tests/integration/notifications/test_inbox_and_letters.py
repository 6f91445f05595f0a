"""The parent's inbox (list, mark read, nobody else's messages) and the mail room's letter queue."""
import uuid

from services.registrations.domain.household import PostalAddress
from tests.support.notifications import event


def two_messages(notifications, account):
    campaign = notifications.published_campaign()
    application_id = notifications.received(account, campaign)
    notifications.apply(event("allocation.decided", application_id=application_id, family_account=account,
                              campaign_id=campaign["campaign_id"], outcome="rejected", offer_id=None,
                              offer_expires_at=None, reasons=["too_old"],
                              explanation_url=f"/applications/{application_id}/explanation"))
    notifications.deliver()


def test_a_parent_lists_and_marks_read_their_messages_and_cannot_reach_another_familys(notifications):
    account, stranger = notifications.household(), notifications.household()
    two_messages(notifications, account)

    newest, oldest = notifications.inbox(account)
    assert (newest["kind"], oldest["kind"]) == ("rejected", "application_received")
    assert newest["subject"] == "Pas de place pour Inès Martin — Paris Sport Vacances — test"
    read_url = f"/notifications/inbox/{oldest['message_id']}/read"
    assert notifications.client.post(read_url, headers=notifications.parent(stranger)).status_code == 404
    first = notifications.client.post(read_url, headers=notifications.parent(account))
    notifications.clock.advance(hours=1)
    again = notifications.client.post(read_url, headers=notifications.parent(account))
    assert first.status_code == again.status_code == 200 and first.json["read_at"] == again.json["read_at"]

    unread = notifications.client.get("/notifications/inbox?unread=true", headers=notifications.parent(account)).json
    assert [m["message_id"] for m in unread] == [newest["message_id"]]
    assert notifications.inbox(stranger) == []
    unknown = notifications.client.post(f"/notifications/inbox/{uuid.uuid4()}/read",
                                        headers=notifications.parent(account))
    assert unknown.status_code == 404 and unknown.json["code"] == "message-not-found"
    assert notifications.client.get("/notifications/inbox").status_code == 401


def test_letters_wait_for_the_mail_room_in_order_until_printed(notifications):
    on_paper = notifications.household(email=None, postal_mail=True, postal_address=PostalAddress(
        "12 rue Oberkampf", "75011", "Paris", line2="Bâtiment B, 3e étage"))
    two_messages(notifications, on_paper)
    two_messages(notifications, notifications.household(postal_mail=False))

    to_print = notifications.client.get("/notifications/letters", headers=notifications.manager()).json
    assert [letter["family_account"] for letter in to_print] == [on_paper, on_paper]
    # The envelope, from the household through registrations' API when the letter was queued.
    assert to_print[0]["postal_address"] == "12 rue Oberkampf\nBâtiment B, 3e étage\n75011 PARIS"
    assert to_print[0]["subject"].startswith("Demande reçue") and to_print[0]["body"].startswith("Bonjour,")
    assert notifications.client.get("/notifications/letters", headers=notifications.parent(on_paper)).status_code == 403
    printed = notifications.client.post(f"/notifications/letters/{to_print[0]['letter_id']}/printed",
                                        headers=notifications.manager())
    assert printed.status_code == 200 and printed.json["printed_at"]

    remaining = notifications.client.get("/notifications/letters", headers=notifications.manager()).json
    assert [letter["letter_id"] for letter in remaining] == [to_print[1]["letter_id"]]
    done = notifications.client.get("/notifications/letters?printed=true", headers=notifications.manager()).json
    assert [letter["letter_id"] for letter in done] == [to_print[0]["letter_id"]]
    assert len(notifications.smtp.messages) == 2  # the other family's; the family on paper has no address
