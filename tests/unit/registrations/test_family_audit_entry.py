"""The family's audit entry (store/audit.py `family_change`): an agent's reason rides among the changes as
`reason`, so it must never overwrite a changed field of the same name."""
from datetime import UTC, datetime

import pytest

from services.registrations.store.audit import family_change
from shared.audit import Actor

NOW = datetime(2026, 12, 5, 16, 30, tzinfo=UTC)
AGENT = Actor(subject="agent-7", role="agent", on_behalf_of="fam-1")


def test_an_agents_reason_is_recorded_beside_the_changed_fields_on_the_familys_chain():
    entry = family_change(AGENT, "offer.accept", "application", "app-1", {"status": "offered"},
                          {"status": "confirmed"}, NOW, reason="Accord donné par téléphone")
    assert entry.chain == "family:fam-1"
    assert entry.changes["status"] == {"before": "offered", "after": "confirmed"}
    assert entry.changes["reason"] == {"before": None, "after": "Accord donné par téléphone"}


def test_a_changed_field_named_reason_is_refused_rather_than_hidden_by_the_agents_reason():
    with pytest.raises(ValueError, match="reason"):
        family_change(AGENT, "application.withdraw", "application", "app-1", {"reason": "old"}, {"reason": "new"},
                      NOW, reason="Demande de la famille au guichet")


def test_the_familys_own_change_of_a_field_named_reason_is_kept_as_is():
    entry = family_change(Actor(subject="fam-1", role="parent"), "application.withdraw", "application", "app-1",
                          {"reason": "old"}, {"reason": "new"}, NOW)
    assert entry.changes == {"reason": {"before": "old", "after": "new"}}
