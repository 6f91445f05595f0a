"""Invoice lines from the billing feed, and the monthly invoices they make.

One invoice per family per month, the month of the activity's first day (`period_start`). A
cancellation is a credit line (quantity -1) in the same invoice as the line it reverses, since
it carries the same period. Plain Python: no Kafka, no database.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from typing import Any

FEED_TYPES = ("registration.confirmed", "registration.cancelled", "registration.repriced")


@dataclass(frozen=True)
class InvoiceLine:
    line_id: str
    family_account: str
    reverses_line_id: str | None
    child_name: str
    campaign_title: str
    offer_title: str
    period_start: date
    period_end: date
    quotient_tranche: int
    unit_price_cents: int
    quantity: int
    currency: str

    @classmethod
    def from_feed(cls, data: dict[str, Any]) -> InvoiceLine:
        """A line from the data of `registration.confirmed` or `registration.cancelled`."""
        return cls(line_id=data["line_id"], family_account=data["family_account"],
                   reverses_line_id=data.get("reverses_line_id"), child_name=data["child_name"],
                   campaign_title=data["campaign_title"], offer_title=data["offer_title"],
                   period_start=date.fromisoformat(data["period_start"]),
                   period_end=date.fromisoformat(data["period_end"]), quotient_tranche=data["quotient_tranche"],
                   unit_price_cents=data["unit_price_cents"], quantity=data["quantity"], currency=data["currency"])

    @classmethod
    def all_from_feed(cls, event_type: str, data: dict[str, Any]) -> list[InvoiceLine]:
        """The lines a feed event makes: one, or two for `registration.repriced` (the replaced line credited in
        full, then the new line at the validated tranche), each with its own stable id."""
        line = cls.from_feed(data)
        if event_type != "registration.repriced":
            return [line]
        credit = replace(line, line_id=data["reversal_line_id"], reverses_line_id=data["reverses_line_id"],
                         quotient_tranche=data["reversed_quotient_tranche"],
                         unit_price_cents=data["reversed_unit_price_cents"], quantity=-1)
        return [credit, replace(line, reverses_line_id=None)]

    @property
    def month(self) -> date:
        return self.period_start.replace(day=1)

    @property
    def amount_cents(self) -> int:
        return self.unit_price_cents * self.quantity

    @property
    def is_credit(self) -> bool:
        return self.reverses_line_id is not None


@dataclass(frozen=True)
class Invoice:
    family_account: str
    month: date
    lines: tuple[InvoiceLine, ...]

    @property
    def currency(self) -> str:
        return self.lines[0].currency

    @property
    def total_cents(self) -> int:
        return sum(line.amount_cents for line in self.lines)


class MixedCurrencies(ValueError):
    """An invoice's lines are in several currencies: no total can be printed."""


def monthly_invoices(lines: Iterable[InvoiceLine]) -> list[Invoice]:
    """Lines in the order they arrived → one invoice per (family, month), ordered by family then month;
    within an invoice the lines keep their arrival order."""
    grouped: dict[tuple[str, date], list[InvoiceLine]] = {}
    for line in lines:
        grouped.setdefault((line.family_account, line.month), []).append(line)
    invoices = [Invoice(family, month, tuple(group)) for (family, month), group in sorted(grouped.items())]
    for invoice in invoices:
        if len({line.currency for line in invoice.lines}) > 1:
            raise MixedCurrencies(f"{invoice.family_account} {invoice.month:%Y-%m}")
    return invoices
