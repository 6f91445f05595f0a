"""A join refused as busy keeps its arrival order with the arrival ticket it was given, against a real Redis: the
family is placed where its first arrival put it (ahead of families who first came after it, drawn with the
pre-queue had it come before the opening), never ahead of a family already admitted, admitted once; a tampered,
foreign, expired or reused ticket is ignored — a fresh join, which the answer names."""
from datetime import UTC, datetime, timedelta

from services.registrations.domain.waiting_room import ARRIVAL_TICKET_TTL, PlaceState, TicketOutcome, ticket
from services.registrations.store.waiting_room import RoomStore
from tests.support.campaigns import MovableClock
from tests.support.waiting_room import room_terms, rooms_on

OPENING = datetime(2026, 2, 4, 23, 1, tzinfo=UTC)


def bearer(family: str) -> str:
    return f"token-of-{family}"


def test_a_refused_family_goes_ahead_of_the_families_who_first_came_after_it(redis_client):
    clock = MovableClock(OPENING + timedelta(minutes=1))
    campaign = room_terms(OPENING, per_minute=6)  # one family every 10 s
    rooms = rooms_on(redis_client, clock, campaign)
    room = campaign.campaign_id
    assert rooms.join("first", room).state is PlaceState.ADMITTED  # an empty room admits at once
    clock.advance(milliseconds=5)
    refused = rooms.refused_arrival(room, bearer("refused"), None)  # the room busy
    for family in ("later", "latest"):
        clock.advance(milliseconds=10)
        rooms.join(family, room)
    clock.advance(seconds=3)  # the refused page asks again
    joined = rooms.join("refused", room, refused, bearer("refused"))
    assert (joined.arrival_ticket, joined.position) == (TicketOutcome.HONOURED, 1)
    assert [rooms.place(f, room).position for f in ("later", "latest")] == [2, 3]
    assert RoomStore(redis_client).queue_order(str(room)) == ["first", "refused", "later", "latest"]

    admitted: dict[str, datetime] = {}
    for _ in range(40):
        clock.advance(seconds=1)
        for family in ("first", "refused", "later", "latest"):
            view = rooms.place(family, room)
            if view.state is PlaceState.ADMITTED:
                assert admitted.setdefault(family, view.admitted_at) == view.admitted_at  # never twice
    assert sorted(admitted, key=admitted.__getitem__) == ["first", "refused", "later", "latest"]


def test_never_ahead_of_a_family_already_admitted_nor_admitted_twice(redis_client):
    clock = MovableClock(OPENING + timedelta(minutes=1))
    campaign = room_terms(OPENING, per_minute=60)
    rooms = rooms_on(redis_client, clock, campaign)
    room = campaign.campaign_id
    refused = rooms.refused_arrival(room, bearer("refused"), None)  # before everyone below
    admitted = []
    for family in ("a", "b"):  # an empty room admits at once (two seconds of pace banked)
        clock.advance(milliseconds=10)
        admitted.append(rooms.join(family, room))
    assert [view.state for view in admitted] == [PlaceState.ADMITTED] * 2
    clock.advance(milliseconds=10)
    assert rooms.join("c", room).position == 1
    clock.advance(milliseconds=10)
    placed = rooms.join("refused", room, refused, bearer("refused"))
    assert (placed.arrival_ticket, placed.position) == (TicketOutcome.HONOURED, 1)
    assert rooms.place("c", room).position == 2
    assert [rooms.place(f, room).admitted_at for f in ("a", "b")] == [v.admitted_at for v in admitted]
    assert RoomStore(redis_client).queue_order(str(room)) == ["a", "b", "refused", "c"]

    # Everyone admitted: a family refused afterwards still goes ahead of the one that came after it.
    clock.advance(seconds=5)
    assert [rooms.place(f, room).state for f in ("refused", "c")] == [PlaceState.ADMITTED] * 2
    late = rooms.refused_arrival(room, bearer("late"), None)
    clock.advance(milliseconds=10)
    assert rooms.join("d", room).state is PlaceState.WAITING
    clock.advance(milliseconds=10)
    joined = rooms.join("late", room, late, bearer("late"))
    assert (joined.arrival_ticket, joined.position) == (TicketOutcome.HONOURED, 1)
    assert RoomStore(redis_client).queue_order(str(room))[-2:] == ["late", "d"]


def test_refused_before_the_opening_the_family_is_drawn_with_the_pre_queue(redis_client):
    clock = MovableClock(OPENING - timedelta(minutes=5))
    campaign = room_terms(OPENING, per_minute=6)
    rooms = rooms_on(redis_client, clock, campaign)
    room = campaign.campaign_id
    early = [f"early-{n}" for n in range(20)]
    for family in early:
        assert rooms.join(family, room).state is PlaceState.PRE_QUEUE
    in_pre_queue = rooms.refused_arrival(room, bearer("in-pre-queue"), None)
    joined = rooms.join("in-pre-queue", room, in_pre_queue, bearer("in-pre-queue"))
    assert (joined.state, joined.arrival_ticket) == (PlaceState.PRE_QUEUE, TicketOutcome.HONOURED)
    clock.advance(seconds=1)
    assert rooms.join("in-pre-queue", room, in_pre_queue, bearer("in-pre-queue")).arrival_ticket is TicketOutcome.KEPT
    clock.now = OPENING - timedelta(seconds=1)
    refused = rooms.refused_arrival(room, bearer("refused"), None)
    clock.now = OPENING + timedelta(milliseconds=100)
    rooms.join("late", room)
    clock.now = OPENING + timedelta(seconds=2)
    assert rooms.join("refused", room, refused, bearer("refused")).arrival_ticket is TicketOutcome.HONOURED
    seed = rooms.seed(room)
    drawn = sorted([*early, "in-pre-queue", "refused"], key=lambda family: ticket(seed, family))
    assert RoomStore(redis_client).queue_order(str(room)) == [*drawn, "late"]


