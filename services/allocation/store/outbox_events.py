"""The events allocation publishes, built from its rows; each goes to the outbox in the transaction
of the change it announces."""
from __future__ import annotations

import hashlib
import uuid
from collections.abc import Mapping
from datetime import date, datetime
from typing import Any
from uuid import UUID

from sqlalchemy import Connection

from services.allocation.domain.terms import Credit
from services.allocation.store.campaign_copy import CampaignCopy
from services.allocation.store.tables import outbox
from shared.events import Event, EventError, contract_for, make_event
from shared.events.envelope import SPEC_VERSION
from shared.outbox import record_event

SOURCE = "/guichet/allocation"
CURRENCY = "EUR"
# Billing events get an id derived from their line: a second event for the same line could not even
# enter the outbox (its event ids are unique), and billing deduplicates on the id.
BILLING_LINE_NAMESPACE = uuid.UUID("6f1d3c0e-1c55-4b6e-9a4f-3d7a1f0b2c11")
DECISION_NAMESPACE = uuid.UUID("2d9f4b7a-8c1e-4f3d-a6b5-0e7c9d1f2a48")
PLACES_NAMESPACE = uuid.UUID("8e3a1f5c-2b7d-4c9e-a1f0-5d6b7c8e9f01")


def explanation_url(application_id: UUID | str) -> str:
    return f"/applications/{application_id}/explanation"


def draw_url(campaign_id: UUID | str) -> str:
    return f"/draws/{campaign_id}"


def bundle_url(campaign_id: UUID | str) -> str:
    return f"/draws/{campaign_id}/bundle.json"


def line_id(application_id: UUID | str, number: int = 1) -> str:
    """One application holds at most one place, so it bills at most one line at a time: the first, and
    the n-th after n-1 repricings by validated quotient tranches (docs/billing-feed.md)…"""
    return f"reg-{application_id}" if number == 1 else f"reg-{application_id}-{number}"


def reversal_line_id(application_id: UUID | str, number: int = 1) -> str:
    """…and credits each back at most once."""
    return f"rev-{application_id}" if number == 1 else f"rev-{application_id}-{number}"


def publish(connection: Connection, event: Event, key: UUID | str) -> None:
    record_event(connection, outbox, event, key=str(key))


class Decisions:
    """`allocation.decided` events by the thousand, for a draw. make_event serialises and checks every
    event through its contract's schema, which for 100,000 decisions costs more than the draw itself.
    Here the data is written directly in its wire form (what the schema would dump: a test compares
    them), and the first event of each outcome is checked against the contract in full.

    An event's id is derived from its run and application: a run decides an application once, so a
    second event for the same decision could not even enter the outbox."""

    def __init__(self):
        contract = contract_for("allocation.decided")
        self.schema = contract.schema()
        self.version = contract.version
        self.topic = contract.topic.name
        self.checked: set[str] = set()
        self._times: dict[datetime, str] = {}

    def announce(self, application: Mapping[str, Any], run_id: UUID, outcome: str, offer_id: UUID | str | None,
                 expires_at: datetime | None, waitlist: list[dict], reason_codes: list[str], now: datetime) -> Event:
        application_id, run = str(application["application_id"]), str(run_id)
        data = self._data(application, application_id, run, outcome, offer_id, expires_at, waitlist, reason_codes)
        return Event(type="allocation.decided", source=SOURCE, subject=f"applications/{application_id}", data=data,
                     time=now, schemaversion=self.version, id=decision_event_id(run, application_id))

    def outbox_row(self, application: Mapping[str, Any], application_id: str, run: str, outcome: str,
                   offer_id: str | None, expires_at: datetime | None, waitlist: list[dict], reason_codes: list[str],
                   now: datetime, key: str) -> dict[str, Any]:
        """The outbox row (`record_event`'s) of `announce(...)`'s event, without the Event in between; the
        application's and run's ids as text, the row's `key`: a draw writes 100,000 of them (store/bulk_copy.py)."""
        data = self._data(application, application_id, run, outcome, offer_id, expires_at, waitlist, reason_codes)
        event_id = decision_event_id(run, application_id)
        time = self._times.get(now) or self._times.setdefault(now, _envelope_time(now))
        return dict(event_id=event_id, event_type="allocation.decided", topic=self.topic, message_key=key, envelope={
            "specversion": SPEC_VERSION, "id": event_id, "type": "allocation.decided", "source": SOURCE,
            "subject": f"applications/{application_id}", "time": time, "datacontenttype": "application/json",
            "schemaversion": self.version, "data": data})

    def _data(self, application: Mapping[str, Any], application_id: str, run: str, outcome: str,
              offer_id: UUID | str | None, expires_at: datetime | None, waitlist: list[dict],
              reason_codes: list[str]) -> dict[str, Any]:
        data = {"application_id": application_id, "campaign_id": str(application["campaign_id"]),
                "family_account": application["family_account"], "child_id": str(application["child_id"]),
                "outcome": outcome, "offer_id": None if offer_id is None else str(offer_id),
                "offer_expires_at": None if expires_at is None else expires_at.isoformat(),
                "waitlist": [{"offer_id": str(entry["offer_id"]), "position": entry["position"]} for entry in waitlist],
                "reasons": list(reason_codes), "allocation_run_id": run,
                "explanation_url": explanation_url(application_id)}
        if outcome not in self.checked:
            errors = self.schema.validate(data)
            if errors:
                raise EventError(f"allocation.decided data does not match its contract: {errors}")
            self.checked.add(outcome)
        return data


