"""Submitting an application: the surge path.

Validation runs against cached campaign terms and the household copy this process holds; admission,
idempotency, the application id, the holds and the campaign's arrival number in one Redis script
(store/intake_gate.py); the application is then produced to Kafka, keyed by family account (one campaign's
applications spread over the partitions, one family's stay in order in one), and only once the broker
acknowledged it (acks=all) does the parent get a 202. No database write happens here: the intake consumer
writes the ledger, at the arrival position the record carries.
"""
from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from uuid import UUID

from kafka.errors import KafkaError, MessageSizeTooLargeError, RecordListTooLargeError

from services.registrations.domain.applications import check_choices, check_window
from services.registrations.domain.facts import validated_facts
from services.registrations.domain.household import Child, Household
from services.registrations.store.campaign_directory import CampaignDirectory
from services.registrations.store.events import SOURCE
from services.registrations.store.household_cache import HouseholdMemory, KnownHousehold
from services.registrations.store.intake_gate import Entry, HouseholdChanged, IntakeGate
from services.registrations.store.intake_gate import application_id_key as application_id_key  # tests read it
from services.registrations.store.intake_guard import Hold
from shared.clock import Clock, utc_now
from shared.events import Event, EventError, contract_for
from shared.kafka import Producer
from shared.topics import APPLICATION_SUBMISSIONS

log = logging.getLogger(__name__)



class HouseholdSource(Protocol):
    """Where intake reads households: HouseholdReader, or a test's or a benchmark's own."""

    def get_with_digest(self, family_account: str) -> KnownHousehold | None: ...

    def known_from(self, family_account: str, raw: str | bytes) -> KnownHousehold | None: ...


@dataclass(frozen=True)
class Submission:
    idempotency_key: str
    campaign_id: UUID
    child_id: UUID
    choices: list[UUID]
    keep_with_applications: list[UUID]
    sworn_statement: bool


@dataclass(frozen=True)
class OnBehalf:
    """A city agent applying for the family (issue 16): who, and the reason the family reads. The submission
    goes through the family's rules all the same."""
    agent_subject: str
    reason: str


@dataclass(frozen=True)
class Acknowledgement:
    application_id: UUID
    campaign_id: UUID
    submitted_at: datetime
    hold: Hold


class UnknownCampaign(Exception):
    pass


class HouseholdIncomplete(Exception):
    def __init__(self, field: str, message: str):
        super().__init__(message)
        self.field = field


class SubmissionRefused(Exception):
    """The submission can never pass as sent (retrying is useless): a 422 naming `field`."""

    def __init__(self, field: str, message: str, code: str):
        super().__init__(message)
        self.field, self.code = field, code


# A record over the producer's max_request_size (not above the broker's limit) is refused by send() itself, before
# it is buffered: that is the request's fault, not the broker's state. (A refusal by the broker, after the send, is
# left to the 503 path: it aborts every batch buffered with it, other parents' records included.)
_RECORD_REFUSED = (MessageSizeTooLargeError, RecordListTooLargeError)


def record_too_large(submission: Submission) -> SubmissionRefused:
    field = "keep_with_applications" if submission.keep_with_applications else "choices"
    return SubmissionRefused(field, "The application is too large to be recorded; send fewer ids.", "too-large")


class BrokerUnavailable(Exception):
    """Kafka did not acknowledge the application: nothing was kept, the parent must retry."""


class SubmittedEvents:
    """`application.submitted` in wire form, written directly. make_event would create the contract's schema,
    dump the data through it and validate the dump: a fifth of intake's CPU, for data whose every field was
    already checked (the body by SubmissionSchema, the household when it was saved, the hold by the guard).
    A test compares this wire form with the schema's dump. The first event of each shape (which optional
    facts are absent, which hold) is still checked against the contract in full, so a contract that moved
    away from this code fails at the first submission, before it is acknowledged."""

    def __init__(self):
        contract = contract_for("application.submitted")
        self.schema = contract.schema()
        self.version = contract.version
        self._checked: set[tuple] = set()

    def submitted(self, application_id: UUID, campaign_id: UUID, family_account: str, child: Child,
                  household: Household, submission: Submission, submitted_at: datetime, hold: Hold,
                  on_behalf: OnBehalf | None = None, arrival_number: int | None = None) -> Event:
        data = {
            "application_id": str(application_id), "campaign_id": str(campaign_id), "family_account": family_account,
            "child": {"child_id": str(child.child_id), "first_name": child.first_name, "last_name": child.last_name,
                      "birth_date": child.birth_date.isoformat(),
                      "disability_allowance": child.disability_allowance, "school": child.school},
            "household": {"single_parent": household.single_parent, "quotient_tranche": household.quotient_tranche,
                          "quotient_justified_on": None if household.quotient_justified_on is None
                          else household.quotient_justified_on.isoformat(),
                          "residence_arrondissement": household.arrondissement,
                          "postal_mail": household.postal_mail,
                          "validated_facts": validated_facts(household, child.child_id)},
            "choices": [str(offer_id) for offer_id in submission.choices],
            "keep_with_applications": [str(other) for other in submission.keep_with_applications],
            "sworn_statement": submission.sworn_statement, "submitted_at": submitted_at.isoformat(),
            "hold": {"kind": hold.kind, "offer_id": None if hold.offer_id is None else str(hold.offer_id),
                     "position": hold.position},
        }
        if arrival_number is not None:
            data["arrival_number"] = arrival_number
        # Written out for a family's own submission too: the wire form is the contract's dump, defaults included.
        data.update(acted_by_agent=on_behalf is not None, agent_reason=on_behalf and on_behalf.reason,
                    agent_subject=on_behalf and on_behalf.agent_subject)
        shape = (on_behalf is None, hold.kind, child.school is None, household.quotient_tranche is None,
                 household.quotient_justified_on is None, household.arrondissement is None,
                 bool(submission.keep_with_applications), arrival_number is None)
        if shape not in self._checked:
            errors = self.schema.validate(data)
            if errors:
                raise EventError(f"application.submitted data does not match its contract: {errors}")
            self._checked.add(shape)
        return Event(type="application.submitted", source=SOURCE, subject=f"applications/{application_id}",
                     data=data, schemaversion=self.version)


