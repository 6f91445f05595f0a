"""The help sentence shared by the portal's footer and every message, and the calendar file of confirmed places
as another calendar program reads it back."""
from datetime import UTC, date, datetime

import icalendar

from services.portal.settings import PortalSettings
from services.portal.web.places import calendar_of
from services.portal.wording import help_footer
from shared.formatting import CONTACT_FORM_URL, HelpChannel, help_channel


def test_the_footer_and_the_messages_say_the_same_sentence():
    plain = help_channel("fr")
    assert plain == ("Besoin d'aide ? Appelez le 3975 (service gratuit + prix d'un appel), du lundi au vendredi, "
                     f"ou écrivez-nous par le formulaire de contact de la Ville ({CONTACT_FORM_URL}).")
    footer = str(help_footer())
    assert '<a href="tel:3975">3975</a>' in footer
    assert f'<a href="{CONTACT_FORM_URL}">formulaire de contact de la Ville</a>' in footer
    # The same words once the links are taken away.
    without_links = footer.replace('<a href="tel:3975">3975</a>', "3975").replace(
        f'<a href="{CONTACT_FORM_URL}">formulaire de contact de la Ville</a>',
        f"formulaire de contact de la Ville ({CONTACT_FORM_URL})").replace("&#39;", "'")
    assert without_links == plain


def test_the_calendar_has_one_all_day_event_per_place_with_escaped_text_and_paris_days():
    place = ({"application_id": "0b7c2c8e-5d54-4a7e-9d1c-2f0a4c1d2e3f", "child_id": "c1"},
             {"title": "Paris Sport Vacances, printemps; été"},
             {"title": "Escalade — initiation", "site": "Gymnase Jean Dame, 17 rue Léopold Bellan",
              "arrondissement": 2, "starts_on": "2027-03-29", "ends_on": "2027-04-02"})
    body = calendar_of([place], {"c1": "Léa Martin"}, datetime(2027, 3, 1, 9, 30, tzinfo=UTC))
    assert all(len(line) <= 75 for line in body.split(b"\r\n"))  # folded as RFC 5545 requires (octets)
    (event,) = icalendar.Calendar.from_ical(body).walk("VEVENT")
    assert str(event["SUMMARY"]) == "Escalade — initiation — Léa Martin"
    assert str(event["LOCATION"]) == "Gymnase Jean Dame, 17 rue Léopold Bellan"  # the comma survives escaping
    assert "Paris Sport Vacances, printemps; été" in str(event["DESCRIPTION"])
    assert event.decoded("DTSTART") == date(2027, 3, 29) and event.decoded("DTEND") == date(2027, 4, 3)
    assert event.decoded("DTSTAMP") == datetime(2027, 3, 1, 9, 30, tzinfo=UTC)
    assert b"DTSTART;VALUE=DATE:20270329" in body


def test_the_footer_names_the_help_channel_the_city_configured():
    settings = PortalSettings.from_env("portal", environ={"GUICHET_HELP_PHONE": "3939",
                                                         "GUICHET_CONTACT_FORM_URL": "https://www.ville.example/aide"})
    footer = str(help_footer(HelpChannel(settings.help_phone, settings.contact_form_url)))
    assert '<a href="tel:3939">3939</a>' in footer
    assert '<a href="https://www.ville.example/aide">formulaire de contact de la Ville</a>' in footer
    assert "3975" not in footer and CONTACT_FORM_URL not in footer
