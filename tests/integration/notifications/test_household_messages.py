"""A family is told when a city agent changed its household or validated one of its facts (issue 16): the events
registrations writes with the change (`household.corrected`, `household.fact_validated`), read from its outbox,
become one inbox message and one email each, in French, even when the broker delivers them twice."""
from datetime import date

from sqlalchemy import select

from services.registrations.domain.household import Language
from services.registrations.store.household_cache import HouseholdReader
from services.registrations.store.tables import outbox
from services.registrations.usecases.documents import Documents, Upload
from services.registrations.usecases.fact_validation import FactValidations, ValidationAsked
from services.registrations.usecases.households import HouseholdChanges
from shared.audit import Actor
from shared.events import parse_event
from tests.support.documents import PDF
from tests.support.notifications import PORTAL, text_of

MOTIF = "Attestation CAF présentée au guichet de la mairie du 11e"
EMAIL = "famille.martin@example.org"


def agent_for(account: str) -> Actor:
    return Actor(subject="agent-jemmapes-1", role="agent", on_behalf_of=account)


def written(notifications, event_type: str, account: str):
    """The events registrations wrote for the family, as a consumer reads them off the topic."""
    with notifications.engine.connect() as connection:
        envelopes = connection.execute(select(outbox.c.envelope).order_by(outbox.c.position)).scalars().all()
    return [parse_event(envelope) for envelope in envelopes
            if envelope["type"] == event_type and envelope["data"]["family_account"] == account]


def changes(notifications) -> HouseholdChanges:
    return HouseholdChanges(notifications.engine, HouseholdReader(notifications.engine, notifications.redis),
                            notifications.clock)


def test_an_agents_correction_is_told_once_with_when_what_and_the_motif(notifications):
    account = notifications.household(email=EMAIL)
    household = changes(notifications).correct_for_family(agent_for(account), {
        "single_parent": True, "quotient_tranche": 3, "quotient_justified_on": date(2025, 9, 30),
        "arrondissement": 11, "postal_mail": False, "postal_address": None, "email": EMAIL,
        "language": Language.FR}, MOTIF)
    (corrected,) = written(notifications, "household.corrected", account)

    notifications.apply(corrected)
    notifications.deliver()
    notifications.apply(corrected)  # the broker redelivers it
    notifications.deliver()

    (message,) = notifications.inbox(account)
    assert (message["kind"], message["subject"]) == ("household_corrected",
                                                     "Votre foyer modifié par un agent de la Ville")
    assert "Les informations de votre foyer ont été modifiées pour vous : fait par un agent, le " in message["body"]
    assert f"motif : {MOTIF}." in message["body"]
    assert ("Ce qui a changé : arrondissement de résidence, date du justificatif de quotient, tranche de quotient "
            "familial, famille monoparentale.") in message["body"]
    assert f"{PORTAL}/historique" in message["body"]
    assert "agent-jemmapes-1" not in message["body"]
    (email,) = notifications.smtp.to(EMAIL)
    assert email["Subject"] == message["subject"] and text_of(email) == message["body"]

    # A child removed by the agent is a message of its own, naming what was done.
    changes(notifications).remove_child(account, household.children[0].child_id, actor=agent_for(account),
                                        reason=MOTIF)
    removed = written(notifications, "household.corrected", account)[-1]
    assert removed.data["change"] == "child_removed"
    notifications.apply(removed)
    notifications.deliver()
    newest = notifications.inbox(account)[0]
    assert newest["subject"] == "Un enfant retiré de votre foyer par un agent de la Ville"
    assert "Un enfant a été retiré de votre foyer pour vous : fait par un agent, le " in newest["body"]


def test_a_validated_tranche_is_told_once_with_the_tranche_and_the_date_it_applies(notifications):
    account = notifications.household(email=EMAIL)
    document, _ = Documents(notifications.engine, notifications.clock).upload(
        agent_for(account), account, Upload(PDF, "quotient_tranche"), MOTIF)
    FactValidations(notifications.engine, HouseholdReader(notifications.engine, notifications.redis),
                    notifications.clock).validate(
        agent_for(account), ValidationAsked("quotient_tranche", 2, date(2026, 3, 1), document.document_id), MOTIF)
    (validated,) = written(notifications, "household.fact_validated", account)

    for _ in range(2):  # delivered, then redelivered
        notifications.apply(validated)
        notifications.deliver()

    (message,) = notifications.inbox(account)
    assert (message["kind"], message["subject"]) == ("fact_validated",
                                                     "Votre tranche de quotient familial validée par la Ville")
    assert "votre tranche de quotient familial : tranche 2." in message["body"]
    assert "Elle s'applique à partir du dimanche 1er mars 2026" in message["body"]
    assert f"{PORTAL}/famille" in message["body"]
    assert [mail["Subject"] for mail in notifications.smtp.to(EMAIL)] == [message["subject"]]
