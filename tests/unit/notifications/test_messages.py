"""Every kind of notification renders in French and English from the contracts' examples, naming the
child, campaign, offer and deadline in Paris time, with the link to the decision's explanation."""
from datetime import UTC, date, datetime

import pytest

from services.notifications.domain.messages import CONTEXTS, LANGUAGES, Facts, MissingFacts, written_language
from services.notifications.settings import NotificationsSettings
from services.notifications.store.templates import render
from shared.events import contract_for
from shared.formatting import HelpChannel, euros, help_channel, long_date, paris_instant

PORTAL = "https://famille.example.org"
CAMPAIGN = contract_for("campaign.published").example
EXAMPLES = {
    "application_received": "application.received", "place_offered": "allocation.decided",
    "offer_reminder": "waitlist.promoted", "waitlisted": "allocation.decided", "rejected": "allocation.decided",
    "offer_expired": "offer.expired", "registration_confirmed": "registration.confirmed",
    "registration_cancelled": "registration.cancelled", "campaign_opened": "campaign.opened",
    "agent_accepted": "offer.accepted", "agent_declined": "offer.declined", "agent_withdrew": "application.withdrawn",
    "agent_applied": "application.received",
    "household_corrected": "household.corrected", "fact_validated": "household.fact_validated",
}
BY_AN_AGENT = {"acted_by_agent": True, "reason": "Appel de la mère au 3975, le 12 mars"}
APPLIED_BY_AN_AGENT = {"acted_by_agent": True, "agent_reason": "Au guichet de la mairie du 11e",
                       "agent_subject": "agent-mairie-11"}
WAITLIST = {"waitlist": [{"offer_id": CAMPAIGN["offers"][0]["offer_id"], "position": 4}]}
# Not an event's consequence: the closing reminder's scheduler writes its data (handlers/reminders.py).
CLOSING = {"campaign_id": CAMPAIGN["campaign_id"], "family_account": "family-1",
           "closes_at": "2026-02-27T23:00:00+00:00", "applied_for": ["Inès Martin"]}
ABOUT_A_CAMPAIGN = {"campaign_opened", "campaign_closing"}
ABOUT_THE_HOUSEHOLD = {"household_corrected", "fact_validated"}  # no child named: the event carries no value


def data_for(kind: str) -> dict:
    if kind == "campaign_closing":
        return CLOSING
    return {**contract_for(EXAMPLES[kind]).example, **(WAITLIST if kind == "waitlisted" else {}),
            **(BY_AN_AGENT if kind.startswith("agent_") else {}),
            **(APPLIED_BY_AN_AGENT if kind == "agent_applied" else {})}


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("kind", sorted(CONTEXTS))
def test_every_kind_renders_in_every_language(kind, language):
    message = render(kind, language, data_for(kind), Facts("Inès Martin", CAMPAIGN), PORTAL)
    assert message.subject and "\n" not in message.subject
    assert message.body.startswith("Bonjour," if language == "fr" else "Hello,")
    if kind not in ABOUT_A_CAMPAIGN | ABOUT_THE_HOUSEHOLD:
        assert "Inès Martin" in message.subject
    if message.link:
        assert message.link in message.body


def test_a_place_offered_names_offer_site_dates_deadline_and_explanation():
    message = render("place_offered", "fr", data_for("place_offered"), Facts("Inès Martin", CAMPAIGN), PORTAL)
    assert "« Escalade — initiation » (Centre sportif Jean Dame, du lundi 2 mars 2026 au vendredi 6 mars 2026)" \
        in message.body
    assert "avant le mardi 3 mars 2026 à 11 h 00 (heure de Paris)" in message.body
    assert message.link == f"{PORTAL}/applications/0b9e6a52-3c1d-4f6e-8a7b-9c0d1e2f3a4b/explanation"


def test_the_closing_reminder_names_the_close_and_the_children_already_applied_for():
    message = render("campaign_closing", "fr", CLOSING, Facts(None, CAMPAIGN), PORTAL)
    assert message.subject == "Les inscriptions ferment bientôt : Paris Sport Vacances — hiver 2026"
    assert "ferment le samedi 28 février 2026 à 00 h 00 (heure de Paris), dans moins de 24 heures" in message.body
    assert "Vous avez déjà déposé une demande pour : Inès Martin." in message.body
    assert f"Déposer une demande : {PORTAL}/campagnes" in message.body
    nothing_yet = render("campaign_closing", "en", {**CLOSING, "applied_for": []}, Facts(None, CAMPAIGN), PORTAL)
    assert "You have not applied to this campaign yet." in nothing_yet.body


