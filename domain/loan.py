"""The loan engine: a contract's running state and the member's ``Position`` as of a day.

Use it like this (``db`` loads the rows, ``web`` shows the figures)::

    state = replay(contract, entries, policy, calendar)          # or LoanState.from_dict(cached)
    pos = Position.of(contract, state, today, policy, calendar)  # today = jst_date(now)
    pos.balance, pos.payoff, pos.next_due_date, pos.amount_due, ...
    new_entries = pos.payment_entries(5_000)                     # charges + the repayment, to append
    pos.split(5_000)                                             # preview: late charge / interest / principal

Day rules (product.md §6):
- interest for day d is on the principal at the end of day d-1 (so it runs from the day after a
  borrowing or repayment, up to and including the repayment day), exact, floored when charged;
- a day after a missed due date, while arrears are unpaid, accrues late charge at
  ``late_charge_rate`` instead of interest at the contract rate;
- a day inside the interest-free period accrues nothing (unless it is a late day);
- payments from the day after the previous due date up to the due date count toward that due date;
  at the end of the due date the cycle closes: a shortfall becomes arrears (late from the next day),
  and the next cycle is the following month's, so paying early never skips a month;
- payments clear arrears first, then count toward the current cycle.
"""

from __future__ import annotations

import math
from calendar import isleap
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, timezone
from fractions import Fraction
from typing import Iterable

from domain.business_days import BusinessCalendar
from domain.due_dates import Month, add_months, due_date, first_due_month
from domain.errors import LoanError
from domain.interest import (
    Split, allocate, amount_due, day_units, format_rate, interest_free_until, slide_amount,
)
from domain.ledger import Entry, Kind
from domain.policy import LoanPolicy

ONE_DAY = timedelta(days=1)
JST = timezone(timedelta(hours=9), "JST")

STATUS_ACTIVE = "active"
STATUS_STOPPED = "borrowing_stopped"
STATUS_SUSPENDED = "suspended"
STATUS_CLOSED = "closed"


def jst_date(now: datetime) -> date:
    """The Japanese calendar day of an aware moment: the day every loan rule counts in."""
    if now.tzinfo is None:
        raise ValueError("now must be timezone-aware")
    return now.astimezone(JST).date()


@dataclass(frozen=True, slots=True)
class Contract:
    """The terms the engine needs. ``status`` is the member's standing as the lender set it
    (active / borrowing_stopped / suspended / closed); being overdue stops borrowing on its own."""

    limit: int
    rate: int  #: hundredths of a percent
    due_day: int  #: 5, 15, 25 or 31 (= month end)
    interest_free_until: date | None = None  #: last interest-free day, if the member has the period
    status: str = STATUS_ACTIVE
    status_reason: str = ""