def test_a_ticket_refused_again_keeps_its_first_arrival(redis_client):
    clock = MovableClock(OPENING + timedelta(minutes=1))
    campaign = room_terms(OPENING, per_minute=6)
    rooms = rooms_on(redis_client, clock, campaign)
    room = campaign.campaign_id
    rooms.join("head", room)
    first = rooms.refused_arrival(room, bearer("refused"), None)
    clock.advance(milliseconds=10)
    rooms.join("came-after", room)
    clock.advance(seconds=4)
    again = rooms.refused_arrival(room, bearer("refused"), first)  # busy once more: the first instant kept
    clock.advance(seconds=25)  # 29 s after the first refusal, 25 s after the second
    assert rooms.join("refused", room, again, bearer("refused")).arrival_ticket is TicketOutcome.HONOURED
    assert RoomStore(redis_client).queue_order(str(room)) == ["head", "refused", "came-after"]


def test_tampered_foreign_expired_and_reused_tickets_are_ignored_a_fresh_join(redis_client):
    clock = MovableClock(OPENING + timedelta(minutes=1))
    campaign, other = room_terms(OPENING, per_minute=6), room_terms(OPENING, per_minute=6)
    rooms = rooms_on(redis_client, clock, campaign, other, admission_window=timedelta(seconds=5))
    room = campaign.campaign_id
    rooms.join("head", room)  # admitted: the room keeps the others waiting (one every 10 s)
    given = {family: rooms.refused_arrival(room, bearer(family), None)
             for family in ("tampered", "foreign-account", "foreign-campaign", "expired", "garbage")}
    given["foreign-campaign"] = rooms.refused_arrival(other.campaign_id, bearer("foreign-campaign"), None)
    given["foreign-account"] = rooms.refused_arrival(room, bearer("someone-else"), None)
    parts = given["tampered"].split(".")
    parts[2] = str(int(parts[2]) - 60_000)  # an earlier arrival, the signature kept
    given["tampered"] = ".".join(parts)
    given["garbage"] = "v1.not-a-ticket"
    clock.advance(milliseconds=10)
    rooms.join("came-after", room)
    clock.advance(seconds=2)
    outcomes = {}
    for family in ("tampered", "foreign-account", "foreign-campaign", "garbage"):
        outcomes[family] = rooms.join(family, room, given[family], bearer(family)).arrival_ticket
    clock.advance(seconds=ARRIVAL_TICKET_TTL.total_seconds() - 1)  # 1 s beyond its time to live
    outcomes["expired"] = rooms.join("expired", room, given["expired"], bearer("expired")).arrival_ticket
    assert outcomes == {"tampered": TicketOutcome.INVALID, "foreign-account": TicketOutcome.FOREIGN,
                        "foreign-campaign": TicketOutcome.FOREIGN, "garbage": TicketOutcome.INVALID,
                        "expired": TicketOutcome.EXPIRED}
    # Each placed as a fresh join: after the family that came after its refusal, in the order they came back.
    assert RoomStore(redis_client).queue_order(str(room)) == ["head", "came-after", "tampered", "foreign-account",
                                                              "foreign-campaign", "garbage", "expired"]


def test_a_ticket_is_honoured_once_and_kept_unspent_by_a_family_with_a_place(redis_client):
    clock = MovableClock(OPENING + timedelta(minutes=1))
    campaign = room_terms(OPENING, per_minute=6)
    rooms = rooms_on(redis_client, clock, campaign, admission_window=timedelta(seconds=5))
    room = campaign.campaign_id
    refused = rooms.refused_arrival(room, bearer("refused"), None)
    clock.advance(milliseconds=10)
    waiting = rooms.join("waiting", room, refused, bearer("waiting"))  # not its ticket: ignored
    assert (waiting.state, waiting.arrival_ticket) == (PlaceState.ADMITTED, TicketOutcome.FOREIGN)
    clock.advance(milliseconds=10)
    honoured = rooms.join("refused", room, refused, bearer("refused"))
    assert (honoured.arrival_ticket, honoured.position) == (TicketOutcome.HONOURED, 1)
    second_tab = rooms.join("refused", room, refused, bearer("refused"))
    assert (second_tab.arrival_ticket, second_tab.joined_at) == (TicketOutcome.KEPT, honoured.joined_at)

    clock.advance(seconds=11)
    assert rooms.place("refused", room).state is PlaceState.ADMITTED
    clock.advance(seconds=6)  # its admission lapsed: it joins again, the ticket already spent
    rooms.join("came-meanwhile", room)
    clock.advance(milliseconds=10)
    again = rooms.join("refused", room, refused, bearer("refused"))
    assert again.arrival_ticket is TicketOutcome.REUSED
    assert RoomStore(redis_client).queue_order(str(room))[-2:] == ["came-meanwhile", "refused\n1"]
