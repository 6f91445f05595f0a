"""The campaign and offer forms of the managers' pages, to and from the campaigns API's JSON.

Only what a browser form cannot say is checked here (a number that is not one, a price in euros);
every business rule is the campaigns service's, whose French messages are shown next to the field.
"""
from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

CRITERIA_ORDER = ("single_parent", "quotient_tranche_at_most", "disability_allowance", "sibling_placed",
                  "resident_of_offer_arrondissement", "not_placed_previous_campaign")
TRANCHES = range(1, 11)


class FormErrors(Exception):
    def __init__(self, errors: dict[str, str]):
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))
        self.errors = errors


def _integer(form: Mapping[str, str], name: str, errors: dict[str, str], optional: bool = False) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw and optional:
        return None
    try:
        return int(raw)
    except ValueError:
        errors[name] = "Indiquez un nombre entier."
        return None


def _cents(raw: str) -> int | None:
    try:
        amount = Decimal(raw.strip().replace(",", ".").replace("€", "").strip())
    except InvalidOperation:
        return None
    cents = amount * 100
    return int(cents) if cents == cents.to_integral_value() and cents >= 0 else None


def _share(form: Mapping[str, str], name: str, errors: dict[str, str]) -> float | None:
    """A reserved share typed as a percentage (20 or 12,5): the API's fraction (0.2), None when left empty."""
    raw = (form.get(name) or "").strip().replace(",", ".").replace("%", "").strip()
    if not raw:
        return None
    try:
        percent = Decimal(raw)
    except InvalidOperation:
        errors[name] = "Un pourcentage, par exemple 20."
        return None
    if not 0 < percent <= 100:
        errors[name] = "Un pourcentage de plus de 0 et d'au plus 100."
        return None
    return float(percent / 100)


def reserved_shares(form: Mapping[str, str], errors: dict[str, str]) -> list[dict[str, Any]]:
    """One share per criterion whose percentage is filled in, in the criteria's order."""
    shares = []
    for name in CRITERIA_ORDER:
        share = _share(form, f"reserved_{name}", errors)
        if share is None:
            continue
        criterion: dict[str, Any] = {"name": name}
        if name == "quotient_tranche_at_most":
            criterion["max_tranche"] = _integer(form, "reserved_max_tranche", errors)
        shares.append({"criterion": criterion, "share": share})
    return shares


def campaign_fields(form: Mapping[str, str], errors: dict[str, str]) -> dict[str, Any]:
    criteria = []
    for name in CRITERIA_ORDER:
        if form.get(f"criterion_{name}") == "oui":
            criterion = {"name": name}
            if name == "quotient_tranche_at_most":
                criterion["max_tranche"] = _integer(form, "max_tranche", errors)
            criteria.append(criterion)
    return {
        "title": form.get("title", "").strip(),
        "kind": form.get("kind", ""),
        "description": form.get("description", "").strip(),
        "opens_at": form.get("opens_at", ""),
        "closes_at": form.get("closes_at", ""),
        "reference_date": form.get("reference_date", ""),
        "max_choices": _integer(form, "max_choices", errors),
        "policy": {
            "mode": form.get("mode", ""),
            "criteria": criteria,
            "reserved_shares": reserved_shares(form, errors),
            "lottery_weight_per_unsuccessful_year": _integer(form, "lottery_weight", errors, optional=True) or 0,
            "keep_siblings_together": form.get("keep_siblings_together") == "oui",
            "requires_validated_facts": form.get("requires_validated_facts") == "oui",
            "acceptance_delay_hours": _integer(form, "acceptance_delay_hours", errors),
            **_present(acceptance_margin_hours=_integer(form, "acceptance_margin_hours", errors, optional=True)),
        },
        # Empty means the rule's default, said next to each field: null is what the API takes for it.
        "waitlist_closes_at": (form.get("waitlist_closes_at") or "").strip() or None,
        "free_withdrawal_until": (form.get("free_withdrawal_until") or "").strip() or None,
        "late_withdrawal_fee_cents": _optional_cents(form, "late_withdrawal_fee", errors),
    }


def _present(**values: Any) -> dict[str, Any]:
    """Only the values given: a field left empty leaves the API's default (or, on an edit, the current value)."""
    return {name: value for name, value in values.items() if value is not None}


def _optional_cents(form: Mapping[str, str], name: str, errors: dict[str, str]) -> int | None:
    raw = (form.get(name) or "").strip()
    if not raw:
        return None
    cents = _cents(raw)
    if cents is None:
        errors[name] = "Un montant en euros, par exemple 3,00 ; vide : rien n'est crédité."
    return cents


