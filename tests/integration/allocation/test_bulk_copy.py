"""The draw's COPY writes what an insert would: every value read back as given, escapes and NULLs included."""
from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime

from sqlalchemy import select

from services.allocation.store.bulk_copy import copy_rows
from services.allocation.store.tables import decisions, outbox

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
