"""The draw's COPY writes what an insert would: every value read back as given, escapes and NULLs included; COPYs
queued in order (a draw's parts) are stored in that order, and a failure on either side is raised."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

import pytest
from psycopg.errors import UniqueViolation
from psycopg.pq import TransactionStatus
from sqlalchemy import Text, select

from services.allocation.store import decision_writer
from services.allocation.store.bulk_copy import (
    NULL,
    ROWS_PER_WRITE,
    DirectCopies,
    copies_in_order,
    copy_json,
    copy_rows,
)
from services.allocation.store.tables import (
    allocation_runs,
    decisions,
    offer_cutoffs,
    outbox,
    places,
    waitlist_entries,
)
from services.allocation.usecases import draws
from services.allocation.usecases.draws import DRAW_WORKER, lock_drawable, publish_locked
from shared.outbox import outbox_envelopes
from tests.support.allocation import a_campaign, an_application, an_offer

AT = datetime(2026, 3, 1, 12, 30, 15, 250_000, tzinfo=UTC)
AWKWARD = "tab\there, new\nline, return\r, back\\slash, \\N, é, 🎈"


def test_text_json_uuids_and_nulls_come_back_as_given(allocation):
    run, campaign = uuid.uuid4(), uuid.uuid4()
    # A UUID as itself and as its text, the same objects row after row, and a NULL among them.
    decided = [dict(application_id=str(uuid.uuid4()) if number % 2 else uuid.uuid4(), run_id=run, campaign_id=campaign,
                    outcome="waitlisted", offer_id=None if number == 1 else uuid.uuid4(),
                    waitlist=[{"offer_id": AWKWARD, "position": number}], reasons=[],
                    explanation={"quoted": 'a "quote" and \\ a backslash', "tab": "\t", "n": number, "none": None,
                                 number: "a key that is not text, written as json.dumps writes it"},
                    decided_at=AT) for number in range(3)]
    events = [dict(event_id=f"event-{number}", event_type="allocation.decided", topic="allocation",
                   message_key=AWKWARD if number else "plain", envelope={"data": AWKWARD, "n": number},
                   created_at=AT, published_at=None) for number in range(3)]
    with allocation.engine.connect() as connection:
        copy_rows(connection, decisions, decided)
        copy_rows(connection, outbox, events)
        stored = connection.execute(select(decisions).where(decisions.c.run_id == run)).mappings().all()
        announced = connection.execute(select(outbox).where(outbox.c.event_id.in_([e["event_id"] for e in events]))
                                       .order_by(outbox.c.event_id)).mappings().all()
        connection.rollback()
    by_id = {str(row["application_id"]): row for row in stored}
    assert len(by_id) == 3
    for given in decided:
        row = by_id[str(given["application_id"])]
        assert row["offer_id"] == given["offer_id"]
        assert (row["waitlist"], row["explanation"], row["decided_at"]) == (
            given["waitlist"], json.loads(json.dumps(given["explanation"])), AT)
    assert [(row["message_key"], row["envelope"], row["published_at"]) for row in announced] == [
        (given["message_key"], given["envelope"], None) for given in events]


def test_lines_written_as_copy_text_come_back_as_copy_rows_stores_them(allocation):
    """A draw's decisions go as lines made by the writer (`copy_lines`), not formatted value by value: the same rows,
    waited for (`DirectCopies`) or queued, across several writes."""
    run, campaign = uuid.uuid4(), uuid.uuid4()
    documents = [{"quoted": 'a "quote" and \\ a backslash', "awkward": AWKWARD, "n": number} for number in range(3)]
    decided = [dict(application_id=uuid.uuid4(), run_id=run, campaign_id=campaign, outcome="waitlisted",
                    offer_id=None if number % 2 else uuid.uuid4(), waitlist=[], reasons=[{"code": AWKWARD}],
                    explanation=documents[number % 3], decided_at=AT) for number in range(2 * ROWS_PER_WRITE + 3)]
    columns = list(decided[0])
    lines = [f"{row['application_id']}\t{run}\t{campaign}\twaitlisted\t{NULL if row['offer_id'] is None else row['offer_id']}"
             f"\t[]\t{copy_json(row['reasons'])}\t{copy_json(row['explanation'])}\t{AT}\n" for row in decided]
    stored = {}
    with allocation.engine.connect() as connection:
        for way in ("rows", "direct", "queued"):
            transaction = connection.begin()
            if way == "rows":
                copy_rows(connection, decisions, decided)
            elif way == "direct":
                DirectCopies(connection).copy_lines(decisions, columns, iter(lines))
            else:
                with copies_in_order(connection) as copies:
                    copies.copy_lines(decisions, columns, iter(lines))
                    copies.copy_lines(decisions, columns, [])  # nothing to store: no COPY
            stored[way] = connection.execute(select(decisions).where(decisions.c.run_id == run)
                                             .order_by(decisions.c.application_id)).all()
            transaction.rollback()
    assert len(stored["rows"]) == len(decided)
    assert stored["direct"] == stored["rows"] and stored["queued"] == stored["rows"]


def test_copies_in_order_store_each_copy_in_the_order_asked_while_the_block_goes_on(allocation):
    events = [dict(event_id=f"ordered-{uuid.uuid4()}", event_type="allocation.decided", topic="allocation",
                   message_key="k", envelope={"n": number}) for number in range(7)]
    with allocation.engine.connect() as connection:
        with copies_in_order(connection) as copies:
            for start in (0, 3, 5):  # three COPYs into one table, queued before the first is stored
                copies.copy(outbox, events[start:start + (3 if start == 0 else 2)])
            copies.copy(decisions, [])  # nothing to store: no COPY
        stored = connection.execute(select(outbox.c.envelope).where(outbox.c.event_id.in_(
            [event["event_id"] for event in events])).order_by(outbox.c.position)).scalars().all()
        connection.rollback()
    assert [envelope["n"] for envelope in stored] == list(range(7))


def test_a_copy_that_fails_raises_when_the_block_is_left(allocation):
    event = dict(event_id=f"twice-{uuid.uuid4()}", event_type="allocation.decided", topic="allocation",
                 message_key="k", envelope={})
    with allocation.engine.connect() as connection:
        with pytest.raises(UniqueViolation):
            with copies_in_order(connection) as copies:
                copies.copy(outbox, [event])
                copies.copy(outbox, [event])  # the same event id again
                copies.copy(outbox, [dict(event, event_id=f"after-{uuid.uuid4()}")])
        connection.rollback()


def test_a_block_that_fails_while_rows_are_made_cancels_the_copy_and_raises_its_own_error(allocation):
    class Broken(Exception):
        pass

    def rows():
        for number in range(3 * ROWS_PER_WRITE):
            if number == ROWS_PER_WRITE + 1:
                raise Broken()
            yield dict(event_id=f"broken-{uuid.uuid4()}", event_type="allocation.decided", topic="allocation",
                       message_key="k", envelope={"n": number})
    with allocation.engine.connect() as connection:
        transaction = connection.begin()
        with pytest.raises(Broken):
            with copies_in_order(connection) as copies:
                copies.copy(outbox, rows())
        # The COPY was cancelled, not ended with the rows sent so far: the transaction can only roll back.
        assert connection.connection.driver_connection.info.transaction_status == TransactionStatus.INERROR
        transaction.rollback()


def test_a_draw_written_in_parts_stores_what_a_draw_in_one_part_stores(allocation, monkeypatch):
    """Decisions, places, waitlist entries, events (in order), cutoffs and the run: the same rows whatever the
    parts (a draw rolled back after each way, with the same run id)."""
    campaign = allocation.publish(a_campaign(offers=[an_offer(capacity=2, waitlist_limit=3),
                                                     an_offer(capacity=1, waitlist_limit=2)]))
    allocation.open(campaign)
    allocation.receive(*[an_application(campaign, *campaign["offers"][::1 - 2 * (n % 2)], arrival=n)
                         for n in range(9)])
    allocation.close(campaign)
    run_id, stored = uuid.uuid4(), {}
    monkeypatch.setattr(draws.uuid, "uuid4", lambda: run_id)
    for parts in (decision_writer.DECISIONS_PER_PART, 2):
        monkeypatch.setattr(decision_writer, "DECISIONS_PER_PART", parts)
        with allocation.engine.connect() as connection:
            transaction = connection.begin()
            publish_locked(connection, lock_drawable(connection, campaign["campaign_id"]), allocation.clock(),
                           actor=DRAW_WORKER)
            stored[parts] = (
                connection.execute(select(decisions).order_by(decisions.c.application_id)).all(),
                [row[1:] for row in connection.execute(select(places).order_by(places.c.place_id))],
                connection.execute(select(waitlist_entries).order_by(waitlist_entries.c.offer_id,
                                                                     waitlist_entries.c.position)).all(),
                outbox_envelopes(connection, outbox, "allocation.decided"),
                connection.execute(select(offer_cutoffs).order_by(offer_cutoffs.c.offer_id)).all(),
                connection.execute(select(allocation_runs.c.bundle.cast(Text), allocation_runs.c.statistics)).all())
            transaction.rollback()
    one_part, in_parts = stored.values()
    assert len(one_part[0]) == 9 and len(one_part[1]) == 3 and one_part[2] and len(one_part[3]) == 9
    assert in_parts == one_part
