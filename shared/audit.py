"""The audit trail (issue 16, item 3): who changed what, written in the transaction of the change.

An entry says who (the principal's subject and role), on whose behalf (a family an agent acts for, or
nobody), what (an action on a target: type and id), the changed fields before → after, the request id
and the time. Entries form chains, one per target a reader asks about (`campaign:<id>`): each carries
its position in the chain, the SHA-256 hash of the entry before it, and its own hash over that previous
hash and its canonical content, as certificate-transparency logs chain their leaves. Changing a stored
entry changes its hash, deleting one breaks the next entry's link, and a one-row head per chain (its
last position and hash) shows a truncated tail: `verify_chain` names the first broken entry.

The SQL side is SQLAlchemy Core like `shared.outbox`: a service declares `audit_table(metadata)` and
`audit_head_table(metadata)` in its `store/tables.py` (and a migration), and its use cases call
`record_entry(connection, tables, actor, ...)` inside their own transaction. The chain's head row is
locked (an upsert's row lock, as `SELECT ... FOR UPDATE` would) for the rest of that transaction, so two writers of one chain take
turns and never fork it; a rolled-back change leaves no entry.
"""
from __future__ import annotations

import dataclasses
import decimal
import enum
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import Any

from sqlalchemy import (
    BigInteger,
    Column,
    Connection,
    DateTime,
    Index,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    delete,
    func,
    select,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from shared.db import insert_json_rows, json_rows, service_metadata

GENESIS_HASH = "0" * 64


@dataclass(frozen=True)
class Actor:
    """Who makes a change: a principal (subject and role) from the web layer, or a worker (`system:<worker>`).
    `on_behalf_of` is the family an agent acts for; `request_id` the HTTP request's id (X-Request-ID)."""
    subject: str
    role: str
    on_behalf_of: str | None = None
    request_id: str | None = None

    @classmethod
    def system(cls, worker: str) -> Actor:
        return cls(subject=f"system:{worker}", role="system")


@dataclass(frozen=True)
class AuditEntry:
    chain: str
    seq: int
    occurred_at: datetime
    actor_subject: str
    actor_role: str
    on_behalf_of: str | None
    action: str
    target_type: str
    target_id: str
    changes: Mapping[str, Any]
    request_id: str | None
    previous_hash: str
    hash: str = field(default="")

    def content(self) -> dict[str, Any]:
        """What the hash covers: every field but the hashes themselves."""
        return {
            "chain": self.chain, "seq": self.seq, "occurred_at": _instant(self.occurred_at),
            "actor_subject": self.actor_subject, "actor_role": self.actor_role, "on_behalf_of": self.on_behalf_of,
            "action": self.action, "target_type": self.target_type, "target_id": self.target_id,
            "changes": self.changes, "request_id": self.request_id,
        }

    def computed_hash(self) -> str:
        return entry_hash(self.previous_hash, self.content())


@dataclass(frozen=True)
class ChainHead:
    seq: int
    hash: str


@dataclass(frozen=True)
class ChainReport:
    chain: str
    checked: int
    broken_seq: int | None = None  # the first broken entry's position (or where a missing one should be)
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.broken_seq is None

    def describe(self) -> str:
        if self.ok:
            return f"OK {self.chain}: {self.checked} entries"
        return f"BROKEN {self.chain}: entry {self.broken_seq}: {self.reason}"


# --- the chain, plain Python -------------------------------------------------------------------------------

# json.dumps builds an encoder for each call given options; one built once writes the same text.
_CANONICAL_ENCODER = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_json(value: Any) -> str:
    """One text per value: sorted keys, no spaces, UTF-8 kept (what is hashed)."""
    return _CANONICAL_ENCODER.encode(value)


def entry_hash(previous_hash: str, content: Mapping[str, Any]) -> str:
    return hashlib.sha256(f"{previous_hash}\n{canonical_json(content)}".encode()).hexdigest()


def json_safe(value: Any) -> Any:
    """Domain values as JSON (what JSONB keeps and gives back unchanged): instants in UTC ISO 8601, dates ISO,
    durations in seconds, enums by value, tuples and sets as lists, dataclasses as objects."""
    kind = type(value)
    # The plain types first, by exact type (a subclass such as an enum goes the long way): a worker's batch of
    # entries makes tens of calls per entry, and the abstract-class checks below cost most of each.
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is dict:
        return {str(key): json_safe(item) for key, item in value.items()}
    if kind is list or kind is tuple:
        return [json_safe(item) for item in value]
    if kind is uuid.UUID:
        return str(value)
    if isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return int(value) if value.is_integer() else value  # JSONB gives 1.0 back as 1
    if isinstance(value, enum.Enum):
        return json_safe(value.value)
    if isinstance(value, datetime):
        return _instant(value)
    if isinstance(value, date | time):
        return value.isoformat()
    if isinstance(value, timedelta):
        return json_safe(value.total_seconds())
    if isinstance(value, decimal.Decimal | uuid.UUID):
        return str(value)
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: json_safe(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, Mapping):
        return {str(key): json_safe(item) for key, item in value.items()}
    if isinstance(value, set | frozenset):
        return sorted((json_safe(item) for item in value), key=canonical_json)
    if isinstance(value, Iterable):
        return [json_safe(item) for item in value]
    return str(value)


class ChangedFields(dict[str, Any]):
    """`changed_fields`' answer: JSON already (a value set in it afterwards is made so as it is set), so the entry
    that carries it takes it as it is instead of walking it once more (`next_entry`)."""

    def __setitem__(self, key: Any, value: Any) -> None:
        super().__setitem__(str(key), json_safe(value))

    def update(self, *others: Any, **more: Any) -> None:
        for key, value in dict(*others, **more).items():
            self[key] = value

    def setdefault(self, key: Any, default: Any = None) -> Any:
        if str(key) not in self:
            self[key] = default
        return self[str(key)]

    def __ior__(self, other: Any) -> ChangedFields:  # type: ignore[override,misc]
        self.update(other)
        return self


def changed_fields(before: Mapping[str, Any] | None, after: Mapping[str, Any] | None) -> ChangedFields:
    """{field: {"before": old, "after": new}} for each field that differs, nested objects flattened with dots
    (`offers.<id>.capacity`); a created target has every field with before null, a removed one after null."""
    flat_before: dict[str, Any] = {}
    flat_after: dict[str, Any] = {}
    _flatten_json_safe(before or {}, "", flat_before)
    _flatten_json_safe(after or {}, "", flat_after)
    return ChangedFields({name: {"before": flat_before.get(name), "after": flat_after.get(name)}
                          for name in sorted(flat_before.keys() | flat_after.keys())
                          if flat_before.get(name) != flat_after.get(name)})


_TEXT_ONLY = {str}


def _flatten_json_safe(value: Any, prefix: str, into: dict[str, Any]) -> None:
    """`_flatten(json_safe(value), prefix)` added to `into`, walking a plain dict once: its fields are flattened as
    they are made JSON. Anything else (a dataclass, another mapping, a dict with keys that are not text, whose texts
    could collide) goes the two-step way, each step walking only that part."""
    if type(value) is dict and {*map(type, value)} <= _TEXT_ONLY:
        if not value and prefix:
            into[prefix[:-1]] = {}  # an empty nested object is a value of its own, as `_flatten` keeps it
            return
        for key, item in value.items():
            kind = type(item)
            if kind is str or kind is int or kind is bool or item is None:
                into[prefix + key] = item
            else:
                _flatten_json_safe(item, f"{prefix}{key}.", into)
        return
    safe = json_safe(value)
    if type(safe) is dict:
        into.update(_flatten(safe, prefix))
    else:
        into[prefix[:-1]] = safe


def _flatten(value: Any, prefix: str = "") -> dict[str, Any]:
    if isinstance(value, dict) and (value or not prefix):
        flat: dict[str, Any] = {}
        for key, item in value.items():
            flat.update(_flatten(item, f"{prefix}{key}."))
        return flat
    return {prefix[:-1]: value}


def _instant(value: datetime) -> str:
    if value.tzinfo is None:
        raise ValueError("audit instants are aware (UTC)")
    return value.astimezone(timezone.utc).isoformat(timespec="microseconds")


def next_entry(previous: ChainHead | None, *, chain: str, actor: Actor, action: str, target_type: str,
               target_id: str, changes: Mapping[str, Any], occurred_at: datetime) -> AuditEntry:
    """The entry that follows `previous` (None: the chain's first), with its hash."""
    head = previous or ChainHead(0, GENESIS_HASH)
    instant = _instant(occurred_at)  # refuses a naive instant
    safe_changes = changes if type(changes) is ChangedFields else json_safe(changes)
    seq = head.seq + 1
    target_id = str(target_id)
    # The content as `AuditEntry.content` gives it, made once here for the hash instead of once more from the entry.
    content = {"chain": chain, "seq": seq, "occurred_at": instant, "actor_subject": actor.subject,
               "actor_role": actor.role, "on_behalf_of": actor.on_behalf_of, "action": action,
               "target_type": target_type, "target_id": target_id, "changes": safe_changes,
               "request_id": actor.request_id}
    return AuditEntry(chain=chain, seq=seq, occurred_at=occurred_at.astimezone(timezone.utc),
                      actor_subject=actor.subject, actor_role=actor.role, on_behalf_of=actor.on_behalf_of,
                      action=action, target_type=target_type, target_id=target_id, changes=safe_changes,
                      request_id=actor.request_id, previous_hash=head.hash,
                      hash=entry_hash(head.hash, content))


def verify_chain(chain: str, entries: Sequence[AuditEntry], head: ChainHead | None = None) -> ChainReport:
    """Check a chain's entries, in position order, from its first: each at the next position, linked to the hash
    of the one before, its own hash matching its content; with the chain's head, the last is the one it names.
    The report names the first broken entry (for a deleted one, the position where it is missing)."""
    previous = ChainHead(0, GENESIS_HASH)
    for checked, entry in enumerate(entries):
        if entry.chain != chain:
            return ChainReport(chain, checked, entry.seq, f"belongs to chain {entry.chain!r}")
        if entry.seq != previous.seq + 1:
            return ChainReport(chain, checked, previous.seq + 1,
                               f"missing (the next stored entry is {entry.seq}, after {previous.seq})")
        if entry.previous_hash != previous.hash:
            return ChainReport(chain, checked, entry.seq, "its previous hash is not the hash of the entry before it")
        if entry.hash != entry.computed_hash():
            return ChainReport(chain, checked, entry.seq, "its content does not match its hash (altered)")
        previous = ChainHead(entry.seq, entry.hash)
    if head is not None and (head.seq, head.hash) != (previous.seq, previous.hash):
        if head.seq > previous.seq:
            return ChainReport(chain, len(entries), previous.seq + 1,
                               f"missing (the chain's head names {head.seq} entries, {previous.seq} are stored)")
        return ChainReport(chain, len(entries), previous.seq, "the chain's head names another last entry")
    return ChainReport(chain, len(entries))


# --- the SQL side ------------------------------------------------------------------------------------------

def audit_table(metadata: MetaData) -> Table:
    """Append-only (the migration's trigger refuses UPDATE and DELETE): one row per entry."""
    return Table(
        "audit_entries", metadata,
        Column("chain", String(200), nullable=False),
        Column("seq", BigInteger, nullable=False),
        Column("occurred_at", DateTime(timezone=True), nullable=False),
        Column("actor_subject", Text, nullable=False),
        Column("actor_role", String(40), nullable=False),
        Column("on_behalf_of", Text),
        Column("action", String(80), nullable=False),
        Column("target_type", String(40), nullable=False),
        Column("target_id", String(200), nullable=False),
        Column("changes", JSONB, nullable=False),
        Column("request_id", String(128)),
        Column("previous_hash", String(64), nullable=False),
        Column("hash", String(64), nullable=False),
        PrimaryKeyConstraint("chain", "seq"),
        Index("ix_audit_entries_chain_occurred_at", "chain", "occurred_at"),
    )


def audit_head_table(metadata: MetaData) -> Table:
    """One row per chain: its last position and hash, locked by each writer of the chain."""
    return Table(
        "audit_chain_heads", metadata,
        Column("chain", String(200), primary_key=True),
        Column("seq", BigInteger, nullable=False),
        Column("hash", String(64), nullable=False),
    )


@dataclass(frozen=True)
class AuditTables:
    entries: Table
    heads: Table


# Set for one transaction by `purge_chains` only: the trigger then lets whole chains past their retention go.
PURGE_SETTING = "guichet.audit_purge"


def append_only_trigger_sql(schema: str) -> list[str]:
    """The migration's statements that make `<schema>.audit_entries` append-only: UPDATE and TRUNCATE are always
    refused, DELETE except in a retention purge's transaction (`purge_chains`)."""
    return [
        f"""CREATE OR REPLACE FUNCTION {schema}.audit_entries_append_only() RETURNS trigger
            LANGUAGE plpgsql AS $$
            BEGIN
              IF TG_OP = 'DELETE' AND current_setting('{PURGE_SETTING}', true) = 'on' THEN RETURN NULL; END IF;
              RAISE EXCEPTION 'audit entries are append-only (% refused)', TG_OP;
            END $$""",
        f"""CREATE TRIGGER audit_entries_append_only BEFORE UPDATE OR DELETE OR TRUNCATE
            ON {schema}.audit_entries FOR EACH STATEMENT EXECUTE FUNCTION {schema}.audit_entries_append_only()""",
    ]


def create_audit_trail(bind: Connection, schema: str) -> None:
    """A migration's creation of a service's audit trail: the two tables as declared here (the service's
    `store/tables.py` declares the same) and the append-only trigger."""
    metadata = service_metadata(schema)
    for table in (audit_table(metadata), audit_head_table(metadata)):
        table.create(bind)
    for statement in append_only_trigger_sql(schema):
        bind.execute(text(statement))


def drop_audit_trail_sql(schema: str) -> list[str]:
    """A migration's downgrade of `create_audit_trail`."""
    return [f"DROP TABLE {schema}.audit_chain_heads", f"DROP TABLE {schema}.audit_entries",
            f"DROP FUNCTION IF EXISTS {schema}.audit_entries_append_only()"]


def record_entry(connection: Connection, tables: AuditTables, actor: Actor, *, chain: str, action: str,
                 target_type: str, target_id: str, changes: Mapping[str, Any], occurred_at: datetime) -> AuditEntry:
    """Append one entry to `chain` in the caller's transaction (it exists only if that transaction commits).
    The chain's head stays locked until then: a concurrent writer of the same chain waits, then follows."""
    return record_entries(connection, tables, [PendingEntry(chain, actor, action, target_type, str(target_id), changes,
                                                            occurred_at)])[0]


@dataclass(frozen=True)
class PendingEntry:
    """An entry to append (`record_entries`), before its chain gives it a position and a hash."""
    chain: str
    actor: Actor
    action: str
    target_type: str
    target_id: str
    changes: Mapping[str, Any]
    occurred_at: datetime


def record_entries(connection: Connection, tables: AuditTables, pending: Sequence[PendingEntry]) -> list[AuditEntry]:
    """Append entries, on one chain or many, in the caller's transaction, in three statements whatever their number
    (a worker's batch: the ledger writing a batch of submissions). Each chain's entries follow in `pending`'s order.
    The heads are locked in chain-name order, so two batches never wait on each other crosswise."""
    if not pending:
        return []
    heads = tables.heads
    # One statement creates the heads if missing, locks them (ON CONFLICT DO UPDATE takes the row lock, and waits
    # for a concurrent writer's commit, in the order of the rows given), and reads their latest committed positions
    # and hashes. The chains travel as one array, the entries and heads below as one JSON document each: a
    # multi-row VALUES was compiled anew for each number of chains, and an executemany bound every field of every
    # entry, most of a worker's batch (the ledger writer's: docs/PERFORMANCE.md, issue 19).
    current = {row.chain: ChainHead(row.seq, row.hash) for row in connection.execute(text(f"""
        INSERT INTO {heads.fullname} (chain, seq, hash)
        SELECT c.chain, 0, :genesis FROM unnest(CAST(:chains AS text[])) WITH ORDINALITY AS c(chain, n) ORDER BY c.n
        ON CONFLICT (chain) DO UPDATE SET chain = excluded.chain
        RETURNING chain, seq, hash"""), {"chains": sorted({each.chain for each in pending}), "genesis": GENESIS_HASH})}
    written = []
    for each in pending:
        entry = next_entry(current[each.chain], chain=each.chain, actor=each.actor, action=each.action,
                           target_type=each.target_type, target_id=each.target_id, changes=each.changes,
                           occurred_at=each.occurred_at)
        current[each.chain] = ChainHead(entry.seq, entry.hash)
        written.append(entry)
    insert_json_rows(connection, tables.entries, [_row(entry) for entry in written])
    connection.execute(text(f"""
        UPDATE {heads.fullname} AS h SET seq = v.seq, hash = v.hash
        FROM jsonb_to_recordset(CAST(:moved AS jsonb)) AS v(chain text, seq bigint, hash text)
        WHERE h.chain = v.chain"""), {"moved": json_rows({"chain": chain, "seq": head.seq, "hash": head.hash}
                                                          for chain, head in current.items())})
    return written


def _row(entry: AuditEntry) -> dict[str, Any]:
    return dict(vars(entry))  # its fields (a plain dataclass: no slots, nothing else in its __dict__)


def entry_from_row(row: Any) -> AuditEntry:
    values = dict(row._mapping)
    return AuditEntry(**{f.name: values[f.name] for f in dataclasses.fields(AuditEntry)})


def read_entries(connection: Connection, tables: AuditTables, chain: str, *, since: datetime | None = None,
                 until: datetime | None = None, actor: str | None = None,
                 target_types: Sequence[str] | None = None, newest_first: bool = False,
                 before_seq: int | None = None, limit: int | None = None) -> list[AuditEntry]:
    """A chain's entries in order (newest first when asked), optionally from `since` (inclusive) to `until`
    (exclusive), by one actor, on some target types, before position `before_seq`, at most `limit`: a page of a
    history walks the chain's primary key backwards."""
    entries = tables.entries
    query = (select(entries).where(entries.c.chain == chain)
             .order_by(entries.c.seq.desc() if newest_first else entries.c.seq))
    if since is not None:
        query = query.where(entries.c.occurred_at >= since)
    if until is not None:
        query = query.where(entries.c.occurred_at < until)
    if actor is not None:
        query = query.where(entries.c.actor_subject == actor)
    if target_types is not None:
        query = query.where(entries.c.target_type.in_(list(target_types)))
    if before_seq is not None:
        query = query.where(entries.c.seq < before_seq)
    if limit is not None:
        query = query.limit(limit)
    return [entry_from_row(row) for row in connection.execute(query)]


def check_chains(connection: Connection, tables: AuditTables, chain: str | None = None) -> list[ChainReport]:
    """Every chain of a service (or one), read from its tables and checked; a chain whose head names entries
    that are all gone is reported too."""
    heads = {row.chain: ChainHead(row.seq, row.hash) for row in connection.execute(
        select(tables.heads).where(tables.heads.c.chain == chain) if chain else select(tables.heads))}
    stored = connection.execute(
        select(tables.entries.c.chain).distinct().where(tables.entries.c.chain == chain) if chain
        else select(tables.entries.c.chain).distinct()).scalars()
    names = sorted(heads.keys() | set(stored))
    return [verify_chain(name, read_entries(connection, tables, name), heads.get(name)) for name in names]


CSV_COLUMNS = ("seq", "occurred_at", "actor_subject", "actor_role", "on_behalf_of", "action", "target_type",
               "target_id", "changes", "request_id", "previous_hash", "hash")


def entry_view(entry: AuditEntry) -> dict[str, Any]:
    """An entry as the read APIs answer it (JSON), and as a CSV row (changes as canonical JSON)."""
    return {"chain": entry.chain, "seq": entry.seq, "occurred_at": entry.occurred_at,
            "actor": {"subject": entry.actor_subject, "role": entry.actor_role},
            "on_behalf_of": entry.on_behalf_of, "action": entry.action,
            "target": {"type": entry.target_type, "id": entry.target_id}, "changes": dict(entry.changes),
            "request_id": entry.request_id, "previous_hash": entry.previous_hash, "hash": entry.hash}


def csv_row(entry: AuditEntry) -> list[str]:
    values = {**_row(entry), "occurred_at": _instant(entry.occurred_at), "changes": canonical_json(entry.changes)}
    return ["" if values[name] is None else str(values[name]) for name in CSV_COLUMNS]


def chains_idle_since(connection: Connection, tables: AuditTables, before: datetime) -> list[str]:
    """The chains whose last entry is older than `before` (a retention period counted from a chain's last use)."""
    entries = tables.entries
    return list(connection.execute(select(entries.c.chain).group_by(entries.c.chain)
                                   .having(func.max(entries.c.occurred_at) < before)).scalars())


def purge_chains(connection: Connection, tables: AuditTables, chains: Sequence[str]) -> int:
    """Retention (docs/privacy.md): delete whole chains (entries and head) past their period, in the caller's
    transaction; never part of a chain, so every chain kept stays checkable from its first entry."""
    if not chains:
        return 0
    connection.execute(select(func.set_config(PURGE_SETTING, "on", True)))
    deleted = connection.execute(delete(tables.entries).where(tables.entries.c.chain.in_(chains))).rowcount
    connection.execute(delete(tables.heads).where(tables.heads.c.chain.in_(chains)))
    connection.execute(select(func.set_config(PURGE_SETTING, "off", True)))
    return deleted
