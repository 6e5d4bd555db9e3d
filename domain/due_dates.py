"""Due dates: the member's due day (5th, 15th, 25th or month end), the first due date after the
first borrowing, and the shift to the next business day."""

from __future__ import annotations

import calendar as _calendar
from datetime import date

from domain.business_days import BusinessCalendar
from domain.errors import LoanError
from domain.policy import MONTH_END, LoanPolicy

Month = tuple[int, int]  # (year, month)


def parse_due_day(text: str | int, policy: LoanPolicy) -> int:
    """'5' / '15' / '25' / 'end' (or '末日', or 31) → the due-day number used everywhere (31 = month end)."""
    raw = str(text).strip().lower()
    value = MONTH_END if raw in ("end", "末日", "末") else (int(raw) if raw.isascii() and raw.isdigit() else None)
    if value not in policy.due_days:
        raise LoanError("返済日は5日・15日・25日・末日から選んでください。")
    return value


def due_day_label(due_day: int) -> str:
    return "末日" if due_day == MONTH_END else f"{due_day}日"


def add_months(month: Month, count: int) -> Month:
    index = month[0] * 12 + (month[1] - 1) + count
    return index // 12, index % 12 + 1


def nominal_due_date(month: Month, due_day: int) -> date:
    """The due day in ``month`` before any business-day shift (31 is clamped to the month's end)."""
    year, mon = month
    return date(year, mon, min(due_day, _calendar.monthrange(year, mon)[1]))


def due_date(month: Month, due_day: int, calendar: BusinessCalendar) -> date:
    """The due date of ``month``: the nominal day moved to the next business day when needed."""
    return calendar.on_or_after(nominal_due_date(month, due_day))


def first_due_month(borrowed_on: date, due_day: int, policy: LoanPolicy) -> Month:
    """The month of the first due date after a first borrowing on ``borrowed_on`` (product.md §6 table)."""
    for rule_day, near_until, near_ahead, far_ahead in policy.first_due_rules:
        if rule_day == due_day:
            ahead = near_ahead if borrowed_on.day <= near_until else far_ahead
            return add_months((borrowed_on.year, borrowed_on.month), ahead)
    raise LoanError("返済日は5日・15日・25日・末日から選んでください。")


def first_due_date(borrowed_on: date, due_day: int, policy: LoanPolicy, calendar: BusinessCalendar) -> date:
    return due_date(first_due_month(borrowed_on, due_day, policy), due_day, calendar)
