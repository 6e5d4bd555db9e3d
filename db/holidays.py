"""Japanese national holidays for the domain's business-day calendar, from the maintained ``jpholiday``
package (振替休日 and 国民の休日 included). The domain never imports it: it receives this lookup."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

import jpholiday

from domain.business_days import BusinessCalendar
from domain.policy import LoanPolicy


@lru_cache(maxsize=4096)
def is_national_holiday(day: date) -> bool:
    return bool(jpholiday.is_holiday(day))


@lru_cache(maxsize=8)
def business_calendar(policy: LoanPolicy) -> BusinessCalendar:
    """The calendar every money rule uses: weekends, national holidays and the policy's closed days."""
    return BusinessCalendar.for_policy(policy, is_national_holiday)
