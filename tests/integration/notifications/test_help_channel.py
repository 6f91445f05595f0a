"""Every message ends with the city's help channel (the 3975 line, the contact form), worded as the portal's
footer (one source: shared.formatting), by email, in the inbox and on paper, in the family's language."""
from datetime import UTC, datetime, timedelta

from services.portal.wording import help_footer
from shared.formatting import CONTACT_FORM_URL, help_channel
from tests.support.notifications import event, text_of


def decided(application_id: str, account: str, campaign: dict):
    return event("allocation.decided", application_id=application_id, campaign_id=campaign["campaign_id"],
                 family_account=account, outcome="allocated", offer_id=campaign["offers"][0]["offer_id"],
                 offer_expires_at=(datetime.now(UTC) + timedelta(days=3)).isoformat(),
                 explanation_url=f"/applications/{application_id}/explanation")


def test_every_channel_of_every_message_ends_with_the_help_line_and_the_contact_form(notifications):
    french = notifications.household(email="aide.fr@example.org", postal_mail=True)
    english = notifications.household(email="help.en@example.org", language="en")
    campaign = notifications.published_campaign()
    for account in (french, english):
        application_id = notifications.received(account, campaign)
        notifications.apply(decided(application_id, account, campaign))
    notifications.deliver()

    expected = {french: help_channel("fr"), english: help_channel("en")}
    assert "3975" in expected[french] and CONTACT_FORM_URL in expected[french]
    assert expected[english].startswith("Need help? Call 3975")
    for account, address in ((french, "aide.fr@example.org"), (english, "help.en@example.org")):
        inbox = notifications.inbox(account)
        mails = notifications.smtp.to(address)
        assert {m["kind"] for m in inbox} == {"application_received", "place_offered"} and len(mails) == 2
        for body in [m["body"] for m in inbox] + [text_of(mail) for mail in mails]:
            assert body.rstrip().endswith(expected[account]), body
    letters = [letter for letter in notifications.client.get("/notifications/letters", headers=notifications.manager()).json
               if letter["family_account"] == french]  # the French family also reads on paper
    assert len(letters) == 2 and all(letter["body"].rstrip().endswith(expected[french]) for letter in letters)
    # The portal's footer is the same sentence, with the number and the form as links.
    footer = str(help_footer())
    assert 'href="tel:3975"' in footer and f'href="{CONTACT_FORM_URL}"' in footer
    assert footer.startswith("Besoin d&#39;aide ? Appelez le ")
