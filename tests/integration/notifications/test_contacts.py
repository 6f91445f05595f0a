"""Contacts come from registrations' household API, as a `service`; anything but an answer about the
household is an error to retry, never "no household"."""
import pytest

from services.notifications.store.contacts import NO_HOUSEHOLD, ContactUnavailable, HouseholdContacts
from tests.support.servers import free_port


def test_a_household_is_read_with_the_platforms_service_token(notifications, households_url, token_for, tmp_path):
    account = notifications.household(email="lecture@example.org", language="en", postal_mail=True)
    token_file = tmp_path / "token"
    token_file.write_text(token_for("service", "notifications") + "\n")
    contacts = HouseholdContacts(households_url, lambda: token_file.read_text().strip())

    contact = contacts.contact_of(account)
    assert (contact.email, contact.language, contact.postal_mail) == ("lecture@example.org", "en", True)
    assert contacts.contact_of("family-never-declared") == NO_HOUSEHOLD


@pytest.mark.parametrize("where, role", [("wrong path", "service"), ("nobody listening", "service"),
                                         ("right place", "parent")])
def test_an_unreachable_or_refusing_registrations_is_unavailable_not_absent(households_url, token_for, where, role):
    url = {"wrong path": f"{households_url}/nope", "nobody listening": f"http://127.0.0.1:{free_port()}",
           "right place": households_url}[where]
    with pytest.raises(ContactUnavailable):
        HouseholdContacts(url, lambda: token_for(role), timeout_seconds=2).contact_of("family-7d2c")
