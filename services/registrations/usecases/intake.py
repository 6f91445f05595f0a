"""Submitting an application: the surge path.

Validation, idempotency, rate limit and holds run against Redis and cached campaign terms; the
application is then produced to Kafka, and only once the broker acknowledged it (acks=all) does
the parent get a 202. No database write happens here: the intake consumer writes the ledger.
"""
from __future__ import annotations

import hashlib
import json
import logging
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID

import redis
from kafka.errors import KafkaError, MessageSizeTooLargeError, RecordListTooLargeError

from services.registrations.domain.applications import check_choices, check_window
from services.registrations.domain.household import Child, Household
from services.registrations.store.campaign_directory import CampaignDirectory
from services.registrations.store.events import SOURCE
from services.registrations.store.intake_guard import Hold, IntakeGuard
from services.registrations.store.pending import PENDING_SECONDS, pending_key
from shared.clock import Clock, utc_now
from shared.events import Event, EventError, contract_for
from shared.kafka import Producer
from shared.topics import APPLICATION_SUBMISSIONS

log = logging.getLogger(__name__)


class HouseholdSource(Protocol):
    def get(self, family_account: str) -> Any: ...


# Application ids are drawn by the server at random (the lottery hashes them: a client choosing its
# Idempotency-Key must not choose its number). The first attempt keeps (family account, key) → id in Redis
# for as long as keys are replayed, so a retry of the same submission is the same application and an answer
# lost between the broker and the parent is settled by retrying.
APPLICATION_ID_SECONDS = 2 * 24 * 3600  # longer than an Idempotency-Key is replayed (shared.idempotency)


def application_id_key(family_account: str, idempotency_key: str) -> str:
    scope = hashlib.sha256(f"{family_account}\n{idempotency_key}".encode()).hexdigest()
    return f"intake:application-id:{scope}"


def application_id_for(client: redis.Redis, family_account: str, idempotency_key: str) -> UUID:
    """A fresh random id for a new key; the id first drawn for it on a retry. One round trip."""
    key = application_id_key(family_account, idempotency_key)
    pipeline = client.pipeline(transaction=True)
    pipeline.set(key, str(uuid.uuid4()), nx=True, ex=APPLICATION_ID_SECONDS)
    pipeline.get(key)
    _, stored = pipeline.execute()
    return UUID(stored.decode() if isinstance(stored, bytes) else stored)


@dataclass(frozen=True)
class Submission:
    idempotency_key: str
    campaign_id: UUID
    child_id: UUID
    choices: list[UUID]
    keep_with_applications: list[UUID]
    sworn_statement: bool


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
                  household: Household, submission: Submission, submitted_at: datetime, hold: Hold) -> Event:
        data = {
            "application_id": str(application_id), "campaign_id": str(campaign_id), "family_account": family_account,
            "child": {"child_id": str(child.child_id), "first_name": child.first_name, "last_name": child.last_name,
                      "birth_date": child.birth_date.isoformat(),
                      "disability_allowance": child.disability_allowance, "school": child.school},
            "household": {"single_parent": household.single_parent, "quotient_tranche": household.quotient_tranche,
                          "quotient_justified_on": None if household.quotient_justified_on is None
                          else household.quotient_justified_on.isoformat(),
                          "residence_arrondissement": household.arrondissement,
                          "postal_mail": household.postal_mail},
            "choices": [str(offer_id) for offer_id in submission.choices],
            "keep_with_applications": [str(other) for other in submission.keep_with_applications],
            "sworn_statement": submission.sworn_statement, "submitted_at": submitted_at.isoformat(),
            "hold": {"kind": hold.kind, "offer_id": None if hold.offer_id is None else str(hold.offer_id),
                     "position": hold.position},
        }
        shape = (hold.kind, child.school is None, household.quotient_tranche is None,
                 household.quotient_justified_on is None, household.arrondissement is None,
                 bool(submission.keep_with_applications))
        if shape not in self._checked:
            errors = self.schema.validate(data)
            if errors:
                raise EventError(f"application.submitted data does not match its contract: {errors}")
            self._checked.add(shape)
        return Event(type="application.submitted", source=SOURCE, subject=f"applications/{application_id}",
                     data=data, schemaversion=self.version)


@dataclass
class Intake:
    campaigns: CampaignDirectory
    households: HouseholdSource
    guard: IntakeGuard
    producer: Callable[[], Producer]
    redis: redis.Redis
    clock: Clock = utc_now
    broker_timeout_seconds: float = 5.0
    events: SubmittedEvents = field(default_factory=SubmittedEvents)

    def submit(self, family_account: str, submission: Submission) -> Acknowledgement:
        campaign = self.campaigns.get(submission.campaign_id)
        if campaign is None:
            raise UnknownCampaign(submission.campaign_id)
        now = self.clock()
        check_window(campaign, now)
        household = self.households.get(family_account)
        if household is None:
            raise HouseholdIncomplete("child_id", "Declare your household and children before applying.")
        child = next((c for c in household.children if c.child_id == submission.child_id), None)
        if child is None:
            raise HouseholdIncomplete("child_id", "This child is not in your household.")
        check_choices(campaign, child.birth_date, submission.choices, submission.sworn_statement)
        if len(submission.keep_with_applications) >= len(household.children):
            raise SubmissionRefused("keep_with_applications", "A child is kept with at most the other children of "
                                    "the household.", "too-many-siblings")

        application_id = application_id_for(self.redis, family_account, submission.idempotency_key)
        hold = self.guard.reserve(campaign, family_account, child.child_id, application_id, submission.choices)
        try:
            event = self.events.submitted(application_id, campaign.campaign_id, family_account, child, household,
                                          submission, now, hold)
            producer = self.producer()
            sending_with = producer.current
            delivery = producer.send_event(APPLICATION_SUBMISSIONS.name, str(campaign.campaign_id), event)
        except Exception as exc:
            # The record never left this process: give the hold back, whatever stopped it.
            self.guard.release(campaign.campaign_id, child.child_id, application_id, hold)
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
        try:
            self.redis.set(pending_key(application_id), json.dumps(event.data), ex=PENDING_SECONDS)
        except redis.RedisError:
            # The application is on the broker: acknowledge it. Its status page shows it once in the ledger.
            log.warning("pending marker not written", extra={"application_id": str(application_id)})
        return Acknowledgement(application_id, campaign.campaign_id, now, hold)

    @staticmethod
    def _replace_producer(producer: Producer, failed) -> None:
        try:
            producer.reset(failed)
        except KafkaError:
            log.warning("producer not replaced: the broker is still away")