@pytest.mark.parametrize("event_type", ["offer.accepted", "offer.declined", "application.withdrawn"])
def test_what_an_agent_did_for_the_family_is_told_with_when_and_why_and_what_the_family_did_is_not(event_type):
    from services.notifications.domain.events import kind_told

    by_the_family = contract_for(event_type).example
    assert kind_told(event_type, by_the_family) is None
    kind = kind_told(event_type, {**by_the_family, **BY_AN_AGENT})
    message = render(kind, "fr", {**by_the_family, **BY_AN_AGENT}, Facts("Inès Martin", CAMPAIGN), PORTAL)
    at = paris_instant(datetime.fromisoformat(by_the_family["at"]), "fr")
    assert f"fait par un agent, le {at}, motif : Appel de la mère au 3975, le 12 mars." in message.body
    assert "par un agent de la Ville" in message.subject and "3975" in message.body


def test_an_application_an_agent_made_is_told_with_when_and_why_instead_of_the_plain_acknowledgement():
    from services.notifications.domain.events import kind_told

    by_the_family = contract_for("application.received").example
    assert kind_told("application.received", by_the_family) == "application_received"
    by_an_agent = {**by_the_family, **APPLIED_BY_AN_AGENT}
    assert kind_told("application.received", by_an_agent) == "agent_applied"
    assert kind_told("application.received", {**by_an_agent, "status": "rejected"}) is None
    message = render("agent_applied", "fr", by_an_agent, Facts("Inès Martin", CAMPAIGN), PORTAL)
    at = paris_instant(datetime.fromisoformat(by_the_family["submitted_at"]), "fr")
    assert message.subject == "Demande déposée pour Inès Martin par un agent de la Ville"
    assert f"fait par un agent, le {at}, motif : Au guichet de la mairie du 11e." in message.body
    assert "1. Escalade — initiation" in message.body and f"{PORTAL}/demandes" in message.body
    assert "agent-mairie-11" not in message.body  # the family is told an agent acted, not which one


def test_waitlist_positions_and_amounts_are_spelled_out():
    waitlisted = render("waitlisted", "en", data_for("waitlisted"), Facts("Inès Martin", CAMPAIGN), PORTAL)
    assert "  - Escalade — initiation: position 4" in waitlisted.body
    confirmed = render("registration_confirmed", "fr", data_for("registration_confirmed"), Facts(), PORTAL)
    assert "Montant : 9,00 € (tranche 3 du quotient familial)" in confirmed.body


@pytest.mark.parametrize("facts", [Facts(None, CAMPAIGN), Facts("Inès Martin", None),
                                   Facts("Inès Martin", {**CAMPAIGN, "offers": []})])
def test_a_decision_without_its_child_campaign_or_offer_waits(facts):
    with pytest.raises(MissingFacts):
        render("place_offered", "fr", data_for("place_offered"), facts, PORTAL)


def test_families_are_written_to_in_french_unless_they_chose_english():
    assert [written_language(code) for code in ("fr", "en", "de", None)] == ["fr", "en", "fr", "fr"]


def test_dates_instants_and_amounts_read_naturally():
    assert long_date(date(2026, 3, 1), "fr") == "dimanche 1er mars 2026"
    assert long_date(date(2026, 3, 1), "en") == "Sunday 1 March 2026"
    assert paris_instant(datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "fr") == "dimanche 29 mars 2026 à 01 h 30"
    assert paris_instant(datetime(2026, 3, 29, 1, 30, tzinfo=UTC), "fr") == "dimanche 29 mars 2026 à 03 h 30"
    assert paris_instant(datetime(2026, 10, 25, 22, 5, tzinfo=UTC), "en") == "Sunday 25 October 2026 at 23:05"
    assert (euros(123456, "fr"), euros(-900, "fr"), euros(900, "en")) == ("1234,56 €", "-9,00 €", "€9.00")


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_message_ends_with_the_help_channel_the_city_configured(language):
    lyon = HelpChannel(phone="04 72 10 30 30", form_url="https://www.lyon.fr/contact")
    settings = NotificationsSettings.from_env("notifications", environ={
        "GUICHET_HELP_PHONE": lyon.phone, "GUICHET_CONTACT_FORM_URL": lyon.form_url})
    assert settings.help_channel == lyon
    for kind in sorted(CONTEXTS):
        body = render(kind, language, data_for(kind), Facts("Inès Martin", CAMPAIGN), PORTAL, lyon).body
        assert body.rstrip().endswith(help_channel(language, lyon)), (kind, body)
        assert "3975" not in body.splitlines()[-1] and "paris.fr" not in body
