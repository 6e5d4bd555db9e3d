"""Shared fixtures for the loan-engine unit tests: a calendar with a known, small set of holidays."""

from datetime import date

from domain.business_days import BusinessCalendar
from domain.policy import LoanPolicy

POLICY = LoanPolicy()
HOLIDAYS = {
    date(2024, 1, 8), date(2024, 2, 12), date(2024, 12, 23),
    date(2025, 1, 13), date(2025, 2, 11), date(2025, 5, 5), date(2025, 5, 6),
    date(2025, 7, 21), date(2025, 9, 15), date(2025, 11, 24), date(2026, 1, 12),
}
CALENDAR = BusinessCalendar.for_policy(POLICY, HOLIDAYS.__contains__)
