"""Campaign kinds: an open list of slugs, so a city can add a programme without a code change.

The kinds the city already runs are known here, with the age limits their programme sets;
offers of those kinds must stay inside them. Other valid slugs are accepted without limits.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from shared.domain.violations import Violation

_SLUG = re.compile(r"[a-z][a-z0-9]*(?:_[a-z0-9]+)*")
MAX_SLUG_LENGTH = 40


@dataclass(frozen=True)
class KnownKind:
    slug: str
    label: str
    age_bounds: tuple[int, int] | None


SPORT_VACANCES = KnownKind("sport_vacances", "Paris Sport Vacances", (7, 17))
CENTRE_LOISIRS_MERCREDI = KnownKind("centre_loisirs_mercredi", "Centres de loisirs du mercredi", (3, 11))
# Admission exams range from young beginners to the pre-professional cycle: no programme-wide limit.
CONSERVATOIRE_EXAMEN = KnownKind("conservatoire_examen", "Examens d'entrée au conservatoire", None)

KNOWN_KINDS: dict[str, KnownKind] = {
    kind.slug: kind for kind in (SPORT_VACANCES, CENTRE_LOISIRS_MERCREDI, CONSERVATOIRE_EXAMEN)
}


def kind_violations(kind: object, field: str = "kind") -> list[Violation]:
    if not isinstance(kind, str) or len(kind) > MAX_SLUG_LENGTH or not _SLUG.fullmatch(kind):
        return [Violation(
            "campaign.kind_invalid", field,
            f"Le type de campagne doit être un identifiant en minuscules, chiffres et « _ » "
            f"(au plus {MAX_SLUG_LENGTH} caractères), par exemple « sport_vacances ».",
        )]
    return []


def age_bounds_for(kind: str) -> tuple[int, int] | None:
    known = KNOWN_KINDS.get(kind)
    return known.age_bounds if known else None
