"""Invoice previews for people (text) and programs (JSON)."""
from __future__ import annotations

from typing import Any

from examples.billing_preview.invoices import Invoice


def as_json(invoices: list[Invoice]) -> list[dict[str, Any]]:
    return [{
        "family_account": invoice.family_account, "month": f"{invoice.month:%Y-%m}", "currency": invoice.currency,
        "total_cents": invoice.total_cents,
        "lines": [{"line_id": line.line_id, "kind": "credit" if line.is_credit else "charge",
                   "reverses_line_id": line.reverses_line_id, "child_name": line.child_name,
                   "campaign_title": line.campaign_title, "offer_title": line.offer_title,
                   "period_start": line.period_start.isoformat(), "period_end": line.period_end.isoformat(),
                   "quotient_tranche": line.quotient_tranche, "unit_price_cents": line.unit_price_cents,
                   "quantity": line.quantity, "amount_cents": line.amount_cents}
                  for line in invoice.lines],
    } for invoice in invoices]


def _money(cents: int, currency: str) -> str:
    return f"{cents / 100:>9.2f} {currency}"


def as_text(invoices: list[Invoice]) -> str:
    blocks = []
    for invoice in invoices:
        rows = [f"Invoice preview — {invoice.family_account} — {invoice.month:%Y-%m}"]
        for line in invoice.lines:
            label = "credit for " + line.reverses_line_id if line.is_credit else line.line_id
            rows.append(f"  {label}: {line.child_name}, {line.offer_title} ({line.campaign_title}), "
                        f"{line.period_start} to {line.period_end}, tranche {line.quotient_tranche}")
            rows.append(f"    {line.quantity:>3} x {_money(line.unit_price_cents, line.currency)} = "
                        f"{_money(line.amount_cents, line.currency)}")
        rows.append(f"  Total {_money(invoice.total_cents, invoice.currency)}")
        blocks.append("\n".join(rows))
    return "\n\n".join(blocks) + "\n" if blocks else "No invoice lines.\n"
