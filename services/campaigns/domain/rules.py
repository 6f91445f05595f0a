"""Rules every campaign and offer must satisfy, whatever its status.

Rules that depend on what already happened (the window has opened, places were given) live with
the manager actions; these are the invariants a stored campaign always meets.
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from services.campaigns.domain.kinds import age_bounds_for, kind_violations
from services.campaigns.domain.lifecycle import lifecycle_violations
from services.campaigns.domain.model import Campaign, Offer
from services.campaigns.domain.paris_time import paris_date
from services.campaigns.domain.policy import AllocationMode, policy_violations
from services.campaigns.domain.tariffs import tariff_violations
from services.campaigns.domain.values import is_int
from services.campaigns.domain.waiting_room import room_violations
from shared.domain.violations import Violation, nested, raise_if_any

MAX_TITLE_LENGTH = 200
MAX_CHOICES = 10
MAX_AGE = 25
ARRONDISSEMENTS = range(1, 21)
# Longer than a school year plus margin is a mistyped year, not a real offer.
MAX_OFFER_PERIOD = timedelta(days=366)


def validate_campaign(campaign: Campaign) -> Campaign:
    raise_if_any(campaign_violations(campaign))
    return campaign


def campaign_violations(campaign: Campaign) -> list[Violation]:
    violations = [
        *_text_violations(campaign.title, "title", "campaign"),
        *kind_violations(campaign.kind),
        *window_violations(campaign.opens_at, campaign.closes_at),
        *nested(policy_violations(campaign.policy), "policy"),
        *lifecycle_violations(campaign),
        *room_violations(campaign),
    ]
    if not is_int(campaign.max_choices) or not 1 <= campaign.max_choices <= MAX_CHOICES:
        violations.append(Violation(
            "campaign.max_choices_out_of_range", "max_choices",
            f"Le nombre de vœux classés par enfant va de 1 à {MAX_CHOICES}.",
        ))
    if campaign.published_at is not None and not campaign.offers:
        violations.append(Violation(
            "campaign.offer_required", "offers", "Une campagne publiée propose au moins une offre.",
        ))
    seen_ids: set[str] = set()
    for index, offer in enumerate(campaign.offers):
        if offer.id in seen_ids:
            violations.append(Violation(
                "offer.duplicate_id", f"offers.{index}.id", f"L'identifiant d'offre « {offer.id} » est déjà utilisé.",
            ))
        seen_ids.add(offer.id)
        violations += nested(offer_violations(offer, campaign), f"offers.{index}")
    return violations


def window_violations(opens_at: datetime, closes_at: datetime) -> list[Violation]:
    violations = [
        Violation("datetime.timezone_required", name, "L'instant doit porter un fuseau horaire.")
        for name, instant in (("opens_at", opens_at), ("closes_at", closes_at))
        if instant.tzinfo is None or instant.utcoffset() is None
    ]
    if not violations and closes_at <= opens_at:
        violations.append(Violation(
            "window.closes_before_opens", "closes_at", "La fermeture des inscriptions doit suivre leur ouverture.",
        ))
    return violations


def offer_violations(offer: Offer, campaign: Campaign) -> list[Violation]:
    """The offer's own rules, in the context of its campaign (kind, window). Paths relative to the offer."""
    violations = [
        *_text_violations(offer.title, "title", "offer"),
        *_text_violations(offer.site, "site", "offer"),
        *_period_violations(offer.starts_on, offer.ends_on, campaign),
        *_age_violations(offer.min_age, offer.max_age, campaign.kind),
        *tariff_violations(offer.tariffs_cents),
    ]
    if not is_int(offer.arrondissement) or offer.arrondissement not in ARRONDISSEMENTS:
        violations.append(Violation(
            "offer.arrondissement_out_of_range", "arrondissement", "L'arrondissement va de 1 à 20.",
        ))
    if not is_int(offer.capacity) or offer.capacity < 1:
        violations.append(Violation("offer.capacity_too_small", "capacity", "Une offre a au moins une place."))
    if offer.waitlist_limit is not None and (not is_int(offer.waitlist_limit) or offer.waitlist_limit < 0):
        violations.append(Violation(
            "offer.waitlist_limit_negative", "waitlist_limit",
            "La limite de la liste d'attente est 0 ou plus (vide : sans limite).",
        ))
    return violations


def _text_violations(text: str, field: str, owner: str) -> list[Violation]:
    if not isinstance(text, str) or not text.strip():
        return [Violation(f"{owner}.{field}_required", field, "Ce champ est obligatoire.")]
    if len(text) > MAX_TITLE_LENGTH:
        return [Violation(f"{owner}.{field}_too_long", field, f"Au plus {MAX_TITLE_LENGTH} caractères.")]
    return []


def _period_violations(starts_on: date, ends_on: date, campaign: Campaign) -> list[Violation]:
    if ends_on < starts_on:
        return [Violation(
            "offer.ends_before_starts", "ends_on", "L'offre doit finir le jour où elle commence ou après.",
        )]
    if ends_on - starts_on > MAX_OFFER_PERIOD:
        return [Violation("offer.period_too_long", "ends_on", "Une offre dure au plus un an : vérifiez l'année.")]
    # A draw needs every application, so it runs after the close: an offer starting before
    # then could not be filled. First-come-first-served places can be given as requests arrive.
    drawn = campaign.policy.mode is not AllocationMode.FIRST_COME
    if drawn and campaign.closes_at.tzinfo is not None and starts_on <= last_day_open(campaign):
        return [Violation(
            "offer.starts_before_window_closes", "starts_on",
            f"Les places sont tirées au sort après la fermeture des inscriptions : l'offre doit commencer "
            f"après le {last_day_open(campaign):%d/%m/%Y}.",
        )]
    return []


def _age_violations(min_age: int, max_age: int, kind: str) -> list[Violation]:
    if not is_int(min_age) or min_age < 0:
        return [Violation(
            "offer.age_range_invalid", "min_age", "L'âge minimum est un nombre entier d'années, 0 ou plus.",
        )]
    if not is_int(max_age) or max_age > MAX_AGE:
        return [Violation(
            "offer.age_range_invalid", "max_age", f"L'âge maximum est un nombre entier d'années, au plus {MAX_AGE}.",
        )]
    if max_age < min_age:
        return [Violation(
            "offer.age_range_invalid", "max_age", "L'âge maximum ne peut pas être inférieur à l'âge minimum.",
        )]
    bounds = age_bounds_for(kind)
    if bounds is not None and not bounds[0] <= min_age <= max_age <= bounds[1]:
        return [Violation(
            "offer.age_outside_kind_range", "min_age" if min_age < bounds[0] else "max_age",
            f"Ce type de campagne s'adresse aux enfants de {bounds[0]} à {bounds[1]} ans.",
        )]
    return []


def last_day_open(campaign: Campaign) -> date:
    """The Paris day of the window's last accepted instant (the close itself is exclusive)."""
    return paris_date(campaign.effective_closes_at - timedelta(microseconds=1))