def decision_event_id(run: str, application_id: str) -> str:
    """str(uuid.uuid5(DECISION_NAMESPACE, f"{run}:{application_id}")), written without the UUID object and its
    text conversion, a third of a draw's event-building time (a test compares them)."""
    digest = bytearray(hashlib.sha1(_DECISION_NAMESPACE_BYTES + f"{run}:{application_id}".encode()).digest()[:16])
    digest[6] = (digest[6] & 0x0F) | 0x50  # version 5
    digest[8] = (digest[8] & 0x3F) | 0x80  # RFC 4122 variant
    text = digest.hex()
    return f"{text[:8]}-{text[8:12]}-{text[12:16]}-{text[16:20]}-{text[20:]}"


_DECISION_NAMESPACE_BYTES = DECISION_NAMESPACE.bytes


def _envelope_time(at: datetime) -> str:
    return Event(type="", source="", subject="", data={}, time=at, id="").to_dict()["time"]


def promoted(application: Mapping[str, Any], offer_id: UUID, expires_at: datetime, freed_by: UUID | None,
             now: datetime) -> Event:
    return _about(application, "waitlist.promoted", now, {
        "child_id": application["child_id"], "offer_id": offer_id, "offer_expires_at": expires_at,
        "freed_by_application_id": freed_by})


def expired(application: Mapping[str, Any], offer_id: UUID, now: datetime) -> Event:
    return _about(application, "offer.expired", now, {"offer_id": offer_id, "expired_at": now})


def confirmed(application: Mapping[str, Any], campaign: CampaignCopy, offer_id: UUID, tranche: int, price_cents: int,
              confirmed_at: datetime) -> Event:
    line = line_id(application["application_id"])
    return _billing_event("registration.confirmed", line, confirmed_at, {
        **_billing_line(application, campaign, offer_id, tranche, price_cents, confirmed_at), "quantity": 1})


def cancelled(application: Mapping[str, Any], campaign: CampaignCopy, offer_id: UUID, tranche: int, price_cents: int,
              confirmed_at: datetime, cancelled_at: datetime, reason: str, credit: Credit | None = None, *,
              line_number: int = 1) -> Event:
    """The credit line: its unit price is what is credited (the whole price when `credit` is None), so
    unit price × quantity stays the amount; the fee kept and the price reversed are said beside it.
    `line_number`: the line the registration stands on (1 unless repriced)."""
    credit = credit or Credit(price_cents, 0, "free")
    line = reversal_line_id(application["application_id"], line_number)
    return _billing_event("registration.cancelled", line, cancelled_at, {
        **_billing_line(application, campaign, offer_id, tranche, credit.credited_cents, confirmed_at), "quantity": -1,
        "reverses_line_id": line_id(application["application_id"], line_number), "cancelled_at": cancelled_at,
        "reason": reason,
        "reversed_unit_price_cents": price_cents, "withdrawal_fee_cents": credit.fee_cents,
        "cancellation_rule": credit.rule})