@dataclass(slots=True)
class LoanState:
    """What a contract owes and where its repayment cycle stands at the end of day ``through``.

    Plain data: ``to_dict``/``from_dict`` let the database cache it beside the contract, updated in
    the same transaction as the entries it folds in.
    """

    through: date | None = None  #: accrual counted through this day; None before the first entry
    principal: int = 0
    interest: int = 0  #: charged and unpaid
    late_charge: int = 0  #: charged and unpaid
    accrued_interest: Fraction = Fraction(0)  #: exact, since the last interest charge
    accrued_late: Fraction = Fraction(0)  #: exact, since the last late charge
    slide_base: int = 0  #: balance right after the last borrowing (残高スライド)
    due_month: Month | None = None  #: nominal month of the current cycle; None when nothing is owed
    due_date: date | None = None  #: the current cycle's due date (business-day shifted)
    paid: int = 0  #: paid toward the current cycle
    arrears: int = 0  #: unpaid amounts of missed cycles
    overdue_since: date | None = None  #: first late day of the oldest unpaid missed cycle
    first_borrowed_on: date | None = None
    entries: int = 0  #: how many entries have been folded in

    @property
    def interest_owed(self) -> int:
        """Interest payable if paid on ``through``: charged plus accrued, floored."""
        return self.interest + int(self.accrued_interest)

    @property
    def late_charge_owed(self) -> int:
        return self.late_charge + int(self.accrued_late)

    @property
    def payoff(self) -> int:
        return self.principal + self.interest_owed + self.late_charge_owed

    def cycle_amount_due(self, policy: LoanPolicy) -> int:
        """The current cycle's amount due: the slide amount, capped by what paying everything takes."""
        return amount_due(self.slide_base, self.paid + self.payoff, policy)

    def copy(self) -> "LoanState":
        """A copy (every field, in order: the constructor is several times faster than ``dataclasses.replace``)."""
        return LoanState(
            self.through, self.principal, self.interest, self.late_charge, self.accrued_interest, self.accrued_late,
            self.slide_base, self.due_month, self.due_date, self.paid, self.arrears, self.overdue_since,
            self.first_borrowed_on, self.entries,
        )

    def advance(self, day: date, contract: Contract, policy: LoanPolicy, calendar: BusinessCalendar) -> None:
        """Accrue each day after ``through`` up to and including ``day``, closing due dates passed."""
        self._advance(day, contract, policy, calendar)

    def _advance(self, day: date, contract: Contract, policy: LoanPolicy,
                 calendar: BusinessCalendar) -> tuple[int, int, int] | None:
        """``advance``; returns the accrued amounts as ``(denominator, interest numerator, late numerator)`` when it
        worked them out (None when nothing could accrue: then they are the stored fractions, untouched).

        Exact without a ``Fraction`` per day range: a day's accrual is ``principal × rate × u ÷ D`` with integers
        ``u`` and ``D`` (``domain.interest.day_units``), so the accrued amounts are summed as integer numerators
        over one denominator (``D``, or a multiple of it when a stored fraction's denominator does not divide it)
        and made ``Fraction`` once at the end: the same values as adding each range's ``Fraction``."""
        through = self.through
        if through is None or day <= through:
            self.through = through or day
            return None
        principal = self.principal
        if principal <= 0:  # nothing accrues: only the due dates passed close, each with the same payoff
            if self.due_date is not None and self.due_date < day:
                payoff = principal + self.interest_owed + self.late_charge_owed
                while self.due_date is not None and self.due_date < day:
                    self._close_cycle(contract.due_day, policy, calendar, payoff)
            self.through = day
            return None
        base, common_day, leap_day = day_units(policy)
        denominator, interest, late = _over_one_denominator(base, self.accrued_interest, self.accrued_late)
        interest_before, late_before = interest, late
        scale = denominator // base
        interest_per_unit = principal * contract.rate * scale  # numerator per unit of day (u)
        late_per_unit = principal * policy.late_charge_rate * scale
        free_until = contract.interest_free_until
        due = self.due_date
        current = through + ONE_DAY
        while current <= day:
            while due is not None and due < current:
                self._close_cycle(contract.due_day, policy, calendar, principal + self.interest + self.late_charge
                                  + _trunc(interest, denominator) + _trunc(late, denominator))
                due = self.due_date
            year = current.year
            end = day if day.year == year else date(year, 12, 31)
            if due is not None and due < end:
                end = due
            if self.overdue_since is not None:  # a late day: late charge instead of interest, free or not
                late += late_per_unit * ((end - current).days + 1) * (leap_day if isleap(year) else common_day)
            elif free_until is not None and current <= free_until:  # interest-free: nothing accrues
                if free_until < end:
                    end = free_until
            else:
                interest += interest_per_unit * ((end - current).days + 1) * (leap_day if isleap(year) else common_day)
            current = end + ONE_DAY
        self.through = day
        if interest != interest_before:
            self.accrued_interest = Fraction(interest, denominator)
        if late != late_before:
            self.accrued_late = Fraction(late, denominator)
        return denominator, interest, late

    def _close_cycle(self, due_day: int, policy: LoanPolicy, calendar: BusinessCalendar, payoff: int) -> None:
        """The end of the due date: a shortfall (``payoff``: what paying everything takes then) becomes arrears."""
        assert self.due_date is not None and self.due_month is not None
        shortfall = amount_due(self.slide_base, self.paid + payoff, policy) - self.paid
        if shortfall > 0:
            self.arrears += shortfall
            if self.overdue_since is None:
                self.overdue_since = self.due_date + ONE_DAY
        self.due_month = add_months(self.due_month, 1)
        self.due_date = due_date(self.due_month, due_day, calendar)
        self.paid = 0

    def apply(self, entry: Entry, contract: Contract, policy: LoanPolicy, calendar: BusinessCalendar) -> None:
        """Fold one entry in; advances to ``entry.on`` first. Entries must come in date order."""
        if self.through is not None and entry.on < self.through:
            raise ValueError("entries must be applied in date order")
        self.advance(entry.on, contract, policy, calendar)
        self.principal += entry.principal
        self.interest += entry.interest
        self.late_charge += entry.late_charge
        self.entries += 1
        kind = entry.kind
        if kind is Kind.INTEREST_CHARGE:
            self.accrued_interest = Fraction(0)  # the fraction of a yen is not charged
        elif kind is Kind.LATE_CHARGE:
            self.accrued_late = Fraction(0)
        elif kind is Kind.BORROWING:
            self.first_borrowed_on = self.first_borrowed_on or entry.on
            if self.due_date is None:
                self.due_month = first_due_month(entry.on, contract.due_day, policy)
                self.due_date = due_date(self.due_month, contract.due_day, calendar)
            self.slide_base = self.principal
        elif kind.is_payment:
            to_arrears = min(self.arrears, entry.amount)
            self.arrears -= to_arrears
            if self.arrears == 0:
                self.overdue_since = None
            self.paid += entry.amount - to_arrears
        elif kind is Kind.REVERSAL and entry.reverses is Kind.BORROWING:
            self.slide_base = max(0, min(self.slide_base - entry.amount, self.principal))
        elif kind is Kind.REVERSAL and entry.reverses is not None and entry.reverses.is_payment:
            self.paid = max(0, self.paid - entry.amount)
        if self.payoff == 0:  # paid off: no cycle, nothing due
            self.due_month = self.due_date = self.overdue_since = None
            self.paid = self.arrears = self.slide_base = 0
            self.accrued_interest = self.accrued_late = Fraction(0)

    def to_dict(self) -> dict:
        def iso(d: date | None) -> str | None:
            return d.isoformat() if d else None

        return {
            "through": iso(self.through), "principal": self.principal, "interest": self.interest,
            "late_charge": self.late_charge, "accrued_interest": str(self.accrued_interest),
            "accrued_late": str(self.accrued_late), "slide_base": self.slide_base,
            "due_month": list(self.due_month) if self.due_month else None, "due_date": iso(self.due_date),
            "paid": self.paid, "arrears": self.arrears, "overdue_since": iso(self.overdue_since),
            "first_borrowed_on": iso(self.first_borrowed_on), "entries": self.entries,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "LoanState":
        get = data.get
        month = get("due_month")
        return cls(
            _day(get("through")), data["principal"], data["interest"], data["late_charge"],
            _fraction(data["accrued_interest"]), _fraction(data["accrued_late"]), data["slide_base"],
            (month[0], month[1]) if month else None, _day(get("due_date")), data["paid"], data["arrears"],
            _day(get("overdue_since")), _day(get("first_borrowed_on")), get("entries", 0),
        )


def _day(text: str | None) -> date | None:
    return date.fromisoformat(text) if text else None


def _over_one_denominator(base: int, a: Fraction, b: Fraction) -> tuple[int, int, int]:
    """A denominator of both fractions that is a multiple of ``base`` (``base`` itself when their denominators divide
    it, as every accrual of the engine's does), and the two numerators over it."""
    da, db = a.denominator, b.denominator
    denominator = base if not (base % da or base % db) else math.lcm(base, da, db)
    return denominator, a.numerator * (denominator // da), b.numerator * (denominator // db)


def _trunc(numerator: int, denominator: int) -> int:
    """``int(Fraction(numerator, denominator))`` (towards zero) for a positive denominator, without the ``Fraction``."""
    return numerator // denominator if numerator >= 0 else -(-numerator // denominator)


def _fraction(text: str) -> Fraction:
    """``str(Fraction)`` back: ``'7/3'`` or ``'2'`` (without ``Fraction``'s general parser, a regex per call)."""
    if text == "0":
        return _ZERO  # the usual value, and a Fraction never changes: one will do
    numerator, _, denominator = text.partition("/")
    return Fraction(int(numerator), int(denominator)) if denominator else Fraction(int(numerator))


_ZERO = Fraction(0)


def with_interest_free(contract: Contract, state: LoanState, entry: Entry, eligible: bool,
                       policy: LoanPolicy) -> Contract:
    """The terms once ``entry`` is applied: the first borrowing of an eligible member (first-time borrower
    with a registered email) starts the interest-free days, from the day after it."""
    if eligible and entry.kind is Kind.BORROWING and state.first_borrowed_on is None \
            and contract.interest_free_until is None:
        return replace(contract, interest_free_until=interest_free_until(entry.on, policy))
    return contract


def replay(contract: Contract, entries: Iterable[Entry], policy: LoanPolicy, calendar: BusinessCalendar,
           start: LoanState | None = None) -> LoanState:
    """Fold ``entries`` (in date order) into ``start`` (default: an empty contract); returns a new state."""
    state = start.copy() if start is not None else LoanState()
    for entry in entries:
        state.apply(entry, contract, policy, calendar)
    return state


@dataclass(frozen=True, slots=True)
class Position:
    """A member's loan as of the end of day ``as_of``: every figure of the home page.

    Build it with ``Position.of``. All money is integer yen.
    """

    contract: Contract
    as_of: date
    balance: int  #: principal (残高)
    accrued_interest: int  #: interest payable today (unpaid charged + accrued, floored)
    late_charge: int  #: late charge payable today
    payoff: int  #: balance + accrued_interest + late_charge: the exact 完済 amount today
    available_credit: int  #: what may be borrowed now (0 while borrowing is stopped)
    status: str  #: active / borrowing_stopped / suspended / closed
    status_reason: str  #: why, in Japanese ('' when active)
    arrears: int  #: missed amounts still unpaid (payable now)
    overdue_since: date | None  #: first late day, while arrears are unpaid
    next_due_date: date | None  #: the next due date still to be met; None when nothing is owed
    amount_due: int  #: the amount due on ``next_due_date`` (never above the payoff then)
    paid_toward_due: int  #: paid so far toward ``amount_due``
    interest_to_due_date: int  #: interest payable on ``next_due_date`` if nothing else happens
    late_charge_to_due_date: int  #: late charge payable then, likewise
    state: LoanState  #: the engine state at the end of ``as_of`` (do not mutate)
    policy: LoanPolicy
    calendar: BusinessCalendar

    @property
    def limit(self) -> int:
        return self.contract.limit

    @property
    def rate(self) -> int:
        return self.contract.rate

    @property
    def remaining_due(self) -> int:
        """What is still to pay toward ``amount_due`` (arrears come on top of it)."""
        return max(0, self.amount_due - self.paid_toward_due)

    @property
    def can_borrow(self) -> bool:
        return self.status == STATUS_ACTIVE and self.available_credit > 0

    @classmethod
    def of(cls, contract: Contract, state: LoanState, as_of: date, policy: LoanPolicy,
           calendar: BusinessCalendar) -> "Position":
        """The position at the end of ``as_of`` from a state folded through ``as_of`` or earlier."""
        if state.through is not None and state.through > as_of:
            raise ValueError("state is later than as_of")
        now = state.copy()
        accrued = now._advance(as_of, contract, policy, calendar)
        if now.through is None:
            now.through = as_of
        if accrued is None:
            accrued = _over_one_denominator(day_units(policy)[0], now.accrued_interest, now.accrued_late)
        denominator, interest, late = accrued
        interest_now = now.interest + _trunc(interest, denominator)  # now.interest_owed
        late_now = now.late_charge + _trunc(late, denominator)  # now.late_charge_owed
        if now.due_date is None:
            due, due_amount, paid, interest_then, late_then = None, 0, 0, interest_now, late_now
        else:
            due, due_amount, paid, interest_then, late_then = _next_due(now, contract, policy, calendar, accrued)
        status, reason = _status(contract, now)
        balance = now.principal
        available = max(0, contract.limit - balance) if status == STATUS_ACTIVE else 0
        return cls(  # positional, in field order (19 keywords take the generated __init__ about 0.6 µs longer)
            contract, as_of,
            balance, interest_now, late_now, balance + interest_now + late_now,  # balance … payoff
            available, status, reason, now.arrears, now.overdue_since,  # available_credit … overdue_since
            due, due_amount, paid, interest_then, late_then,  # next_due_date … late_charge_to_due_date
            now, policy, calendar,  # state, policy, calendar
        )

    def split(self, amount: int) -> Split:
        """How a payment of ``amount`` today would be applied (late charge → interest → principal)."""
        if amount <= 0:
            raise LoanError("ご返済額は1円以上で入力してください。")
        return allocate(amount, self.late_charge, self.accrued_interest, self.balance)

    def payment_entries(self, amount: int, kind: Kind = Kind.REPAYMENT) -> list[Entry]:
        """The entries to append for a payment of ``amount`` today: the late charge and interest
        accrued so far, charged (floored), then the payment with its split. Raises ``LoanError``."""
        if amount <= 0:
            raise LoanError("ご返済額は1円以上で入力してください。")
        return payment_entries(self.state, self.as_of, amount, kind)

    def borrowing_entry(self, amount: int) -> Entry:
        """A borrowing of ``amount`` today, if the position allows it (unit and minimum are the caller's)."""
        if self.status != STATUS_ACTIVE:
            raise LoanError(self.status_reason or "現在お借入れはできません。")
        if amount <= 0 or amount > self.available_credit:
            raise LoanError(f"お借入れはご利用可能額（{self.available_credit:,}円）までです。")
        return Entry(Kind.BORROWING, self.as_of, amount, principal=amount)

    def after(self, entries: Iterable[Entry]) -> "Position":
        """The position at the end of today once ``entries`` (dated today) are appended."""
        state = replay(self.contract, entries, self.policy, self.calendar, start=self.state)
        return Position.of(self.contract, state, self.as_of, self.policy, self.calendar)


def payment_entries(state: LoanState, on: date, amount: int, kind: Kind = Kind.REPAYMENT) -> list[Entry]:
    """Entries for a payment on ``on`` from a state already advanced to ``on`` (see ``Position.payment_entries``)."""
    if not kind.is_payment:
        raise ValueError("not a payment kind")
    split = allocate(amount, state.late_charge_owed, state.interest_owed, state.principal)
    entries = []
    if late := int(state.accrued_late):
        entries.append(Entry(Kind.LATE_CHARGE, on, late, late_charge=late))
    if charged := int(state.accrued_interest):
        entries.append(Entry(Kind.INTEREST_CHARGE, on, charged, interest=charged))
    entries.append(Entry(kind, on, amount, principal=-split.principal,
                         interest=-split.interest, late_charge=-split.late_charge))
    return entries


def _next_due(now: LoanState, contract: Contract, policy: LoanPolicy, calendar: BusinessCalendar,
              accrued: tuple[int, int, int]) -> tuple[date | None, int, int, int, int]:
    """The next due date still to be met, its amount, what is paid toward it, and the interest and late charge
    payable then: what advancing a copy of ``now`` to that day gives, worked out without the copy. ``accrued`` is
    ``now``'s accrued amounts as ``LoanState._advance`` gives them. From ``through`` to the due date no cycle closes,
    so its days accrue on one principal, all late or all not; when the cycle is covered, closing it adds no arrears
    and the days to the following due date accrue the same way."""
    due = now.due_date
    through = now.through
    if due is None or through is None or due < through:  # not a state ``advance`` leaves: do it the long way
        return _next_due_stepwise(now, contract, policy, calendar)
    base, common_day, leap_day = day_units(policy)
    denominator, interest, late = accrued
    principal = now.principal
    overdue = now.overdue_since is not None
    per_unit = principal * (policy.late_charge_rate if overdue else contract.rate) * (denominator // base)
    free_until = None if overdue else contract.interest_free_until
    owed = [interest, late]  # numerators over ``denominator``; the days add to one of them
    grows = 1 if overdue else 0
    if principal > 0:
        owed[grows] += per_unit * _accruing_units(through, due, free_until, common_day, leap_day)
    interest_then = now.interest + _trunc(owed[0], denominator)
    late_then = now.late_charge + _trunc(owed[1], denominator)
    slide = slide_amount(now.slide_base, policy)
    paid = now.paid
    amount = max(0, min(slide, paid + principal + interest_then + late_then))
    if paid < amount:
        return due, amount, paid, interest_then, late_then
    # covered: the next one to meet is next month's
    following = due_date(add_months(now.due_month, 1), contract.due_day, calendar)  # type: ignore[arg-type]
    if following <= due:
        return _next_due_stepwise(now, contract, policy, calendar)
    if principal > 0:
        owed[grows] += per_unit * _accruing_units(due, following, free_until, common_day, leap_day)
    interest_then = now.interest + _trunc(owed[0], denominator)
    late_then = now.late_charge + _trunc(owed[1], denominator)
    return following, max(0, min(slide, principal + interest_then + late_then)), 0, interest_then, late_then


def _next_due_stepwise(now: LoanState, contract: Contract, policy: LoanPolicy,
                       calendar: BusinessCalendar) -> tuple[date | None, int, int, int, int]:
    """``_next_due`` by advancing a copy: for states ``advance`` never leaves (a due date before ``through``)."""
    if now.due_date is None:
        return None, 0, 0, now.interest_owed, now.late_charge_owed
    at_due = now.copy()
    at_due.advance(now.due_date, contract, policy, calendar)  # type: ignore[arg-type]
    amount = at_due.cycle_amount_due(policy)
    if at_due.paid >= amount:  # covered: the next one to meet is next month's
        assert at_due.due_date is not None
        following = due_date(add_months(at_due.due_month, 1), contract.due_day, calendar)  # type: ignore[arg-type]
        at_due.advance(following, contract, policy, calendar)
        amount = at_due.cycle_amount_due(policy)
    return at_due.due_date, amount, at_due.paid, at_due.interest_owed, at_due.late_charge_owed


def _accruing_units(after: date, through: date, free_until: date | None, common_day: int, leap_day: int) -> int:
    """The day units (``day_units``) of the days after ``after`` through ``through`` that accrue: those after
    ``free_until`` (pass None for late days, which accrue whether free or not)."""
    if free_until is not None and free_until > after:
        after = free_until
    if through <= after:
        return 0
    year = through.year
    if after.year == year:
        return (through - after).days * (leap_day if isleap(year) else common_day)
    total = 0
    while after < through:
        year = (after + ONE_DAY).year
        end = through if through.year == year else date(year, 12, 31)
        total += (end - after).days * (leap_day if isleap(year) else common_day)
        after = end
    return total


def _status(contract: Contract, now: LoanState) -> tuple[str, str]:
    if contract.status in (STATUS_SUSPENDED, STATUS_CLOSED):
        return contract.status, contract.status_reason
    if now.overdue_since is not None:
        missed = now.overdue_since - ONE_DAY
        return STATUS_STOPPED, (
            f"{missed.month}月{missed.day}日のご返済が確認できていません（未払い {now.arrears:,}円）。"
            "ご返済いただくまで、新たなお借入れはできません。")
    if contract.status == STATUS_STOPPED:
        return STATUS_STOPPED, contract.status_reason or "現在お借入れを停止しています。"
    return STATUS_ACTIVE, ""


__all__ = [
    "JST", "Contract", "LoanState", "Position", "replay", "payment_entries", "with_interest_free", "jst_date",
    "format_rate",
    "STATUS_ACTIVE", "STATUS_STOPPED", "STATUS_SUSPENDED", "STATUS_CLOSED",
]
