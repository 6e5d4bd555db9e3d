"""The jpholiday adapter feeds real national holidays to the business-day calendar."""

from datetime import date

import pytest

from db.holidays import business_calendar, is_national_holiday
from domain.due_dates import due_date
from domain.policy import LoanPolicy

CAL = business_calendar(LoanPolicy())


@pytest.mark.parametrize(
    "day, holiday",
    [(date(2025, 5, 5), True), (date(2025, 5, 6), True), (date(2025, 9, 23), True), (date(2025, 11, 24), True),
     (date(2025, 5, 7), False), (date(2026, 1, 12), True), (date(2025, 12, 31), False)],
)
def test_national_holidays(day, holiday):
    assert is_national_holiday(day) is holiday


def test_real_calendar_moves_due_dates():
    assert due_date((2025, 5), 5, CAL) == date(2025, 5, 7)  # こどもの日 + 振替休日
    assert due_date((2025, 12), 31, CAL) == date(2026, 1, 5)  # 年末年始 then Sunday
    assert CAL.on_or_after(date(2025, 9, 22)) == date(2025, 9, 22) and not CAL.is_business_day(date(2025, 9, 23))
