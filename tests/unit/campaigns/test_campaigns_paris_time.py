from datetime import UTC, datetime, timedelta

import pytest

from services.campaigns.domain import RuleViolation, parse_paris_datetime, to_paris_iso
from services.campaigns.domain.paris_time import (
    paris_wall_clock_to_utc,
    shift_paris_wall_clock,
)
from shared.domain.paris import PARIS

UTC = UTC


def codes_of(call) -> list[str]:
    with pytest.raises(RuleViolation) as raised:
        call()
    return raised.value.codes


@pytest.mark.parametrize("text, expected_utc", [
    ("2026-02-02T00:01", datetime(2026, 2, 1, 23, 1, tzinfo=UTC)),         # winter, UTC+1
    ("2026-07-01T10:00", datetime(2026, 7, 1, 8, 0, tzinfo=UTC)),          # summer, UTC+2
    ("2026-02-02 00:01", datetime(2026, 2, 1, 23, 1, tzinfo=UTC)),         # space separator
    ("  2026-02-02T00:01:30 ", datetime(2026, 2, 1, 23, 1, 30, tzinfo=UTC)),
    ("2026-02-02T00:01+01:00", datetime(2026, 2, 1, 23, 1, tzinfo=UTC)),
    ("2026-02-01T23:01Z", datetime(2026, 2, 1, 23, 1, tzinfo=UTC)),
    ("2026-02-02T05:01+07:00", datetime(2026, 2, 1, 22, 1, tzinfo=UTC)),   # any offset is an exact instant
])
def test_parses_paris_and_offset_times_to_utc(text, expected_utc):
    parsed = parse_paris_datetime(text, "opens_at")
    assert parsed == expected_utc
    assert parsed.tzinfo is UTC


@pytest.mark.parametrize("text, code", [
    ("2026-02-30T10:00", "datetime.invalid"),
    ("demain matin", "datetime.invalid"),
    ("", "datetime.invalid"),
    ("2026-02-02", "datetime.time_required"),
])
def test_rejects_text_that_is_not_a_full_date_and_time(text, code):
    with pytest.raises(RuleViolation) as raised:
        parse_paris_datetime(text, "closes_at")
    assert raised.value.codes == [code]
    assert raised.value.violations[0].field == "closes_at"


@pytest.mark.parametrize("local", ["2026-03-29T02:00", "2026-03-29T02:30", "2026-03-29T02:59:59"])
def test_spring_forward_gap_time_does_not_exist(local):
    with pytest.raises(RuleViolation) as raised:
        parse_paris_datetime(local, "opens_at")
    violation = raised.value.violations[0]
    assert (violation.code, violation.field) == ("datetime.nonexistent_local_time", "opens_at")
    assert "29/03/2026 02:" in violation.message


def test_times_around_the_spring_gap_are_accepted():
    assert parse_paris_datetime("2026-03-29T01:59", "f") == datetime(2026, 3, 29, 0, 59, tzinfo=UTC)
    assert parse_paris_datetime("2026-03-29T03:00", "f") == datetime(2026, 3, 29, 1, 0, tzinfo=UTC)


def test_gap_time_with_an_explicit_offset_is_an_exact_instant():
    assert parse_paris_datetime("2026-03-29T02:30+01:00", "f") == datetime(2026, 3, 29, 1, 30, tzinfo=UTC)


@pytest.mark.parametrize("local", ["2026-10-25T02:00", "2026-10-25T02:30", "2026-10-25T02:59"])
def test_fall_back_ambiguous_time_asks_for_an_offset(local):
    with pytest.raises(RuleViolation) as raised:
        parse_paris_datetime(local, "closes_at")
    violation = raised.value.violations[0]
    assert (violation.code, violation.field) == ("datetime.ambiguous_local_time", "closes_at")
    assert "+02:00" in violation.message and "+01:00" in violation.message


def test_ambiguous_time_with_offset_picks_either_occurrence():
    first = parse_paris_datetime("2026-10-25T02:30+02:00", "f")
    second = parse_paris_datetime("2026-10-25T02:30+01:00", "f")
    assert first == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    assert second == datetime(2026, 10, 25, 1, 30, tzinfo=UTC)
    assert to_paris_iso(first) == "2026-10-25T02:30:00+02:00"
    assert to_paris_iso(second) == "2026-10-25T02:30:00+01:00"


def test_times_around_the_fall_back_hour_are_accepted():
    assert parse_paris_datetime("2026-10-25T01:59", "f") == datetime(2026, 10, 24, 23, 59, tzinfo=UTC)
    assert parse_paris_datetime("2026-10-25T03:00", "f") == datetime(2026, 10, 25, 2, 0, tzinfo=UTC)


def test_renders_in_paris_with_the_offset_of_the_season():
    assert to_paris_iso(datetime(2026, 2, 1, 23, 1, tzinfo=UTC)) == "2026-02-02T00:01:00+01:00"
    assert to_paris_iso(datetime(2026, 7, 1, 8, 0, tzinfo=UTC)) == "2026-07-01T10:00:00+02:00"


def test_every_quarter_hour_of_2026_round_trips_except_the_dst_hours():
    instant = datetime(2026, 1, 1, tzinfo=UTC)
    refused = set()
    while instant.year == 2026:
        shown = to_paris_iso(instant)
        local = shown[:19]
        try:
            assert parse_paris_datetime(local, "f") == instant
        except RuleViolation as exc:
            refused.add((local[:13], exc.codes[0]))
        assert parse_paris_datetime(shown, "f") == instant  # with its offset, always exact
        instant += timedelta(minutes=15)
    # Only the doubled hour of 25 October is refused without offset (the gap never shows up in output).
    assert refused == {("2026-10-25T02", "datetime.ambiguous_local_time")}


def test_wall_clock_shift_keeps_the_local_time_across_dst():
    winter_opening = parse_paris_datetime("2026-02-02T00:01", "f")
    shifted = shift_paris_wall_clock(winter_opening, timedelta(days=182), "opens_at")
    assert to_paris_iso(shifted) == "2026-08-03T00:01:00+02:00"


def test_wall_clock_shift_into_the_gap_is_refused():
    day_before = parse_paris_datetime("2026-03-28T02:30", "f")
    assert codes_of(lambda: shift_paris_wall_clock(day_before, timedelta(days=1), "f")) == [
        "datetime.nonexistent_local_time"]


def test_naive_datetime_is_a_programming_error():
    with pytest.raises(ValueError):
        to_paris_iso(datetime(2026, 2, 2, 0, 1))


def test_direct_wall_clock_conversion_matches_zoneinfo_outside_dst_changes():
    assert paris_wall_clock_to_utc(datetime(2026, 6, 1, 12, 0), "f") == datetime(
        2026, 6, 1, 12, 0, tzinfo=PARIS).astimezone(UTC)
