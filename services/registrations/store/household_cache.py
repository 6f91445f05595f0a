"""Households as intake reads them at the opening surge: from Redis, Postgres only on a miss.

One JSON document per family at `reg:household:{family_account}`, read with one GET. Writes keep
it current: after each commit the API writes the new document through; if that fails the key is
deleted so the next read refills it from Postgres. A document never replaces a newer one (a Lua
script compares versions), so a slow read-through cannot put back what a write just replaced.

Intake also keeps the households it read in process memory (`HouseholdMemory`), each with the SHA-1 of
the Redis document it came from. A copy in memory is never trusted alone: intake's one Redis script
(store/intake_gate.py) compares that digest with the document's before it admits the submission, and
answers with the current document when they differ. A parent who edits a child and submits the next
second is checked against the edit, whichever process serves the submission.
"""
from __future__ import annotations

import hashlib
import json
import logging
import threading
from collections import OrderedDict
from dataclasses import asdict, dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import redis
from sqlalchemy import Engine

from services.registrations.domain.facts import FactValidation
from services.registrations.domain.household import Child, Household, Language, PostalAddress
from services.registrations.store.households import load_household

# Only bounds how long an entry can outlive a Redis failure during a write; writes keep entries current.
DEFAULT_TTL_SECONDS = 6 * 3600
log = logging.getLogger(__name__)

_SET_UNLESS_NEWER_STORED = """
local stored = redis.call('GET', KEYS[1])
if stored then
  local readable, document = pcall(cjson.decode, stored)
  if readable and tonumber(document['version']) > tonumber(ARGV[2]) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'EX', ARGV[3])
return 1
"""


def cache_key(family_account: str) -> str:
    return f"reg:household:{family_account}"


class HouseholdReader:
    def __init__(self, engine: Engine, client: redis.Redis, ttl_seconds: int = DEFAULT_TTL_SECONDS):
        self.engine = engine
        self.redis = client
        self.ttl_seconds = ttl_seconds
        self._set_unless_newer_stored = client.register_script(_SET_UNLESS_NEWER_STORED)

    def get(self, family_account: str) -> Household | None:
        known = self.get_with_digest(family_account)
        return None if known is None else known.household

    def write_through(self, household: Household) -> None:
        """Call after the transaction that stored `household` committed."""
        try:
            self._store(household)
        except redis.RedisError:
            self._forget(household.family_account)

    def get_with_digest(self, family_account: str) -> KnownHousehold | None:
        """As `get`, with the digest of the Redis document read (after a miss, of the document written)."""
        raw = self._raw(family_account)
        household = None if raw is None else self._parsed(family_account, raw)
        if household is not None:
            return KnownHousehold(household, document_digest(raw))
        with self.engine.connect() as connection:
            household = load_household(connection, family_account)
        if household is None:
            return None
        try:
            return KnownHousehold(household, document_digest(self._store(household)))
        except redis.RedisError:
            log.warning("household not cached after a read", extra={"family_account": family_account})
            return KnownHousehold(household, "")

    def known_from(self, family_account: str, raw: str | bytes) -> KnownHousehold | None:
        """The household of a Redis document another read returned (intake's script), or None if unreadable."""
        household = self._parsed(family_account, raw)
        return None if household is None else KnownHousehold(household, document_digest(raw))

    def _raw(self, family_account: str) -> str | bytes | None:
        try:
            return self.redis.get(cache_key(family_account))
        except redis.RedisError:
            # Postgres still has the truth: a parent's page keeps working while Redis is away.
            log.warning("household cache unreachable", extra={"family_account": family_account})
            return None

    @staticmethod
    def _parsed(family_account: str, raw: str | bytes) -> Household | None:
        try:
            return household_from_document(json.loads(raw))
        except (ValueError, KeyError, TypeError):
            # Written by another release's format: read Postgres, and the refill replaces it.
            log.warning("household cache entry unreadable", extra={"family_account": family_account})
            return None

    def _store(self, household: Household) -> str:
        document = json.dumps(household_document(household))
        self._set_unless_newer_stored(keys=[cache_key(household.family_account)],
                                      args=[document, household.version, self.ttl_seconds])
        return document

    def _forget(self, family_account: str) -> None:
        try:
            self.redis.delete(cache_key(family_account))
        except redis.RedisError:
            log.error("stale household cache entry could not be deleted; it expires within the TTL",
                      extra={"family_account": family_account, "ttl_seconds": self.ttl_seconds})