def repriced(application: Mapping[str, Any], campaign: CampaignCopy, offer_id: UUID, confirmed_at: datetime,
             replaced: tuple[int, int, int], tranche: int, price_cents: int, effective_from: date,
             repriced_at: datetime) -> Event:
    """Line `replaced` = (number, tranche, unit price) is credited in full and line number + 1 bills the
    registration at `tranche`: one event, so billing never holds one without the other."""
    number, old_tranche, old_price = replaced
    application_id = application["application_id"]
    line = line_id(application_id, number + 1)
    return _billing_event("registration.repriced", line, repriced_at, {
        **_billing_line(application, campaign, offer_id, tranche, price_cents, confirmed_at), "quantity": 1,
        "reverses_line_id": line_id(application_id, number),
        "reversal_line_id": reversal_line_id(application_id, number), "reversed_quotient_tranche": old_tranche,
        "reversed_unit_price_cents": old_price, "effective_from": effective_from, "repriced_at": repriced_at,
        "reason": "quotient tranche validated by a city agent"})


def _billing_line(application: Mapping[str, Any], campaign: CampaignCopy, offer_id: UUID, tranche: int,
                  price_cents: int, confirmed_at: datetime) -> dict[str, Any]:
    offer = campaign.offer(offer_id)
    child = application["child"]
    return {"application_id": application["application_id"], "family_account": application["family_account"],
            "child_id": application["child_id"], "child_name": f"{child['first_name']} {child['last_name']}",
            "campaign_id": campaign.campaign_id, "campaign_title": campaign.title, "offer_id": offer_id,
            "offer_title": offer["title"], "period_start": date.fromisoformat(offer["starts_on"]),
            "period_end": date.fromisoformat(offer["ends_on"]), "quotient_tranche": tranche,
            "unit_price_cents": price_cents, "currency": CURRENCY, "confirmed_at": confirmed_at}


def _billing_event(event_type: str, line: str, at: datetime, data: dict[str, Any]) -> Event:
    return make_event(event_type, source=SOURCE, subject=f"applications/{data['application_id']}", time=at,
                      id=str(uuid.uuid5(BILLING_LINE_NAMESPACE, line)), data={"line_id": line, **data})


def family_pseudonymised(family_account: str, pseudonym: str, erased_at: datetime) -> Event:
    """Billing's cue to pseudonymise the family's lines; one per family whatever the redeliveries (its id)."""
    return make_event("family.pseudonymised", source=SOURCE, subject=f"families/{pseudonym}", time=erased_at,
                      id=str(uuid.uuid5(BILLING_LINE_NAMESPACE, f"pseudonymised-{family_account}")),
                      data={"family_account": family_account, "pseudonym": pseudonym, "erased_at": erased_at})


def places_given(campaign_id: UUID, offer_id: UUID, count: int, revision: int, now: datetime) -> Event:
    """Its id derives from the offer and revision: the same announcement can enter the outbox once."""
    return make_event("offer.places_given", source=SOURCE, subject=f"offers/{offer_id}", time=now,
                      id=str(uuid.uuid5(PLACES_NAMESPACE, f"{offer_id}:{revision}")), data={
                          "campaign_id": campaign_id, "offer_id": offer_id, "places_given": count,
                          "revision": revision, "counted_at": now})


def seed_committed(campaign_id: UUID, commitment: str, now: datetime) -> Event:
    return make_event("lottery.seed_committed", source=SOURCE, subject=f"campaigns/{campaign_id}", time=now, data={
        "campaign_id": campaign_id, "commitment": commitment, "committed_at": now, "draw_url": draw_url(campaign_id)})


def seed_revealed(campaign_id: UUID, seed: bytes, commitment: str, run_id: UUID, now: datetime) -> Event:
    return make_event("lottery.seed_revealed", source=SOURCE, subject=f"campaigns/{campaign_id}", time=now, data={
        "campaign_id": campaign_id, "seed": seed.hex(), "commitment": commitment, "allocation_run_id": run_id,
        "revealed_at": now, "bundle_url": bundle_url(campaign_id)})


def _about(application: Mapping[str, Any], event_type: str, now: datetime, data: dict[str, Any]) -> Event:
    return make_event(event_type, source=SOURCE, subject=_subject(application), time=now,
                      data={**_identifying(application), **data})


def _identifying(application: Mapping[str, Any]) -> dict[str, Any]:
    return {"application_id": application["application_id"], "campaign_id": application["campaign_id"],
            "family_account": application["family_account"]}


def _subject(application: Mapping[str, Any]) -> str:
    return f"applications/{application['application_id']}"
