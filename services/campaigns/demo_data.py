"""The three demo campaigns of the winter 2026 season, as domain values (no I/O).

Paris is in school zone C: winter holidays from Saturday 21 February to Monday 9 March 2026,
spring holidays from Saturday 18 April to Monday 4 May 2026, summer from Saturday 4 July 2026.
Prices are demo figures in euro cents, tranche 1 (lowest family quotient) first.
"""
from __future__ import annotations

import uuid
from datetime import date, datetime
from decimal import Decimal

from services.campaigns.domain import (
    AllocationMode,
    AllocationPolicy,
    Campaign,
    CriterionName,
    Offer,
    PriorityCriterion,
    ReservedShare,
    flat_tariff,
    parse_paris_datetime,
)

# Ids are UUIDs, as everywhere in Guichet; derived from readable names so they never change.
DEMO_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:guichet:demo-data")


def demo_id(name: str) -> str:
    return str(uuid.uuid5(DEMO_NAMESPACE, name))


def _paris(local: str) -> datetime:
    return parse_paris_datetime(local, "demo")


# --- Paris Sport Vacances, hiver 2026 -------------------------------------------------------
# Applications close on Friday 27 February, inside the holidays; places are drawn after the
# close, so the stages run in the second holiday week, Monday 2 to Friday 6 March.
PSV_WEEK_STARTS, PSV_WEEK_ENDS = date(2026, 3, 2), date(2026, 3, 6)
PSV_FIVE_DAY_STAGE_CENTS = (400, 700, 1200, 1800, 2500, 3300, 4200, 5200, 6300, 7500)


def _psv_stage(slug: str, title: str, site: str, arrondissement: int, ages: tuple[int, int], capacity: int) -> Offer:
    return Offer(
        id=demo_id(f"psv-hiver-2026/{slug}"), title=title, site=site, arrondissement=arrondissement,
        starts_on=PSV_WEEK_STARTS, ends_on=PSV_WEEK_ENDS, min_age=ages[0], max_age=ages[1],
        capacity=capacity, waitlist_limit=10, tariffs_cents=PSV_FIVE_DAY_STAGE_CENTS,
    )


QUOTIENT_TRANCHES_1_TO_3 = PriorityCriterion(CriterionName.QUOTIENT_TRANCHE_AT_MOST, max_tranche=3)

SPORT_VACANCES_HIVER_2026 = Campaign(
    id=demo_id("psv-hiver-2026"),
    title="Paris Sport Vacances — hiver 2026",
    kind="sport_vacances",
    description=(
        "Stages sportifs et culturels de 5 jours pendant les vacances d'hiver, pour les 7-17 ans. "
        "Places attribuées par tirage au sort avec priorités après la clôture des inscriptions ; "
        "20 % des places de chaque stage sont réservées aux familles des tranches 1 à 3."
    ),
    opens_at=_paris("2026-02-02T00:01"),
    closes_at=_paris("2026-02-27T23:59"),
    reference_date=PSV_WEEK_STARTS,
    max_choices=3,
    policy=AllocationPolicy(
        mode=AllocationMode.PRIORITY_LOTTERY,
        criteria=(
            QUOTIENT_TRANCHES_1_TO_3,
            PriorityCriterion(CriterionName.RESIDENT_OF_OFFER_ARRONDISSEMENT),
            PriorityCriterion(CriterionName.NOT_PLACED_PREVIOUS_CAMPAIGN),
        ),
        reserved_shares=(ReservedShare(QUOTIENT_TRANCHES_1_TO_3, Decimal("0.20")),),
        lottery_weight_per_unsuccessful_year=1,
        keep_siblings_together=True,
        # Drawn as soon as the close has drained (Saturday 28 February, just after midnight), so 36 hours
        # to accept and a deadline 12 hours before Monday's start: Sunday 1 March, noon.
        acceptance_delay_hours=36,
        acceptance_margin_hours=12,
    ),
    # A place given up until Sunday evening is credited in full; after that, not at all.
    free_withdrawal_until=_paris("2026-03-01T20:00"),
    late_withdrawal_fee_cents=None,
    offers=(
        _psv_stage("multisport-jean-dame", "Multisport", "Gymnase Jean Dame", 2, (7, 10), 24),
        _psv_stage("multisport-emile-anthoine", "Multisport", "Centre sportif Émile Anthoine", 15, (11, 14), 24),
        _psv_stage("multisport-louis-lumiere", "Multisport", "Centre sportif Louis Lumière", 20, (7, 10), 20),
        _psv_stage("escalade-jules-ladoumegue", "Escalade", "Centre sportif Jules Ladoumègue", 19, (11, 17), 12),
        _psv_stage("escalade-biancotto", "Escalade — initiation", "Gymnase Biancotto", 17, (8, 12), 12),
        _psv_stage("natation-georges-vallerey", "Natation", "Piscine Georges Vallerey", 20, (7, 12), 16),
        _psv_stage("natation-josephine-baker", "Natation — perfectionnement", "Piscine Joséphine Baker", 13,
                   (10, 17), 16),
        _psv_stage("theatre-montparnasse", "Théâtre", "Centre Paris Anim' Montparnasse", 14, (9, 13), 14),
        _psv_stage("arts-plastiques-curial", "Arts plastiques", "Centre Paris Anim' Curial", 19, (7, 11), 14),
    ),
    published_at=_paris("2026-01-19T10:00"),
)


