"""Scoped managers (shared.auth): GUICHET_MANAGER_SCOPES parsed, and a token's roles and groups read as a scope."""
import uuid

import pytest

from shared.auth import CITY_WIDE, NO_CAMPAIGN, ManagerScope, parse_manager_scopes, scope_from_claims

CAMPAIGN = str(uuid.uuid4())
SCOPES = parse_manager_scopes(f"dfpe-psv=kind:sport_vacances, kind:centre_loisirs_mercredi;"
                              f"jury=campaign:{CAMPAIGN};direction=*")


def claims(roles=(), groups=None) -> dict:
    found = {"realm_access": {"roles": list(roles)}}
    if groups is not None:
        found["groups"] = groups
    return found


def test_the_setting_names_kinds_campaigns_and_city_wide_grants():
    assert SCOPES == {"dfpe-psv": ManagerScope(kinds=frozenset({"sport_vacances", "centre_loisirs_mercredi"})),
                      "jury": ManagerScope(campaign_ids=frozenset({CAMPAIGN})), "direction": CITY_WIDE}
    assert parse_manager_scopes("") == {}


@pytest.mark.parametrize("text", ["dfpe-psv", "dfpe-psv=", "=kind:x", "a=kind:", "a=campaign:not-a-uuid", "a=city"])
def test_a_malformed_setting_stops_the_process(text):
    with pytest.raises(ValueError, match="GUICHET_MANAGER_SCOPES"):
        parse_manager_scopes(text)


def test_roles_and_groups_grant_the_union_of_their_scopes():
    scope = scope_from_claims(claims(["manager", "dfpe-psv"], ["/jury"]), SCOPES, "realm_access.roles", "groups")
    assert scope.allows("sport_vacances") and scope.allows("conservatoire_examen", CAMPAIGN)
    assert not scope.allows("conservatoire_examen", uuid.uuid4())


def test_a_manager_matching_no_entry_manages_nothing_and_no_setting_means_city_wide():
    assert scope_from_claims(claims(["manager"]), SCOPES, "realm_access.roles", "groups") == NO_CAMPAIGN
    assert not NO_CAMPAIGN.allows("sport_vacances", CAMPAIGN)
    assert scope_from_claims(claims(["manager"]), {}, "realm_access.roles", "groups") == CITY_WIDE
    assert scope_from_claims(claims(["direction"]), SCOPES, "realm_access.roles", "groups").allows("any_kind")