def document_digest(raw: str | bytes) -> str:
    """SHA-1 of a Redis document, as Lua's redis.sha1hex computes it on the stored bytes."""
    return hashlib.sha1(raw.encode() if isinstance(raw, str) else raw).hexdigest()


@dataclass(frozen=True)
class KnownHousehold:
    household: Household
    digest: str  # of the Redis document it was read from; "" when none could be written


class HouseholdMemory:
    """The households this process read for intake, most recent first, at most `size` of them. Only intake's
    script decides whether a copy is still current (its digest against the Redis document's)."""

    def __init__(self, reader: Any, size: int = 20_000):  # a HouseholdReader, or what reads like one
        self.reader = reader
        self.size = size
        self._known: OrderedDict[str, KnownHousehold] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, family_account: str) -> KnownHousehold | None:
        with self._lock:
            known = self._known.get(family_account)
            if known is not None:
                self._known.move_to_end(family_account)
                return known
        return self._keep(family_account, self.reader.get_with_digest(family_account))

    def replace(self, family_account: str, raw: str | bytes | None) -> KnownHousehold | None:
        """The copy was stale: keep the document the script returned (None: it was gone, read it again)."""
        known = self.reader.known_from(family_account, raw) if raw is not None else None
        return self._keep(family_account, known or self.reader.get_with_digest(family_account))

    def _keep(self, family_account: str, known: KnownHousehold | None) -> KnownHousehold | None:
        with self._lock:
            if known is None:
                self._known.pop(family_account, None)
                return None
            self._known[family_account] = known
            self._known.move_to_end(family_account)
            while len(self._known) > self.size:
                self._known.popitem(last=False)
        return known


def household_document(household: Household) -> dict[str, Any]:
    return {
        "family_account": household.family_account,
        "single_parent": household.single_parent,
        "quotient_tranche": household.quotient_tranche,
        "quotient_justified_on": _iso(household.quotient_justified_on),
        "arrondissement": household.arrondissement,
        "postal_mail": household.postal_mail,
        "postal_address": None if household.postal_address is None else asdict(household.postal_address),
        "email": household.email,
        "language": household.language.value,
        "children": [{
            "child_id": str(child.child_id),
            "first_name": child.first_name,
            "last_name": child.last_name,
            "birth_date": child.birth_date.isoformat(),
            "school": child.school,
            "school_arrondissement": child.school_arrondissement,
            "disability_allowance": child.disability_allowance,
        } for child in household.children],
        "version": household.version,
        "validations": [{
            "fact": validation.fact, "child_id": None if validation.child_id is None else str(validation.child_id),
            "value": validation.value, "effective_from": validation.effective_from.isoformat(),
            "validated_at": validation.validated_at.isoformat(), "validated_by": validation.validated_by,
            "document_id": str(validation.document_id),
        } for validation in household.validations],
    }


def household_from_document(document: dict[str, Any]) -> Household:
    return Household(
        family_account=document["family_account"],
        single_parent=document["single_parent"],
        quotient_tranche=document["quotient_tranche"],
        quotient_justified_on=_date(document["quotient_justified_on"]),
        arrondissement=document["arrondissement"],
        postal_mail=document["postal_mail"],
        postal_address=None if document.get("postal_address") is None else PostalAddress(**document["postal_address"]),
        email=document["email"],
        language=Language(document["language"]),
        children=tuple(Child(
            child_id=UUID(child["child_id"]),
            first_name=child["first_name"],
            last_name=child["last_name"],
            birth_date=date.fromisoformat(child["birth_date"]),
            school=child["school"],
            school_arrondissement=child["school_arrondissement"],
            disability_allowance=child["disability_allowance"],
        ) for child in document["children"]),
        version=document["version"],
        # Absent from the documents of releases before validated facts: none then.
        validations=tuple(FactValidation(
            fact=validation["fact"], child_id=None if validation["child_id"] is None else UUID(validation["child_id"]),
            value=validation["value"], effective_from=date.fromisoformat(validation["effective_from"]),
            validated_at=datetime.fromisoformat(validation["validated_at"]), validated_by=validation["validated_by"],
            document_id=UUID(validation["document_id"]),
        ) for validation in document.get("validations", ())),
    )


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day is not None else None


def _date(text: str | None) -> date | None:
    return date.fromisoformat(text) if text is not None else None