# --- Centres de loisirs du mercredi, printemps 2026 -----------------------------------------
# Wednesdays from the return of the winter holidays to the summer, less the two spring-holiday
# Wednesdays (22 and 29 April): 15 Wednesdays. The grid is the price of the whole period.
WEDNESDAYS_IN_PERIOD = 15
PER_WEDNESDAY_CENTS = (50, 90, 160, 260, 390, 540, 700, 870, 1050, 1250)
MATERNELLE, ELEMENTAIRE = (3, 5), (6, 11)


def _centre(slug: str, site: str, arrondissement: int, ages: tuple[int, int], capacity: int) -> Offer:
    level = "maternelle" if ages == MATERNELLE else "élémentaire"
    return Offer(
        id=demo_id(f"clm-printemps-2026/{slug}"), title=f"Mercredis du 11 mars au 1er juillet 2026 — {level}",
        site=site, arrondissement=arrondissement, starts_on=date(2026, 3, 11), ends_on=date(2026, 7, 1),
        min_age=ages[0], max_age=ages[1], capacity=capacity, waitlist_limit=20,
        tariffs_cents=tuple(price * WEDNESDAYS_IN_PERIOD for price in PER_WEDNESDAY_CENTS),
    )


CENTRES_LOISIRS_MERCREDI_PRINTEMPS_2026 = Campaign(
    id=demo_id("clm-printemps-2026"),
    title="Centres de loisirs du mercredi — de mars à juillet 2026",
    kind="centre_loisirs_mercredi",
    description=(
        "Accueil des enfants de maternelle et d'élémentaire le mercredi, de 11 h 30 à 18 h 30, "
        "du 11 mars au 1er juillet 2026. Places attribuées dans l'ordre d'arrivée des demandes."
    ),
    opens_at=_paris("2026-02-09T00:01"),
    closes_at=_paris("2026-02-23T23:59"),
    reference_date=date(2026, 3, 11),
    max_choices=2,
    policy=AllocationPolicy(mode=AllocationMode.FIRST_COME),
    offers=(
        _centre("vaugirard-maternelle", "Centre de loisirs maternel Vaugirard", 15, MATERNELLE, 40),
        _centre("balard-elementaire", "Centre de loisirs élémentaire Balard", 15, ELEMENTAIRE, 60),
        _centre("championnet-maternelle", "Centre de loisirs maternel Championnet", 18, MATERNELLE, 32),
        _centre("vicq-dazir-elementaire", "Centre de loisirs élémentaire Vicq-d'Azir", 10, ELEMENTAIRE, 48),
        _centre("daviel-elementaire", "Centre de loisirs élémentaire Daviel", 13, ELEMENTAIRE, 56),
        _centre("pelleport-maternelle", "Centre de loisirs maternel Pelleport", 20, MATERNELLE, 36),
    ),
    published_at=_paris("2026-01-26T10:00"),
)


# --- Conservatoire à rayonnement régional (CRR) de Paris — Ida Rubinstein -------------------
# Offers are exam sessions; ages are counted on 31 December of the year of entry.
CRR_SITE = "Conservatoire à rayonnement régional de Paris — Ida Rubinstein"
CRR_EXAM_FEE_CENTS = flat_tariff(1000)


def _exam(slug: str, title: str, first_day: date, last_day: date, ages: tuple[int, int], candidates: int) -> Offer:
    return Offer(
        id=demo_id(f"crr-admissions-2026/{slug}"), title=title, site=CRR_SITE, arrondissement=8,
        starts_on=first_day, ends_on=last_day, min_age=ages[0], max_age=ages[1],
        capacity=candidates, waitlist_limit=0, tariffs_cents=CRR_EXAM_FEE_CENTS,
    )


CONSERVATOIRE_ADMISSIONS_2026 = Campaign(
    id=demo_id("crr-admissions-2026"),
    title="CRR de Paris — Ida Rubinstein : examens d'entrée 2026, musique et danse",
    kind="conservatoire_examen",
    description=(
        "Inscription aux examens d'entrée de la rentrée 2026. Chaque offre est une session d'examen ; "
        "les places de session sont tirées au sort parmi les candidatures reçues."
    ),
    opens_at=_paris("2026-02-09T10:00"),
    closes_at=_paris("2026-03-17T15:00"),
    reference_date=date(2026, 12, 31),
    max_choices=3,
    # Candidates confirm the exam slot they are offered within a week.
    policy=AllocationPolicy(mode=AllocationMode.LOTTERY, acceptance_delay_hours=7 * 24),
    offers=(
        _exam("piano", "Piano — 1er cycle", date(2026, 5, 18), date(2026, 5, 20), (7, 10), 60),
        _exam("violon", "Violon — 1er cycle", date(2026, 5, 26), date(2026, 5, 27), (6, 9), 40),
        _exam("violoncelle", "Violoncelle — 1er cycle", date(2026, 5, 28), date(2026, 5, 28), (6, 10), 30),
        _exam("flute", "Flûte traversière — 1er cycle", date(2026, 6, 1), date(2026, 6, 2), (7, 11), 30),
        _exam("danse-classique", "Danse classique — 1er cycle", date(2026, 6, 6), date(2026, 6, 6), (8, 10), 48),
        _exam("danse-contemporaine", "Danse contemporaine — 2e cycle", date(2026, 6, 13), date(2026, 6, 13),
              (11, 14), 36),
        _exam("chant-lyrique", "Chant lyrique — cycle spécialisé", date(2026, 6, 17), date(2026, 6, 18), (18, 25), 24),
    ),
    published_at=_paris("2026-01-12T10:00"),
)

DEMO_CAMPAIGNS: tuple[Campaign, ...] = (
    SPORT_VACANCES_HIVER_2026,
    CENTRES_LOISIRS_MERCREDI_PRINTEMPS_2026,
    CONSERVATOIRE_ADMISSIONS_2026,
)
