"""The maintenance calendar with fixed clocks, under several process time zones."""

import os
import time
from datetime import datetime, timedelta, timezone

import pytest

from domain.maintenance import (
    JST,
    NEW_YEAR,
    OPERATOR,
    WEEKLY,
    MaintenancePolicy,
    Window,
    active_window,
    operator_window,
    seconds_until_end,
    upcoming_window,
    windows_between,
)

POLICY = MaintenancePolicy()


def jst(text: str) -> datetime:
    """'2026-11-23 07:00' on the Tokyo wall clock."""
    return datetime.fromisoformat(text).replace(tzinfo=JST)


@pytest.fixture(params=["UTC", "America/Los_Angeles", "Asia/Tokyo"], autouse=True)
def process_tz(request):
    """Run every test with the process time zone set to each of these; the answers must not change."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = request.param
    time.tzset()
    yield request.param
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


def test_process_time_zone_really_changes(process_tz):
    offsets = {"UTC": 0, "America/Los_Angeles": 8 * 3600, "Asia/Tokyo": -9 * 3600}
    assert time.timezone == offsets[process_tz]


# --- the weekly window: every Monday 00:00–07:00 (2026-11-23 is a Monday) ------------------------------
# (now, expected window start, expected end, expected kinds) — None when no window is active.
WEEKLY_CASES = [
    ("2026-11-22 23:59:59", None, None, None),  # just before
    ("2026-11-23 00:00:00", "2026-11-23 00:00", "2026-11-23 07:00", {WEEKLY}),  # at the start
    ("2026-11-23 03:30:00", "2026-11-23 00:00", "2026-11-23 07:00", {WEEKLY}),  # inside
    ("2026-11-23 06:59:59", "2026-11-23 00:00", "2026-11-23 07:00", {WEEKLY}),  # last second
    ("2026-11-23 07:00:00", None, None, None),  # just after (the end is not in the window)
    ("2026-11-24 03:30:00", None, None, None),  # a Tuesday
    ("2026-11-30 01:00:00", "2026-11-30 00:00", "2026-11-30 07:00", {WEEKLY}),  # the next Monday
]

# --- New Year: January 1 00:00 – January 2 07:00 (2027-01-01 is a Friday) --------------------------------
NEW_YEAR_CASES = [
    ("2026-12-31 23:59:59", None, None, None),
    ("2027-01-01 00:00:00", "2027-01-01 00:00", "2027-01-02 07:00", {NEW_YEAR}),
    ("2027-01-01 15:00:00", "2027-01-01 00:00", "2027-01-02 07:00", {NEW_YEAR}),
    ("2027-01-02 06:59:59", "2027-01-01 00:00", "2027-01-02 07:00", {NEW_YEAR}),
    ("2027-01-02 07:00:00", None, None, None),
]

# --- a Monday that is January 1 (2029): one window until January 2 07:00, not split at 07:00 ------------
MONDAY_NEW_YEAR_CASES = [
    ("2028-12-31 23:59:59", None, None, None),
    ("2029-01-01 00:00:00", "2029-01-01 00:00", "2029-01-02 07:00", {WEEKLY, NEW_YEAR}),
    ("2029-01-01 07:00:00", "2029-01-01 00:00", "2029-01-02 07:00", {WEEKLY, NEW_YEAR}),
    ("2029-01-02 06:59:59", "2029-01-01 00:00", "2029-01-02 07:00", {WEEKLY, NEW_YEAR}),
    ("2029-01-02 07:00:00", None, None, None),
]


@pytest.mark.parametrize(("now", "start", "end", "kinds"), WEEKLY_CASES + NEW_YEAR_CASES + MONDAY_NEW_YEAR_CASES)
def test_fixed_windows(now, start, end, kinds):
    window = active_window(jst(now), POLICY)
    if start is None:
        assert window is None
    else:
        assert (window.start, window.end, window.kinds) == (jst(start), jst(end), kinds)


def test_monday_new_year_is_really_a_monday():
    assert jst("2029-01-01 00:00").weekday() == 0
    assert jst("2026-11-23 00:00").weekday() == 0


# --- operator windows -----------------------------------------------------------------------------------
UPDATE = operator_window(jst("2026-11-25 14:00"), jst("2026-11-25 15:30"), "システム更新")
AFTER_WEEKLY = operator_window(jst("2026-11-23 07:00"), jst("2026-11-23 09:00"), "延長")
BEFORE_WEEKLY = operator_window(jst("2026-11-22 22:00"), jst("2026-11-23 01:00"), "前倒し")
# New Year → operator (Jan 2 07:00 – Jan 4 00:00) → weekly (Monday Jan 4 00:00–07:00): a chain of three.
BRIDGE = operator_window(jst("2027-01-02 07:00"), jst("2027-01-04 00:00"), "年始延長")
# Given in UTC: 2026-11-26 01:00Z is 10:00 JST.
IN_UTC = operator_window(
    datetime(2026, 11, 26, 1, 0, tzinfo=timezone.utc), datetime(2026, 11, 26, 2, 0, tzinfo=timezone.utc), "UTC"
)

OPERATOR_CASES = [
    # (operator windows, now, start, end, kinds)
    ([UPDATE], "2026-11-25 13:59:59", None, None, None),
    ([UPDATE], "2026-11-25 14:00:00", "2026-11-25 14:00", "2026-11-25 15:30", {OPERATOR}),
    ([UPDATE], "2026-11-25 15:29:59", "2026-11-25 14:00", "2026-11-25 15:30", {OPERATOR}),
    ([UPDATE], "2026-11-25 15:30:00", None, None, None),
    # adjoining the weekly window at its end: one window 00:00–09:00
    ([AFTER_WEEKLY], "2026-11-23 00:00:00", "2026-11-23 00:00", "2026-11-23 09:00", {WEEKLY, OPERATOR}),
    ([AFTER_WEEKLY], "2026-11-23 07:00:00", "2026-11-23 00:00", "2026-11-23 09:00", {WEEKLY, OPERATOR}),
    ([AFTER_WEEKLY], "2026-11-23 08:59:59", "2026-11-23 00:00", "2026-11-23 09:00", {WEEKLY, OPERATOR}),
    ([AFTER_WEEKLY], "2026-11-23 09:00:00", None, None, None),
    # overlapping its start: one window Sunday 22:00 – Monday 07:00
    ([BEFORE_WEEKLY], "2026-11-22 21:59:59", None, None, None),
    ([BEFORE_WEEKLY], "2026-11-22 22:00:00", "2026-11-22 22:00", "2026-11-23 07:00", {WEEKLY, OPERATOR}),
    ([BEFORE_WEEKLY], "2026-11-23 06:59:59", "2026-11-22 22:00", "2026-11-23 07:00", {WEEKLY, OPERATOR}),
    ([BEFORE_WEEKLY], "2026-11-23 07:00:00", None, None, None),
    # a chain: New Year, the bridge and the weekly window of Monday January 4 are one window
    ([BRIDGE], "2027-01-01 00:00:00", "2027-01-01 00:00", "2027-01-04 07:00", {NEW_YEAR, OPERATOR, WEEKLY}),
    ([BRIDGE], "2027-01-03 12:00:00", "2027-01-01 00:00", "2027-01-04 07:00", {NEW_YEAR, OPERATOR, WEEKLY}),
    ([BRIDGE], "2027-01-04 06:59:59", "2027-01-01 00:00", "2027-01-04 07:00", {NEW_YEAR, OPERATOR, WEEKLY}),
    ([BRIDGE], "2027-01-04 07:00:00", None, None, None),
    # given with a UTC offset, compared as instants
    ([IN_UTC], "2026-11-26 09:59:59", None, None, None),
    ([IN_UTC], "2026-11-26 10:00:00", "2026-11-26 10:00", "2026-11-26 11:00", {OPERATOR}),
    ([IN_UTC], "2026-11-26 11:00:00", None, None, None),
    # several at once, in any order
    ([UPDATE, AFTER_WEEKLY], "2026-11-25 14:10:00", "2026-11-25 14:00", "2026-11-25 15:30", {OPERATOR}),
    ([UPDATE, AFTER_WEEKLY], "2026-11-23 08:00:00", "2026-11-23 00:00", "2026-11-23 09:00", {WEEKLY, OPERATOR}),
]


@pytest.mark.parametrize(("operators", "now", "start", "end", "kinds"), OPERATOR_CASES)
def test_operator_windows(operators, now, start, end, kinds):
    window = active_window(jst(now), POLICY, operators)
    if start is None:
        assert window is None
    else:
        assert (window.start, window.end, window.kinds) == (jst(start), jst(end), kinds)


def test_merged_window_keeps_every_operator_reason_once():
    again = operator_window(jst("2026-11-23 08:00"), jst("2026-11-23 10:00"), "延長")
    other = operator_window(jst("2026-11-23 09:30"), jst("2026-11-23 11:00"), "回線工事")
    window = active_window(jst("2026-11-23 01:00"), POLICY, [AFTER_WEEKLY, again, other])
    assert window.end == jst("2026-11-23 11:00")
    assert window.reasons == ("延長", "回線工事")


def test_operator_window_nested_inside_the_weekly_one_changes_nothing():
    inner = operator_window(jst("2026-11-23 02:00"), jst("2026-11-23 03:00"), "内側")
    window = active_window(jst("2026-11-23 02:30"), POLICY, [inner])
    assert (window.start, window.end) == (jst("2026-11-23 00:00"), jst("2026-11-23 07:00"))


# --- the banner: the next window starting within the lead (60 minutes) -----------------------------------
BANNER_CASES = [
    # (operator windows, now, expected start, expected end)
    ([], "2026-11-22 23:30:00", "2026-11-23 00:00", "2026-11-23 07:00"),  # Sunday 23:30
    ([], "2026-11-22 23:00:00", "2026-11-23 00:00", "2026-11-23 07:00"),  # exactly 60 minutes before
    ([], "2026-11-22 22:59:59", None, None),  # 60 minutes and a second before
    ([], "2026-11-22 23:59:59", "2026-11-23 00:00", "2026-11-23 07:00"),
    ([], "2026-11-23 00:00:00", None, None),  # in the window: no banner, the gate speaks
    ([], "2026-11-23 07:00:00", None, None),  # after it
    ([], "2026-12-31 23:30:00", "2027-01-01 00:00", "2027-01-02 07:00"),
    ([], "2028-12-31 23:30:00", "2029-01-01 00:00", "2029-01-02 07:00"),  # shows the merged end
    ([AFTER_WEEKLY], "2026-11-22 23:30:00", "2026-11-23 00:00", "2026-11-23 09:00"),
    ([UPDATE], "2026-11-25 13:15:00", "2026-11-25 14:00", "2026-11-25 15:30"),
    ([UPDATE], "2026-11-25 12:59:00", None, None),
]


@pytest.mark.parametrize(("operators", "now", "start", "end"), BANNER_CASES)
def test_banner_window(operators, now, start, end):
    window = upcoming_window(jst(now), POLICY, operators)
    if start is None:
        assert window is None
    else:
        assert (window.start, window.end) == (jst(start), jst(end))


def test_upcoming_window_with_a_longer_horizon():
    assert upcoming_window(jst("2026-11-22 12:00"), POLICY, horizon=timedelta(hours=11)) is None
    window = upcoming_window(jst("2026-11-22 12:00"), POLICY, horizon=timedelta(hours=12))
    assert window.start == jst("2026-11-23 00:00")


# --- Retry-After ----------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("now", "seconds"),
    [
        ("2026-11-23 00:00:00", 7 * 3600),
        ("2026-11-23 06:00:00", 3600),
        ("2026-11-23 06:59:59", 1),
        ("2026-11-23 06:59:59.400000", 1),  # rounded up: never tell a client to come back too early
        ("2026-11-23 07:00:00", 0),
        ("2029-01-01 07:00:00", 24 * 3600),  # the Monday that is January 1 ends on January 2
    ],
)
def test_seconds_until_end(now, seconds):
    window = Window(jst("2026-11-23 00:00"), jst("2026-11-23 07:00"), frozenset({WEEKLY}))
    if now.startswith("2029"):
        window = active_window(jst(now), POLICY)
    assert seconds_until_end(window, jst(now)) == seconds


# --- other policies and bad input ------------------------------------------------------------------------
def test_policy_numbers_move_the_windows():
    policy = MaintenancePolicy(weekly_weekday=6, weekly_start_hour=1, weekly_end_hour=5, banner_lead_minutes=10)
    assert active_window(jst("2026-11-23 01:00"), policy) is None  # Monday is free now
    window = active_window(jst("2026-11-22 01:00"), policy)  # Sunday 01:00–05:00
    assert (window.start, window.end) == (jst("2026-11-22 01:00"), jst("2026-11-22 05:00"))
    assert upcoming_window(jst("2026-11-22 00:49"), policy) is None
    assert upcoming_window(jst("2026-11-22 00:50"), policy).start == jst("2026-11-22 01:00")


def test_new_year_end_is_a_policy_number():
    policy = MaintenancePolicy(new_year_end_day=3, new_year_end_hour=9)
    assert active_window(jst("2027-01-03 08:59"), policy).end == jst("2027-01-03 09:00")
    assert active_window(jst("2027-01-03 09:00"), policy) is None


@pytest.mark.parametrize(
    "fields",
    [
        {"weekly_weekday": 7},
        {"weekly_weekday": -1},
        {"weekly_start_hour": 7, "weekly_end_hour": 7},
        {"weekly_end_hour": 169},
        {"new_year_end_day": 32},
        {"new_year_end_day": 1, "new_year_end_hour": 0},
        {"new_year_end_hour": 24},
        {"banner_lead_minutes": -1},
    ],
)
def test_bad_policy_is_refused_at_start(fields):
    with pytest.raises(ValueError):
        MaintenancePolicy(**fields)


def test_naive_times_are_refused():
    with pytest.raises(ValueError):
        active_window(datetime(2026, 11, 23, 1, 0), POLICY)
    with pytest.raises(ValueError):
        operator_window(datetime(2026, 11, 23, 1, 0), datetime(2026, 11, 23, 2, 0))


def test_a_window_must_end_after_it_starts():
    with pytest.raises(ValueError):
        operator_window(jst("2026-11-23 02:00"), jst("2026-11-23 02:00"))


def test_windows_between_lists_a_week_in_order():
    windows = windows_between(jst("2026-11-22 00:00"), jst("2026-12-01 00:00"), POLICY, [UPDATE])
    assert [(w.start, w.end) for w in windows] == [
        (jst("2026-11-23 00:00"), jst("2026-11-23 07:00")),
        (jst("2026-11-25 14:00"), jst("2026-11-25 15:30")),
        (jst("2026-11-30 00:00"), jst("2026-11-30 07:00")),
    ]
