"""Interest, late charge, payment allocation, the amount due and the statutory rate cap.

Interest is exact (integers over one common denominator, or ``fractions.Fraction``) and floored to the yen
only when it is charged:
    interest for a day = principal × rate ÷ 10,000 ÷ (366 if the day is in a leap year else 365)
Days count from the day after the borrowing (or the last repayment) up to and including the day of
repayment, so ``interest(100_000, 1780, date(2025, 1, 1), date(2025, 1, 31))`` covers 30 days = ¥1,463.
"""

from __future__ import annotations

import calendar as _calendar
import math
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from functools import lru_cache

from domain.errors import LoanError
from domain.policy import LoanPolicy

_BP = 10_000  # rates are hundredths of a percent


def year_days(day: date, policy: LoanPolicy) -> int:
    """The divisor for one day: 366 for a day in a leap year, else 365 (as set in ``policy``)."""
    return policy.days_in_leap_year if _calendar.isleap(day.year) else policy.days_in_year


def interest_denominator(policy: LoanPolicy) -> int:
    """The common denominator of every day's interest: ``10,000 × lcm(365, 366)``.

    A day's interest on ``principal`` at ``rate`` is ``principal × rate × u ÷ D`` with the integer
    ``u = lcm ÷ year_days(day)`` (366 for a common-year day, 365 for a leap-year day), so sums of days are
    exact integers over ``D`` (see ``interest_units``): no ``Fraction`` needed in a loop."""
    return _BP * math.lcm(policy.days_in_year, policy.days_in_leap_year)


@lru_cache(maxsize=64)
def day_units(policy: LoanPolicy) -> tuple[int, int, int]:
    """``(interest_denominator(policy), u of a common-year day, u of a leap-year day)``, worked out once per policy:
    a day's interest on ``principal`` at ``rate`` is exactly ``principal × rate × u ÷ D``."""
    denominator = interest_denominator(policy)
    both = denominator // _BP
    return denominator, both // policy.days_in_year, both // policy.days_in_leap_year


def interest_units(start: date, end: date, policy: LoanPolicy) -> int:
    """The days after ``start`` through ``end``, each weighted ``lcm ÷ year_days(day)``, in closed form
    (one term per calendar year the period touches, split at Dec 31 exactly as ``exact_interest``)."""
    if end <= start:
        return 0
    both = math.lcm(policy.days_in_year, policy.days_in_leap_year)
    first = start + timedelta(days=1)
    if first.year == end.year:
        return ((end - first).days + 1) * (both // year_days(first, policy))
    units = 0
    while first <= end:
        last = min(end, date(first.year, 12, 31))
        units += ((last - first).days + 1) * (both // year_days(first, policy))
        first = last + timedelta(days=1)
    return units


def exact_interest(principal: int, rate: int, start: date, end: date, policy: LoanPolicy) -> Fraction:
    """Exact interest on a constant ``principal`` for the days after ``start`` through ``end``.

    ``start`` is the borrowing (or last repayment) day, ``end`` the day interest is counted to.
    A period crossing Dec 31 is split so each day uses the divisor of its own year.
    """
    if end <= start or principal <= 0 or rate <= 0:
        return Fraction(0)
    return Fraction(principal * rate * interest_units(start, end, policy), interest_denominator(policy))


def interest(principal: int, rate: int, start: date, end: date, policy: LoanPolicy) -> int:
    """Interest charged in yen (floored) for the days after ``start`` through ``end``."""
    if end <= start or principal <= 0 or rate <= 0:
        return 0
    return principal * rate * interest_units(start, end, policy) // interest_denominator(policy)


@dataclass(frozen=True, slots=True)
class Split:
    """How one payment is applied: late charge first, then interest, then principal."""

    late_charge: int
    interest: int
    principal: int

    @property
    def total(self) -> int:
        return self.late_charge + self.interest + self.principal


def allocate(amount: int, late_charge: int, interest: int, principal: int) -> Split:
    """Split ``amount`` over what is owed, in the order late charge → interest → principal.

    Raises ``LoanError`` for a negative amount or one above the total owed (the payoff): no yen is
    ever lost or invented, ``allocate(...).total == amount``.
    """
    if min(late_charge, interest, principal) < 0:
        raise ValueError("owed amounts cannot be negative")
    if amount < 0:
        raise LoanError("金額は0円より大きい金額を入力してください。")
    owed = late_charge + interest + principal
    if amount > owed:
        raise LoanError(f"ご返済額が完済金額（{owed:,}円）を超えています。")
    to_late = min(amount, late_charge)
    to_interest = min(amount - to_late, interest)
    return Split(to_late, to_interest, amount - to_late - to_interest)


def slide_amount(base: int, policy: LoanPolicy) -> int:
    """残高スライド: the monthly amount for ``base`` (the balance right after the last borrowing),
    rounded up to ``policy.amount_due_unit``. Not yet capped by the payoff (see ``amount_due``)."""
    rate = policy.amount_due_top
    for upper, tier_rate in policy.amount_due_tiers:
        if base <= upper:
            rate = tier_rate
            break
    unit = policy.amount_due_unit
    exact = base * rate  # in 1/10,000 yen: rounded up to the unit in integers
    return -(-exact // (_BP * unit)) * unit if exact > 0 else 0


def amount_due(base: int, payoff: int, policy: LoanPolicy) -> int:
    """The amount due for a month: the slide amount, never more than the ``payoff``."""
    return max(0, min(slide_amount(base, policy), payoff))


def rate_cap(limit: int, policy: LoanPolicy) -> int:
    """利息制限法 cap for a contract with this limit (極度額), in hundredths of a percent."""
    for below, cap in policy.rate_cap_tiers:
        if limit < below:
            return cap
    return policy.rate_cap_top


def check_contract_terms(limit: int, rate: int, policy: LoanPolicy) -> None:
    """Raise ``LoanError`` unless limit and rate are inside the product's terms and the legal cap."""
    if not policy.limit_min <= limit <= policy.limit_max:
        raise LoanError(f"限度額は{policy.limit_min:,}円から{policy.limit_max:,}円の範囲です。")
    if not policy.rate_min <= rate <= policy.rate_max:
        raise LoanError(f"金利は{format_rate(policy.rate_min)}から{format_rate(policy.rate_max)}の範囲です。")
    cap = rate_cap(limit, policy)
    if rate > cap:
        raise LoanError(f"限度額{limit:,}円の金利は利息制限法により{format_rate(cap)}までです。")


def format_rate(rate: int) -> str:
    """1780 → '17.8%', 450 → '4.5%', 1799 → '17.99%'."""
    whole, frac = divmod(rate, 100)
    return f"{whole}.{frac:02d}".rstrip("0").rstrip(".") + "%" if frac else f"{whole}.0%"


def interest_free_until(first_borrowed_on: date, policy: LoanPolicy) -> date:
    """Last interest-free day: ``interest_free_days`` days counted from the day after the first borrowing."""
    return first_borrowed_on + timedelta(days=policy.interest_free_days)