def offer_fields(form: Mapping[str, str], errors: dict[str, str], prefix: str = "offer_") -> dict[str, Any]:
    tariffs = []
    for tranche in TRANCHES:
        name = f"{prefix}tariff_{tranche}"
        cents = _cents(form.get(name) or "")
        if cents is None:
            errors[name] = "Un prix en euros, par exemple 12,50."
        tariffs.append(cents)
    return {
        "title": form.get(f"{prefix}title", "").strip(),
        "site": form.get(f"{prefix}site", "").strip(),
        "arrondissement": _integer(form, f"{prefix}arrondissement", errors),
        "starts_on": form.get(f"{prefix}starts_on", ""),
        "ends_on": form.get(f"{prefix}ends_on", ""),
        "min_age": _integer(form, f"{prefix}min_age", errors),
        "max_age": _integer(form, f"{prefix}max_age", errors),
        "capacity": _integer(form, f"{prefix}capacity", errors),
        "waitlist_limit": _integer(form, f"{prefix}waitlist_limit", errors, optional=True),
        "tariffs_cents": tariffs,
    }


def api_errors_to_form(errors: Mapping[str, str], offer_form: bool = False, prefix: str = "offer_") -> dict[str, str]:
    """The campaigns service names fields by their JSON path (offers.0.tariffs_cents.3, policy.criteria.0):
    give each message to the form field that holds the value."""
    found: dict[str, str] = {}
    for path, message in errors.items():
        parts = path.split(".")
        if parts[0] == "offers" and len(parts) >= 3:
            parts, offer_form_field = parts[2:], True
        else:
            offer_form_field = offer_form
        if offer_form_field and parts[0] == "tariffs_cents":
            name = f"{prefix}tariff_{int(parts[1]) + 1 if len(parts) > 1 and parts[1].isdigit() else 1}"
        elif offer_form_field:
            name = prefix + parts[0]
        else:
            if parts[0] == "policy" and len(parts) > 1:
                parts = parts[1:]
            if parts[0] == "reserved_shares":
                name = "reserved_shares"  # shown above the shares' fields (indices follow the filled-in rows)
            else:
                name = {"lottery_weight_per_unsuccessful_year": "lottery_weight",
                        "late_withdrawal_fee_cents": "late_withdrawal_fee"}.get(parts[0], parts[0])
        found.setdefault(name, message)
    return found


OFFER_KEYS = {"site", "arrondissement", "starts_on", "ends_on", "min_age", "max_age", "capacity", "waitlist_limit",
              "tariffs_cents"}


def campaign_to_form(campaign: Mapping[str, Any]) -> dict[str, Any]:
    """The campaign as the edit form shows it: Paris wall-clock instants, prices in euros."""
    policy = campaign["policy"]
    values: dict[str, Any] = {
        "title": campaign["title"], "kind": campaign["kind"], "description": campaign.get("description", ""),
        "opens_at": campaign["opens_at"][:19], "closes_at": campaign["closes_at"][:19],
        "reference_date": campaign["reference_date"], "max_choices": campaign["max_choices"],
        "mode": policy["mode"], "lottery_weight": policy.get("lottery_weight_per_unsuccessful_year", 0),
        "keep_siblings_together": policy.get("keep_siblings_together"),
        "requires_validated_facts": policy.get("requires_validated_facts", False),
        "acceptance_delay_hours": policy.get("acceptance_delay_hours", 72),
        "acceptance_margin_hours": policy.get("acceptance_margin_hours", 24),
        "waitlist_closes_at": (campaign.get("waitlist_closes_at") or "")[:19],
        "free_withdrawal_until": (campaign.get("free_withdrawal_until") or "")[:19],
        "late_withdrawal_fee": _euros(campaign.get("late_withdrawal_fee_cents")),
    }
    for criterion in policy.get("criteria") or []:
        values[f"criterion_{criterion['name']}"] = "oui"
        if criterion.get("max_tranche"):
            values["max_tranche"] = criterion["max_tranche"]
    for reserved in policy.get("reserved_shares") or []:
        name = reserved["criterion"]["name"]
        values[f"reserved_{name}"] = _percent(reserved["share"])
        if reserved["criterion"].get("max_tranche"):
            values["reserved_max_tranche"] = reserved["criterion"]["max_tranche"]
    return values


def _euros(cents: int | None) -> str:
    return "" if cents is None else f"{cents // 100},{cents % 100:02d}"


def _percent(share: float) -> str:
    """0.2 → "20", 0.125 → "12,5" (French decimal comma)."""
    text = f"{Decimal(str(share)) * 100:f}".rstrip("0").rstrip(".")
    return text.replace(".", ",")


def kept_policy(current: Mapping[str, Any], edited: Mapping[str, Any]) -> dict[str, Any]:
    """The policy to send on an edit: the API takes the policy whole, so what the form does not show (a setting
    added to the API after the form) is sent back as it is, never reset to its default."""
    return {**current, **edited}


def offer_to_form(offer: Mapping[str, Any], prefix: str = "offer_") -> dict[str, Any]:
    values = {f"{prefix}{k}": offer.get(k) for k in ("title", *OFFER_KEYS - {"tariffs_cents"})}
    for tranche, cents in zip(TRANCHES, offer["tariffs_cents"]):
        values[f"{prefix}tariff_{tranche}"] = _euros(cents)
    return values
