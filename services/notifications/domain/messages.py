"""What each kind of notification says: the facts its template is given, in the family's language.

A notification keeps the data of the event that caused it; decisions name only ids, so the child's
name comes from `application.received` and titles from the campaign's snapshot (`Facts`). When one
of those has not arrived yet, `MissingFacts` says so and delivery is tried again later. The Jinja2
templates these contexts fill are rendered by `store/templates.py`.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

LANGUAGES = ("fr", "en")
DEFAULT_LANGUAGE = "fr"


@dataclass(frozen=True)
class Facts:
    """What the event does not say: the child of an application, and the campaign's snapshot."""
    child_name: str | None = None
    campaign: dict[str, Any] | None = None


@dataclass(frozen=True)
class Message:
    subject: str
    body: str
    link: str | None


class MissingFacts(LookupError):
    """The application or the campaign a message names is not known yet."""


def explanation_link(data: dict[str, Any], portal_url: str) -> str:
    path = data.get("explanation_url") or f"/applications/{data['application_id']}/explanation"
    return portal_url.rstrip("/") + path


def _child(facts: Facts) -> str:
    if facts.child_name is None:
        raise MissingFacts("application not received yet")
    return facts.child_name


def _campaign(facts: Facts) -> dict[str, Any]:
    if facts.campaign is None:
        raise MissingFacts("campaign not published yet")
    snapshot = facts.campaign
    return {"title": snapshot["title"], "opens_at": datetime.fromisoformat(snapshot["opens_at"]),
            "closes_at": datetime.fromisoformat(snapshot["closes_at"])}


def _offer(facts: Facts, offer_id: str) -> dict[str, Any]:
    offers = {offer["offer_id"]: offer for offer in (facts.campaign or {}).get("offers", [])}
    if offer_id not in offers:
        raise MissingFacts(f"offer {offer_id} not in the campaign's snapshot yet")
    offer = offers[offer_id]
    return {"title": offer["title"], "site": offer["site"], "starts_on": date.fromisoformat(offer["starts_on"]),
            "ends_on": date.fromisoformat(offer["ends_on"])}


def _received(data, facts, portal_url):
    child = data["child"]
    return {"child": f"{child['first_name']} {child['last_name']}", "campaign": _campaign(facts),
            "choices": [_offer(facts, offer_id)["title"] for offer_id in data["choices"]]}


def _place_offered(data, facts, portal_url):
    return {"child": _child(facts), "campaign": _campaign(facts), "offer": _offer(facts, data["offer_id"]),
            "deadline": datetime.fromisoformat(data["offer_expires_at"]),
            "explanation_link": explanation_link(data, portal_url)}


def _waitlisted(data, facts, portal_url):
    return {"child": _child(facts), "campaign": _campaign(facts),
            "waitlist": [{"offer": _offer(facts, entry["offer_id"])["title"], "position": entry["position"]}
                         for entry in data["waitlist"]],
            "explanation_link": explanation_link(data, portal_url)}


def _rejected(data, facts, portal_url):
    return {"child": _child(facts), "campaign": _campaign(facts),
            "explanation_link": explanation_link(data, portal_url)}


def _offer_expired(data, facts, portal_url):
    return {"child": _child(facts), "campaign": _campaign(facts), "offer": _offer(facts, data["offer_id"])}


def _registration(data, facts, portal_url):
    return {"child": data["child_name"], "campaign": {"title": data["campaign_title"]},
            "offer": {"title": data["offer_title"], "starts_on": date.fromisoformat(data["period_start"]),
                      "ends_on": date.fromisoformat(data["period_end"])},
            "amount_cents": data["unit_price_cents"] * abs(data["quantity"]),
            "quotient_tranche": data["quotient_tranche"]}


def _campaign_opened(data, facts, portal_url):
    return {"campaign": _campaign(facts), "offers": [offer["title"] for offer in facts.campaign["offers"]]}


def _campaign_closing(data, facts, portal_url):
    # The close this reminder is for (the snapshot may already carry a later, extended one).
    return {"campaign": _campaign(facts), "closes_at": datetime.fromisoformat(data["closes_at"]),
            "applied_for": data["applied_for"], "apply_link": portal_url.rstrip("/") + "/campagnes"}


def _agent_applied(data, facts, portal_url):
    return {**_received(data, facts, portal_url), "at": datetime.fromisoformat(data["submitted_at"]),
            "reason": data.get("agent_reason") or "", "applications_link": portal_url.rstrip("/") + "/demandes"}


def _agent_action(data, facts, portal_url):
    return {"child": _child(facts), "campaign": _campaign(facts), "at": datetime.fromisoformat(data["at"]),
            "reason": data.get("reason") or "", "applications_link": portal_url.rstrip("/") + "/demandes"}


def _household_corrected(data, facts, portal_url):
    # The fields by name, once each (an address is one thing to the family); the child's id is no field of its own.
    fields = dict.fromkeys(name.split(".")[0] for name in data["fields"] if name != "child_id")
    return {"change": data["change"], "fields": list(fields), "at": datetime.fromisoformat(data["at"]),
            "reason": data["reason"], "history_link": portal_url.rstrip("/") + "/historique"}


def _fact_validated(data, facts, portal_url):
    return {"fact": data["fact"], "value": data["value"],
            "effective_from": date.fromisoformat(data["effective_from"]),
            "household_link": portal_url.rstrip("/") + "/famille"}


Context = Callable[[dict[str, Any], Facts, str], dict[str, Any]]

# Each kind of notification: how its template's context is built from the notification's data.
CONTEXTS: dict[str, Context] = {
    "application_received": _received,
    "place_offered": _place_offered,
    "offer_reminder": _place_offered,
    "waitlisted": _waitlisted,
    "rejected": _rejected,
    "offer_expired": _offer_expired,
    "registration_confirmed": _registration,
    "registration_cancelled": _registration,
    "campaign_opened": _campaign_opened,
    "campaign_closing": _campaign_closing,
    "agent_accepted": _agent_action,
    "agent_declined": _agent_action,
    "agent_withdrew": _agent_action,
    "agent_applied": _agent_applied,
    "household_corrected": _household_corrected,
    "fact_validated": _fact_validated,
}
NEEDS_CHILD = {"place_offered", "offer_reminder", "waitlisted", "rejected", "offer_expired", "agent_accepted",
               "agent_declined", "agent_withdrew"}
NEEDS_CAMPAIGN = set(CONTEXTS) - {"registration_confirmed", "registration_cancelled", "household_corrected",
                                   "fact_validated"}


def written_language(preferred: str | None) -> str:
    """The family's language when we write it, else French."""
    return preferred if preferred in LANGUAGES else DEFAULT_LANGUAGE
