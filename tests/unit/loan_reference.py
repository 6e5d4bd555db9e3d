"""The loan engine as it was before the integer accrual (commit ee56d6b, ``domain/loan.py``), frozen here as the
reference the faster engine must equal exactly: one ``Fraction`` per accrued day range, ``_next_due`` by copying
and advancing. Its helpers (year days, slide amount, due dates) are copied too, so a later change to them in
``domain`` cannot change the reference. Only plain data types (``Contract``, ``Entry``, ``LoanPolicy``,
``BusinessCalendar``) come from ``domain``."""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, timedelta
from fractions import Fraction
from typing import Iterable

from domain.business_days import BusinessCalendar
from domain.interest import allocate
from domain.ledger import Entry, Kind
from domain.loan import STATUS_ACTIVE, STATUS_CLOSED, STATUS_STOPPED, STATUS_SUSPENDED, Contract
from domain.policy import LoanPolicy

Month = tuple[int, int]
ONE_DAY = timedelta(days=1)
_BP = 10_000


def year_days(day: date, policy: LoanPolicy) -> int:
    return policy.days_in_leap_year if _calendar.isleap(day.year) else policy.days_in_year


def slide_amount(base: int, policy: LoanPolicy) -> int:
    rate = policy.amount_due_top
    for upper, tier_rate in policy.amount_due_tiers:
        if base <= upper:
            rate = tier_rate
            break
    unit = policy.amount_due_unit
    exact = base * rate
    return -(-exact // (_BP * unit)) * unit if exact > 0 else 0


def amount_due(base: int, payoff: int, policy: LoanPolicy) -> int:
    return max(0, min(slide_amount(base, policy), payoff))


def add_months(month: Month, count: int) -> Month:
    index = month[0] * 12 + (month[1] - 1) + count
    return index // 12, index % 12 + 1


def due_date(month: Month, due_day: int, calendar: BusinessCalendar) -> date:
    year, mon = month
    return calendar.on_or_after(date(year, mon, min(due_day, _calendar.monthrange(year, mon)[1])))


def first_due_month(borrowed_on: date, due_day: int, policy: LoanPolicy) -> Month:
    for rule_day, near_until, near_ahead, far_ahead in policy.first_due_rules:
        if rule_day == due_day:
            ahead = near_ahead if borrowed_on.day <= near_until else far_ahead
            return add_months((borrowed_on.year, borrowed_on.month), ahead)
    raise ValueError("due day")


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
        if self.through is None or day <= self.through:
            self.through = self.through or day
            return
        current = self.through + ONE_DAY
        free_until = contract.interest_free_until
        while current <= day:
            while self.due_date is not None and self.due_date < current:
                self._close_cycle(contract.due_day, policy, calendar)
            end = min(day, date(current.year, 12, 31))
            if self.due_date is not None:
                end = min(end, self.due_date)
            late = self.overdue_since is not None
            free = not late and free_until is not None and current <= free_until
            if free:
                end = min(end, free_until)  # type: ignore[type-var]
            if self.principal > 0 and not free:
                days = (end - current).days + 1
                base = Fraction(self.principal * days, 10_000 * year_days(current, policy))
                if late:
                    self.accrued_late += base * policy.late_charge_rate
                else:
                    self.accrued_interest += base * contract.rate
            current = end + ONE_DAY
        self.through = day

    def _close_cycle(self, due_day: int, policy: LoanPolicy, calendar: BusinessCalendar) -> None:
        assert self.due_date is not None and self.due_month is not None
        shortfall = self.cycle_amount_due(policy) - self.paid
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
        def day(key: str) -> date | None:
            return date.fromisoformat(data[key]) if data.get(key) else None

        month = data.get("due_month")
        return cls(
            through=day("through"), principal=data["principal"], interest=data["interest"],
            late_charge=data["late_charge"], accrued_interest=_fraction(data["accrued_interest"]),
            accrued_late=_fraction(data["accrued_late"]), slide_base=data["slide_base"],
            due_month=(month[0], month[1]) if month else None, due_date=day("due_date"),
            paid=data["paid"], arrears=data["arrears"], overdue_since=day("overdue_since"),
            first_borrowed_on=day("first_borrowed_on"), entries=data.get("entries", 0),
        )


def _fraction(text: str) -> Fraction:
    """``str(Fraction)`` back: ``'7/3'`` or ``'2'`` (without ``Fraction``'s general parser, a regex per call)."""
    numerator, _, denominator = text.partition("/")
    return Fraction(int(numerator), int(denominator or 1))


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
        now.advance(as_of, contract, policy, calendar)
        if now.through is None:
            now.through = as_of
        due, due_amount, paid, at_due = _next_due(now, contract, policy, calendar)
        status, reason = _status(contract, now)
        available = max(0, contract.limit - now.principal) if status == STATUS_ACTIVE else 0
        return cls(
            contract=contract, as_of=as_of, balance=now.principal, accrued_interest=now.interest_owed,
            late_charge=now.late_charge_owed, payoff=now.payoff, available_credit=available,
            status=status, status_reason=reason, arrears=now.arrears, overdue_since=now.overdue_since,
            next_due_date=due, amount_due=due_amount, paid_toward_due=paid,
            interest_to_due_date=at_due.interest_owed, late_charge_to_due_date=at_due.late_charge_owed,
            state=now, policy=policy, calendar=calendar,
        )


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


def _next_due(now: LoanState, contract: Contract, policy: LoanPolicy,
              calendar: BusinessCalendar) -> tuple[date | None, int, int, LoanState]:
    """The next due date still to be met, its amount, what is paid toward it, and the state then."""
    if now.due_date is None:
        return None, 0, 0, now
    at_due = now.copy()
    at_due.advance(now.due_date, contract, policy, calendar)
    amount = at_due.cycle_amount_due(policy)
    if at_due.paid >= amount:  # covered: the next one to meet is next month's
        assert at_due.due_date is not None
        following = due_date(add_months(at_due.due_month, 1), contract.due_day, calendar)  # type: ignore[arg-type]
        at_due.advance(following, contract, policy, calendar)
        if at_due.due_date is None:
            return None, 0, 0, at_due
        amount = at_due.cycle_amount_due(policy)
    return at_due.due_date, amount, at_due.paid, at_due


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
