"""One invoice per family per month of the activity's start; credits reverse lines in the same invoice."""
import json
from datetime import date

import pytest

from examples.billing_preview.invoices import InvoiceLine, MixedCurrencies, monthly_invoices
from examples.billing_preview.printing import as_json, as_text
from shared.events import contract_for


def line(event_type="registration.confirmed", **changes) -> InvoiceLine:
    return InvoiceLine.from_feed({**contract_for(event_type).example, **changes})


def test_lines_make_one_invoice_per_family_and_month_of_period_start():
    march = line(line_id="reg-a", period_start="2026-03-30", period_end="2026-04-03")
    april = line(line_id="reg-b", period_start="2026-04-13", period_end="2026-04-17", unit_price_cents=1300)
    other_family = line(line_id="reg-c", family_account="family-0001")
    invoices = monthly_invoices([march, april, other_family])

    assert [(i.family_account, i.month) for i in invoices] == [
        ("family-0001", date(2026, 3, 1)), ("family-7d2c", date(2026, 3, 1)), ("family-7d2c", date(2026, 4, 1))]
    assert [i.total_cents for i in invoices] == [900, 900, 1300]


def test_a_cancellation_is_a_credit_line_beside_the_line_it_reverses():
    (invoice,) = monthly_invoices([line(), line("registration.cancelled")])
    charge, credit = invoice.lines
    assert (charge.is_credit, credit.is_credit) == (False, True)
    assert credit.reverses_line_id == charge.line_id and credit.amount_cents == -900
    assert invoice.total_cents == 0


def test_an_invoice_in_two_currencies_is_refused():
    with pytest.raises(MixedCurrencies):
        monthly_invoices([line(), line(line_id="reg-chf", currency="CHF")])


def test_printed_as_json_and_as_text():
    invoices = monthly_invoices([line(), line("registration.cancelled")])
    (printed,) = json.loads(json.dumps(as_json(invoices)))
    assert printed["month"] == "2026-03" and printed["total_cents"] == 0
    assert [(entry["kind"], entry["amount_cents"]) for entry in printed["lines"]] == [("charge", 900), ("credit", -900)]
    text = as_text(invoices)
    assert "Invoice preview — family-7d2c — 2026-03" in text and "credit for reg-0b9e6a52" in text
    assert text.rstrip().endswith("Total      0.00 EUR")
    assert as_text([]) == "No invoice lines.\n"


def test_a_repricing_credits_the_replaced_line_and_bills_the_new_one_in_the_same_invoice():
    repriced = contract_for("registration.repriced").example
    credit, new = InvoiceLine.all_from_feed("registration.repriced", repriced)
    assert (credit.line_id, credit.reverses_line_id, credit.quotient_tranche, credit.amount_cents) == (
        repriced["reversal_line_id"], repriced["reverses_line_id"], 3, -900)
    assert (new.line_id, new.reverses_line_id, new.quotient_tranche, new.amount_cents) == (
        repriced["line_id"], None, 2, 600)
    (invoice,) = monthly_invoices([line(), credit, new])
    assert invoice.total_cents == 600  # billed at the validated tranche
