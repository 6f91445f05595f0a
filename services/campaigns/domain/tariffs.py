"""Prices by family-quotient tranche, in euro cents (int): money never goes through a float.

Tranche 1 is the lowest family quotient. A family with no quotient on file pays tranche 10,
the full price.
"""
from __future__ import annotations

from services.campaigns.domain.values import is_int
from shared.domain.violations import RuleViolation, Violation

TRANCHE_COUNT = 10
NO_QUOTIENT_TRANCHE = 10

# Ten prices in cents, tranche 1 first.
TariffGrid = tuple[int, ...]


def price_for(tariffs_cents: TariffGrid, quotient_tranche: int | None) -> int:
    tranche = NO_QUOTIENT_TRANCHE if quotient_tranche is None else quotient_tranche
    if not is_int(tranche) or not 1 <= tranche <= TRANCHE_COUNT:
        raise RuleViolation.single(
            "tariff.unknown_tranche", "quotient_tranche",
            f"La tranche de quotient familial doit aller de 1 à {TRANCHE_COUNT}, reçu {quotient_tranche!r}.",
        )
    return tariffs_cents[tranche - 1]


def flat_tariff(cents: int) -> TariffGrid:
    """The same price whatever the quotient (an exam fee, a free activity)."""
    return (cents,) * TRANCHE_COUNT


def tariff_violations(tariffs_cents: TariffGrid, field: str = "tariffs_cents") -> list[Violation]:
    if len(tariffs_cents) != TRANCHE_COUNT:
        return [Violation(
            "tariff.tranche_count", field,
            f"La grille tarifaire doit avoir exactement {TRANCHE_COUNT} tranches, elle en a {len(tariffs_cents)}.",
        )]
    violations = []
    for index, price in enumerate(tariffs_cents):
        if not is_int(price):
            violations.append(Violation(
                "tariff.not_whole_cents", f"{field}.{index}",
                f"Tranche {index + 1} : le prix est un nombre entier de centimes, reçu {price!r}.",
            ))
        elif price < 0:
            violations.append(Violation(
                "tariff.negative_price", f"{field}.{index}", f"Tranche {index + 1} : le prix ne peut pas être négatif.",
            ))
    if not violations:
        # Higher quotients never pay less: a price lower than the tranche below is a typing slip.
        for index in range(1, TRANCHE_COUNT):
            if tariffs_cents[index] < tariffs_cents[index - 1]:
                violations.append(Violation(
                    "tariff.decreasing", f"{field}.{index}",
                    f"Tranche {index + 1} : le prix ne peut pas être inférieur à celui de la tranche {index}.",
                ))
    return violations
