"""Business days, due days and the first-due-date table of product.md §6."""

from datetime import date

import pytest

from domain.business_days import BusinessCalendar
from domain.due_dates import due_date, first_due_date, first_due_month, nominal_due_date, parse_due_day
from domain.errors import LoanError
from domain.policy import MONTH_END
from tests.unit.loan_helpers import CALENDAR, POLICY


@pytest.mark.parametrize(
    "day, business",
    [
        (date(2025, 6, 2), True), (date(2025, 6, 7), False), (date(2025, 6, 8), False),  # Mon, Sat, Sun
        (date(2025, 5, 5), False), (date(2025, 7, 21), False),  # national holidays (injected)
        (date(2024, 12, 31), False), (date(2025, 1, 1), False), (date(2025, 1, 2), False), (date(2025, 1, 3), False),
        (date(2024, 12, 30), True), (date(2026, 1, 5), True),
    ],
)
def test_business_days(day, business):
    assert CALENDAR.is_business_day(day) is business


def test_calendar_shifts_and_counts():
    assert CALENDAR.on_or_after(date(2025, 5, 3)) == date(2025, 5, 7)  # Sat, Sun, 5/5, 5/6
    assert CALENDAR.after(date(2025, 6, 2)) == date(2025, 6, 3)
    assert CALENDAR.add(date(2024, 12, 27), 3) == date(2025, 1, 7)  # Fri → Mon 30, Mon 6, Tue 7
    assert CALENDAR.add(date(2025, 6, 7), 0) == date(2025, 6, 9)


def test_holiday_lookup_is_injected():
    none = BusinessCalendar(lambda d: False)
    assert none.is_business_day(date(2025, 5, 5)) and not CALENDAR.is_business_day(date(2025, 5, 5))


@pytest.mark.parametrize(
    "text, value", [("5", 5), ("15", 15), ("25", 25), ("end", MONTH_END), ("末日", MONTH_END), (31, MONTH_END)]
)
def test_parse_due_day(text, value):
    assert parse_due_day(text, POLICY) == value


@pytest.mark.parametrize("text", ["", "10", "０", "1e1", "-5", "31x"])
def test_parse_due_day_refuses(text):
    with pytest.raises(LoanError, match="返済日"):
        parse_due_day(text, POLICY)


# the first-due-date table: (due day, borrowed on, nominal first due date)
FIRST_DUE = [
    (5, date(2025, 4, 1), date(2025, 5, 5)), (5, date(2025, 4, 19), date(2025, 5, 5)),
    (5, date(2025, 4, 20), date(2025, 6, 5)), (5, date(2025, 4, 30), date(2025, 6, 5)),
    (5, date(2025, 12, 20), date(2026, 2, 5)),
    (15, date(2025, 4, 1), date(2025, 5, 15)), (15, date(2025, 4, 30), date(2025, 5, 15)),
    (15, date(2025, 12, 31), date(2026, 1, 15)),
    (25, date(2025, 4, 1), date(2025, 4, 25)), (25, date(2025, 4, 9), date(2025, 4, 25)),
    (25, date(2025, 4, 10), date(2025, 5, 25)), (25, date(2025, 12, 28), date(2026, 1, 25)),
    (MONTH_END, date(2025, 4, 1), date(2025, 4, 30)), (MONTH_END, date(2025, 4, 14), date(2025, 4, 30)),
    (MONTH_END, date(2025, 4, 15), date(2025, 5, 31)), (MONTH_END, date(2024, 1, 31), date(2024, 2, 29)),
]


@pytest.mark.parametrize("due_day, borrowed_on, nominal", FIRST_DUE)
def test_first_due_date_table(due_day, borrowed_on, nominal):
    month = first_due_month(borrowed_on, due_day, POLICY)
    assert nominal_due_date(month, due_day) == nominal
    assert first_due_date(borrowed_on, due_day, POLICY, CALENDAR) == CALENDAR.on_or_after(nominal)


@pytest.mark.parametrize(
    "month, due_day, expected",
    [
        ((2025, 5), 5, date(2025, 5, 7)),  # 5/5 and 5/6 holidays
        ((2025, 5), MONTH_END, date(2025, 6, 2)),  # Sat 31 → Mon
        ((2025, 12), MONTH_END, date(2026, 1, 5)),  # Dec 31 – Jan 3 closed, Jan 4 Sunday
        ((2025, 10), 25, date(2025, 10, 27)),  # Saturday
        ((2025, 2), MONTH_END, date(2025, 2, 28)),
        ((2025, 6), 15, date(2025, 6, 16)),  # Sunday
    ],
)
def test_due_date_moves_to_next_business_day(month, due_day, expected):
    assert due_date(month, due_day, CALENDAR) == expected