class HouseholdUnsettled(Exception):
    """The household changed under every try of this submission: nothing was kept, the parent may retry."""


class IntakeSaturated(Exception):
    """This process already serves as many submissions as it holds: nothing was done or recorded (shed)."""

    def __init__(self, retry_after: int):
        super().__init__(f"intake saturated; retry in {retry_after} s")
        self.retry_after = retry_after


class InFlight:
    """Load shedding: at most `limit` submissions served at once by this process (0: no bound of its own, the
    worker's threads bound it); beyond, a request is refused at once (503, nothing recorded) rather than left to
    queue behind the others for seconds. With more gunicorn threads than `limit`, the requests beyond it get a
    thread and a quick refusal instead of waiting for one. The bound comes from measurement (docs/PERFORMANCE.md,
    "Load shedding"); a broker that stops answering fills it with requests waiting for their acknowledgement, so
    the others are refused at once too."""

    def __init__(self, limit: int, retry_after_seconds: int = 2):
        self.limit = limit
        self.retry_after = retry_after_seconds
        self._serving = 0
        self._lock = threading.Lock()

    def enter(self) -> None:
        with self._lock:
            if self.limit and self._serving >= self.limit:
                raise IntakeSaturated(self.retry_after)
            self._serving += 1

    def leave(self) -> None:
        with self._lock:
            self._serving -= 1

    @property
    def serving(self) -> int:
        return self._serving


# Tries of one submission whose household copy proved stale each time (a parent editing in another tab).
HOUSEHOLD_TRIES = 3


@dataclass
class Intake:
    campaigns: CampaignDirectory
    households: HouseholdSource
    gate: IntakeGate
    producer: Callable[[], Producer]
    clock: Clock = utc_now
    broker_timeout_seconds: float = 5.0
    events: SubmittedEvents = field(default_factory=SubmittedEvents)
    in_flight: InFlight = field(default_factory=lambda: InFlight(limit=0))

    def __post_init__(self):
        self.memory = HouseholdMemory(self.households)

    def submit(self, family_account: str, submission: Submission, entry: Entry,
               on_behalf: OnBehalf | None = None) -> Acknowledgement:
        """Raises the refusals; `entry` records what was claimed, and the pending marker to write with the answer.
        `on_behalf`: an agent applies for the family, held to the same rules; the record says who and why."""
        campaign = self.campaigns.get(submission.campaign_id)
        if campaign is None:
            raise UnknownCampaign(submission.campaign_id)
        now = self.clock()
        check_window(campaign, now)
        known = self.memory.get(family_account)
        fresh_id = uuid.uuid4()
        for _ in range(HOUSEHOLD_TRIES):
            if known is None:
                raise HouseholdIncomplete("child_id", "Declare your household and children before applying.")
            household = known.household
            child = next((c for c in household.children if c.child_id == submission.child_id), None)
            if child is None:
                raise HouseholdIncomplete("child_id", "This child is not in your household.")
            check_choices(campaign, child.birth_date, submission.choices, submission.sworn_statement)
            if len(submission.keep_with_applications) >= len(household.children):
                raise SubmissionRefused("keep_with_applications", "A child is kept with at most the other children "
                                        "of the household.", "too-many-siblings")
            entered = self.gate.enter(entry, known.digest, family_account, campaign, child.child_id,
                                      submission.choices, fresh_id)
            if not isinstance(entered, HouseholdChanged):
                break
            known = self.memory.replace(family_account, entered.document)
        else:
            raise HouseholdUnsettled()

        application_id, hold = entered.application_id, entered.hold
        try:
            event = self.events.submitted(application_id, campaign.campaign_id, family_account, child, household,
                                          submission, now, hold, on_behalf, entered.arrival_number)
            producer = self.producer()
            sending_with = producer.current
            # Keyed by family: the ledger's consumers share one campaign's records, and a family's records (the
            # same child's, the same Idempotency-Key's) stay in one partition, in order (shared/topics.py).
            delivery = producer.send_event(APPLICATION_SUBMISSIONS.name, family_account, event)
        except Exception as exc:
            # The record never left this process: give the hold back, whatever stopped it. Its arrival number
            # stays a hole: the draw reads ranks, not numbers (docs/registrations.md, "Arrival order").
            self.gate.give_back(entry, campaign.campaign_id, child.child_id, hold)
            if isinstance(exc, _RECORD_REFUSED):
                raise record_too_large(submission) from exc
            if isinstance(exc, KafkaError):
                raise BrokerUnavailable() from exc
            raise
        try:
            delivery.get(timeout=self.broker_timeout_seconds)
        except (KafkaError, TimeoutError) as exc:
            # Sent but unconfirmed: the broker may still write it. The hold stays; the parent's retry with the
            # same key is the same application, sent again (the ledger keeps one) and answered 202.
            self._replace_producer(producer, sending_with)
            raise BrokerUnavailable() from exc
        entry.pending = event.data  # written with the key's answer, one round trip (IntakeGate.acknowledged)
        return Acknowledgement(application_id, campaign.campaign_id, now, hold)

    @staticmethod
    def _replace_producer(producer: Producer, failed) -> None:
        try:
            producer.reset(failed)
        except KafkaError:
            log.warning("producer not replaced: the broker is still away")
