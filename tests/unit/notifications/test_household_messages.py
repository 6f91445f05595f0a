"""The family's messages for an agent's change of its household and for a validated fact (issue 16): what part was
changed and the motif; which fact, its value in words and the date it applies from."""
import pytest

from services.notifications.domain.events import kind_told
from services.notifications.domain.messages import Facts
from services.notifications.store.templates import render
from shared.events import contract_for

PORTAL = "https://famille.example.org"
CORRECTED = contract_for("household.corrected").example
VALIDATED = contract_for("household.fact_validated").example


def test_both_events_are_told_to_the_family():
    assert kind_told("household.corrected", CORRECTED) == "household_corrected"
    assert kind_told("household.fact_validated", VALIDATED) == "fact_validated"


@pytest.mark.parametrize("change, subject, fields", [
    ("facts", "Votre foyer modifié par un agent de la Ville", "Ce qui a changé : adresse postale, adresse électronique."),
    ("child_added", "Un enfant ajouté à votre foyer par un agent de la Ville", None),
    ("child_changed", "Un enfant de votre foyer modifié par un agent de la Ville", "Ce qui a changé : adresse postale"),
    ("child_removed", "Un enfant retiré de votre foyer par un agent de la Ville", None),
])
def test_a_correction_says_what_part_when_and_why(change, subject, fields):
    data = {**CORRECTED, "change": change, "fields": ["postal_address.city", "postal_address.line1", "email"]}
    message = render("household_corrected", "fr", data, Facts(), PORTAL)
    assert message.subject == subject
    assert "fait par un agent, le vendredi 20 février 2026 à 11 h 00, motif : " + CORRECTED["reason"] in message.body
    assert ("Ce qui a changé" in message.body) == (fields is not None)
    if fields:
        assert fields in message.body
    assert f"{PORTAL}/historique" in message.body


@pytest.mark.parametrize("fact, value, words", [
    ("quotient_tranche", 2, "votre tranche de quotient familial : tranche 2."),
    ("single_parent", True, "votre situation : famille monoparentale."),
    ("single_parent", False, "votre situation : pas famille monoparentale."),
    ("disability_allowance", True, "(AEEH) d'un de vos enfants : perçue."),
])
def test_a_validated_fact_is_named_with_its_value_in_words_and_its_date(fact, value, words):
    message = render("fact_validated", "fr", {**VALIDATED, "fact": fact, "value": value}, Facts(), PORTAL)
    assert words in message.body
    assert "à partir du dimanche 1er mars 2026" in message.body
    english = render("fact_validated", "en", {**VALIDATED, "fact": fact, "value": value}, Facts(), PORTAL)
    assert "from Sunday 1 March 2026" in english.body
