"""Business days: not a weekend, not a national holiday, not a closed day of the year (年末年始).

The national-holiday lookup is injected (``is_national_holiday``) so that the domain stays standard
library only; ``db/holidays.py`` adapts the maintained ``jpholiday`` package.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Callable

from domain.policy import LoanPolicy

ONE_DAY = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class BusinessCalendar:
    is_national_holiday: Callable[[date], bool]
    closed_days: tuple[tuple[int, int], ...] = LoanPolicy().closed_days

    @classmethod
    def for_policy(cls, policy: LoanPolicy, is_national_holiday: Callable[[date], bool]) -> "BusinessCalendar":
        return cls(is_national_holiday=is_national_holiday, closed_days=policy.closed_days)

    def is_business_day(self, day: date) -> bool:
        if day.weekday() >= 5 or (day.month, day.day) in self.closed_days:
            return False
        return not self.is_national_holiday(day)

    def on_or_after(self, day: date) -> date:
        """``day`` itself when it is a business day, else the next business day."""
        while not self.is_business_day(day):
            day += ONE_DAY
        return day

    def after(self, day: date) -> date:
        """The first business day strictly after ``day``."""
        return self.on_or_after(day + ONE_DAY)

    def add(self, day: date, count: int) -> date:
        """``count`` business days after ``day`` (``count`` >= 0; 0 rolls ``day`` forward only)."""
        if count < 0:
            raise ValueError("count must be >= 0")
        day = self.on_or_after(day)
        for _ in range(count):
            day = self.after(day)
        return day
