"""Issue 20, the rules of a change of choices in plain Python: lottery campaigns only, an application not yet
decided, siblings that are the family's other active applications to the campaign."""
import uuid
from datetime import UTC, date, datetime

import pytest

from services.registrations.domain.applications import CampaignTerms
from services.registrations.domain.choices import ChoicesFixed, check_choices_changeable, sibling_violations


def terms(mode: str) -> CampaignTerms:
    return CampaignTerms(uuid.uuid4(), 1, mode, datetime(2026, 2, 1, tzinfo=UTC), datetime(2026, 2, 27, tzinfo=UTC),
                         date(2026, 3, 2), max_choices=3)


@pytest.mark.parametrize("mode", ["lottery", "priority_lottery"])
def test_a_lottery_application_not_yet_decided_may_change(mode):
    check_choices_changeable(terms(mode), "received")


@pytest.mark.parametrize("status", ["received", "allocated", "waitlisted"])
def test_first_come_choices_never_change(status):
    with pytest.raises(ChoicesFixed) as refused:
        check_choices_changeable(terms("fcfs"), status)
    assert refused.value.code == "choices-fixed-first-come" and "arrival" in str(refused.value)


@pytest.mark.parametrize("status", ["allocated", "waitlisted", "rejected", "confirmed", "withdrawn"])
def test_a_decided_application_keeps_its_choices(status):
    with pytest.raises(ChoicesFixed) as refused:
        check_choices_changeable(terms("lottery"), status)
    assert (refused.value.code, refused.value.status) == ("choices-fixed-decided", status)


def test_siblings_are_the_familys_other_active_applications_named_once():
    me, sister, withdrawn, stranger = (uuid.uuid4() for _ in range(4))
    family = {me: "received", sister: "received", withdrawn: "withdrawn"}
    assert sibling_violations(me, [sister], family) == []
    found = sibling_violations(me, [sister, sister, me, withdrawn, stranger], family)
    assert [(v.field, v.code) for v in found] == [
        ("keep_with_applications.1", "duplicate-sibling"), ("keep_with_applications.2", "sibling-is-itself"),
        ("keep_with_applications.3", "sibling-not-found"), ("keep_with_applications.4", "sibling-not-found")]
