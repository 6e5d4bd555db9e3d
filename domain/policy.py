"""The numbers of the loan engine, in one frozen object.

Nothing in ``domain/`` hard-codes a rule number: every function that needs one takes a
``LoanPolicy``.  The defaults here are product.md §6; ``web/settings.py`` builds the object from
its own fields (overridable as ``KAIIN_<NAME>``) and passes it down.

Units: money in integer yen, rates in integer hundredths of a percent (17.8% = 1780).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

#: ``due_day`` value meaning 末日 (the last day of the month): day 31 clamped to the month.
MONTH_END = 31


@dataclass(frozen=True, slots=True)
class LoanPolicy:
    # contract terms
    rate_min: int = 450
    rate_max: int = 1780
    limit_min: int = 10_000
    limit_max: int = 5_000_000
    #: 利息制限法1条, applied by limit: (limit below this, cap) in ascending order, then ``rate_cap_top``.
    rate_cap_tiers: tuple[tuple[int, int], ...] = ((100_000, 2000), (1_000_000, 1800))
    rate_cap_top: int = 1500
    #: 遅延損害金, replaces the contract rate on the principal for days past a missed due date.
    late_charge_rate: int = 2000
    #: divisors: a day in a leap year counts 1/366 of a year, any other day 1/365.
    days_in_year: int = 365
    days_in_leap_year: int = 366
    #: 残高スライド: (base up to and including this, rate) ascending, then ``amount_due_top``.
    amount_due_tiers: tuple[tuple[int, int], ...] = ((300_000, 361), (1_000_000, 253))
    amount_due_top: int = 199
    amount_due_unit: int = 1_000
    #: the due days a member may choose (31 = month end).
    due_days: tuple[int, ...] = (5, 15, 25, MONTH_END)
    #: first due date after the first borrowing: (due day, last day of the month borrowed on that
    #: gets the near month, months ahead for the near case, months ahead otherwise).
    first_due_rules: tuple[tuple[int, int, int, int], ...] = (
        (5, 19, 1, 2),
        (15, 31, 1, 1),
        (25, 9, 0, 1),
        (MONTH_END, 14, 0, 1),
    )
    #: 無利息期間 for first-time borrowers with a registered email, from the day after the first borrowing.
    interest_free_days: int = 30
    #: (month, day) closed every year besides weekends and national holidays (年末年始).
    closed_days: tuple[tuple[int, int], ...] = ((12, 31), (1, 1), (1, 2), (1, 3))
    #: the hash of the numbers above, taken once: the policy is a key of the engine's remembered results
    #: (``functools.lru_cache``), looked up several times per request
    _hash: int = field(default=0, init=False, repr=False, compare=False)

    def __hash__(self) -> int:
        return self._hash

    def __post_init__(self) -> None:
        for name in ("rate_cap_tiers", "amount_due_tiers"):
            bounds = [b for b, _ in getattr(self, name)]
            if bounds != sorted(bounds):
                raise ValueError(f"{name} must be in ascending order")
        if self.rate_min > self.rate_max or self.limit_min > self.limit_max:
            raise ValueError("min above max")
        if self.amount_due_unit <= 0 or self.days_in_year <= 0 or self.days_in_leap_year <= 0:
            raise ValueError("units and divisors must be positive")
        if {rule[0] for rule in self.first_due_rules} != set(self.due_days):
            raise ValueError("first_due_rules must cover exactly the due_days")
        object.__setattr__(self, "_hash", hash(tuple(getattr(self, f.name) for f in fields(self) if f.compare)))
