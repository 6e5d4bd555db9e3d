"""The interest simulator (利息シミュレーション, product.md §7): schedules computed by the loan engine itself.

A schedule is what the engine's own ``LoanState`` would do run forward: a borrowing (or the member's real
state), then on each due date the interest charged and floored and the payment split late charge → interest →
principal exactly as ``payment_entries`` and ``LoanState.apply`` do, so the interest days, leap years,
business-day due dates and the amount-due rule are those of a real account. It is computed in integers
(``_fast_run``): the interest of each period in closed form over ``interest_denominator`` (``interest_units``,
split at Dec 31 as the engine splits it), the due dates and interest units of a start remembered per process
(``_periods``), no ``Fraction`` and no per-day step. ``run_with_engine`` is the engine's own loop, used for
the states the integer schedule does not model (arrears and late charge, a payment below the amount due);
tests/unit/test_simulator.py holds ``run`` to it, to the yen, from random member positions.

    inputs = parse_inputs(form, policy, limits)                       # NFKC, ASCII digits, ranges, cap
    plan = simulate_payment(inputs.amount, inputs.rate, inputs.payment, today, due_day, policy, calendar, limits)
    plan = simulate_months(inputs.amount, inputs.rate, inputs.months, today, due_day, policy, calendar, limits)

Impossible requests raise ``SimulatorError`` with the field it concerns and the figures that explain it
(the smallest payment that would work, the longest number of months, the legal cap).
"""

from __future__ import annotations

import functools
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Hashable, Mapping, NamedTuple

from domain.business_days import BusinessCalendar
from domain.credentials import has_forbidden_characters, nfkc
from domain.due_dates import Month, add_months, due_date, parse_due_day
from domain.errors import LoanError
from domain.interest import format_rate, interest, interest_denominator, interest_units, rate_cap, slide_amount
from domain.ledger import borrowing
from domain.loan import Contract, LoanState, Position, payment_entries, replay
from domain.policy import LoanPolicy

MODE_PAYMENT = "payment"  #: (a) amount + rate + monthly payment → months, interest, last payment
MODE_MONTHS = "months"  #: (b) amount + rate + months → monthly payment
MODES = (MODE_PAYMENT, MODE_MONTHS)

#: The longest month (31 days): a payment that does not beat its interest never lowers the balance.
LONGEST_MONTH = timedelta(days=31)

_YEN = re.compile("[0-9]{1,12}")
_RATE = re.compile("([0-9]{1,3})(?:\\.([0-9]{1,2}))?")
_MONTHS = re.compile("[0-9]{1,6}")


@dataclass(frozen=True, slots=True)
class SimulatorLimits:
    """The simulator's own numbers (``web/settings.py`` builds one); the loan rules are the ``LoanPolicy``."""

    months_max: int = 120  #: the longest schedule the simulator shows or accepts
    payment_unit: int = 1_000  #: mode (b) rounds the monthly payment up to this
    input_max_chars: int = 32  #: longer input is refused before it is looked at


class SimulatorError(LoanError):
    """Input the simulator explains instead of computing.

    ``field`` is the form field it belongs to; ``figures`` holds the numbers of the explanation
    (``minimum_payment``, ``interest_per_month``, ``max_months``, ``rate_cap``, …) for the page to show.
    """

    def __init__(self, field: str, message: str, **figures: int) -> None:
        super().__init__(message)
        self.field = field
        self.figures = figures


class Inputs(NamedTuple):
    """The public form's fields as the simulator reads them (a tuple: made and hashed on every keystroke, as
    the key of its outcome)."""

    mode: str
    amount: int
    rate: int  #: hundredths of a percent
    payment: int | None
    months: int | None


class Row(NamedTuple):
    """One month: what is paid on ``on`` and how the engine applied it (immutable; a tuple, as schedules
    have up to ``months_max`` of them and are built on every keystroke)."""

    number: int
    on: date
    payment: int
    interest: int
    principal: int
    balance: int  #: principal left after this payment


class Outline(NamedTuple):
    """What a schedule adds up to, without its rows: the figures and the chart of a keystroke's result."""

    months: int
    total_interest: int
    total_paid: int
    last_payment: int
    last_date: date | None
    balances: tuple[int, ...]  #: principal left after each payment


class Schedule:
    """A schedule to payoff. ``payment`` is the monthly payment asked for (or found, in mode (b)).

    Immutable. Made either from its ``rows``, or from its ``outline`` and ``build``, which makes the rows
    (the same ones, from the same integer run) the first time they are asked for: a keystroke shows only
    the figures and the chart, and its month-by-month table is fetched separately, when it is opened."""

    __slots__ = ("start", "balance", "rate", "payment", "minimum_payment", "owed_at_start", "_rows", "_outline",
                 "_build")

    def __init__(self, start: date, balance: int, rate: int, payment: int, rows: tuple[Row, ...] | None,
                 minimum_payment: int, owed_at_start: int = 0, *, outline: Outline | None = None,
                 build: Callable[[], tuple[Row, ...]] | None = None) -> None:
        assert rows is not None or (outline is not None and build is not None)
        self.start = start
        self.balance = balance  #: principal when the schedule starts
        self.rate = rate
        self.payment = payment
        self.minimum_payment = minimum_payment  #: the amount due (約定返済額) the payment had to reach
        self.owed_at_start = owed_at_start  #: interest (and late charge) already owed when it starts (member version)
        self._rows, self._outline, self._build = rows, outline, build

    def _fields(self) -> tuple:
        return (self.start, self.balance, self.rate, self.payment, self.rows, self.minimum_payment, self.owed_at_start)

    def __eq__(self, other: object) -> bool:
        return self._fields() == other._fields() if isinstance(other, Schedule) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._fields())

    def __repr__(self) -> str:
        return (f"Schedule(start={self.start!r}, balance={self.balance}, rate={self.rate}, payment={self.payment}, "
                f"months={self.months}, minimum_payment={self.minimum_payment}, owed_at_start={self.owed_at_start})")

    @property
    def rows(self) -> tuple[Row, ...]:
        if self._rows is None:
            assert self._build is not None
            self._rows, self._build = self._build(), None
        return self._rows

    @property
    def outline(self) -> Outline:
        if self._outline is None:
            rows = self.rows
            self._outline = Outline(len(rows), sum(row.interest for row in rows), sum(row.payment for row in rows),
                                    rows[-1].payment if rows else 0, rows[-1].on if rows else None,
                                    tuple(row.balance for row in rows))
        return self._outline

    @property
    def months(self) -> int:
        return self.outline.months

    @property
    def total_interest(self) -> int:
        return self.outline.total_interest

    @property
    def total_paid(self) -> int:
        return self.outline.total_paid

    @property
    def last_payment(self) -> int:
        return self.outline.last_payment

    @property
    def last_date(self) -> date | None:
        return self.outline.last_date

    @property
    def first_date(self) -> date | None:
        rows = self.rows
        return rows[0].on if rows else None


# --- parsing -------------------------------------------------------------------------------------

def _text(raw: str | None, field: str, label: str, limits: SimulatorLimits) -> str:
    if raw is None or not raw.strip():
        raise SimulatorError(field, f"{label}を入力してください。")
    if len(raw) > limits.input_max_chars:
        raise SimulatorError(field, f"{label}は{limits.input_max_chars}文字以内で入力してください。")
    text = nfkc(raw)
    if has_forbidden_characters(text):
        raise SimulatorError(field, f"{label}に使えない文字（改行・制御文字・見えない文字）が含まれています。")
    return text.strip()


def _plain(raw: str | None, pattern: re.Pattern[str], limits: SimulatorLimits) -> re.Match[str] | None:
    """The match of ``raw`` as it is when it is already plain ASCII (what most keystrokes send): NFKC and the
    invisible-character check would change nothing, so they are skipped."""
    return pattern.fullmatch(raw) if raw and len(raw) <= limits.input_max_chars else None


def parse_yen(raw: str | None, field: str, label: str, limits: SimulatorLimits) -> int:
    """'１００，０００円', '100000', '10万' → yen. Digits must be ASCII after NFKC (no Arabic-Indic)."""
    if _plain(raw, _YEN, limits) and raw[0] != "0":  # type: ignore[index]
        return int(raw)  # type: ignore[arg-type]
    text = _text(raw, field, label, limits).replace(",", "").replace(" ", "")
    text = text.removesuffix("円")
    scale = 1
    if text.endswith("万"):
        text, scale = text[:-1], 10_000
    if text.startswith(("-", "\u2212")):
        raise SimulatorError(field, f"{label}は1円以上の金額を入力してください。")
    if not _YEN.fullmatch(text):
        raise SimulatorError(field, f"{label}は半角または全角の数字で、円単位の整数を入力してください（例：100000）。")
    value = int(text) * scale
    if value <= 0:
        raise SimulatorError(field, f"{label}は1円以上の金額を入力してください。")
    return value


def parse_rate(raw: str | None, limits: SimulatorLimits) -> int:
    """'17.8', '１７．８％' → 1780 (hundredths of a percent); at most two decimals."""
    match = _plain(raw, _RATE, limits) or _RATE.fullmatch(_text(raw, "rate", "金利", limits).replace(" ", "").removesuffix("%"))
    if not match:
        raise SimulatorError("rate", "金利は年利の数字で入力してください（例：17.8）。小数点以下は2桁までです。")
    whole, frac = match.group(1), (match.group(2) or "").ljust(2, "0")
    value = int(whole) * 100 + int(frac)
    if value <= 0:
        raise SimulatorError("rate", "金利は0%より大きい値を入力してください。")
    return value


def parse_months(raw: str | None, limits: SimulatorLimits) -> int:
    text = raw if _plain(raw, _MONTHS, limits) else (  # type: ignore[assignment]
        _text(raw, "months", "返済回数", limits).replace(" ", "").removesuffix("回").removesuffix("ヶ月"))
    if not _MONTHS.fullmatch(text) or int(text) <= 0:
        raise SimulatorError("months", "返済回数は1以上の整数で入力してください（例：36）。")
    value = int(text)
    if value > limits.months_max:
        raise SimulatorError("months", f"返済回数は{limits.months_max}回までで入力してください。",
                             max_months=limits.months_max)
    return value


def check_terms(amount: int, rate: int, policy: LoanPolicy) -> None:
    """The amount within the product's limits; the rate within the legal cap for it and the product's range."""
    if not policy.limit_min <= amount <= policy.limit_max:
        raise SimulatorError("amount", f"お借入額は{policy.limit_min:,}円から{policy.limit_max:,}円の範囲で入力してください。")
    cap = rate_cap(amount, policy)
    if rate > cap:
        raise SimulatorError(
            "rate", f"{amount:,}円のお借入れの金利は、利息制限法により年{format_rate(cap)}までです。", rate_cap=cap)
    if not policy.rate_min <= rate <= policy.rate_max:
        raise SimulatorError(
            "rate", f"金利は年{format_rate(policy.rate_min)}から年{format_rate(policy.rate_max)}の範囲で入力してください。")


def parse_inputs(form: Mapping[str, str | None], policy: LoanPolicy, limits: SimulatorLimits,
                 *, amount: int | None = None, rate: int | None = None,
                 figures: dict[str, int] | None = None) -> tuple[Inputs | None, dict[str, str]]:
    """Every field checked; returns the inputs, or None and a message per field that is wrong
    (the numbers explaining a message go into ``figures``).

    ``amount``/``rate`` given (the member version: their balance and contract rate) are taken as they are.
    """
    errors: dict[str, str] = {}
    figures = {} if figures is None else figures

    def attempt(name: str, parse):
        try:
            return parse()
        except SimulatorError as error:
            errors[name] = error.message
            figures.update(error.figures)
            return None

    mode = form.get("mode") or MODE_PAYMENT
    if mode not in MODES:
        errors["mode"] = "計算方法を選んでください。"
        mode = MODE_PAYMENT
    contract_given = amount is not None and rate is not None
    if amount is None:
        amount = attempt("amount", lambda: parse_yen(form.get("amount"), "amount", "お借入額", limits))
    if rate is None:
        rate = attempt("rate", lambda: parse_rate(form.get("rate"), limits))
    if amount is not None and rate is not None and not errors and not contract_given:
        attempt("terms", lambda: check_terms(amount, rate, policy))
        if "terms" in errors:
            field_name = "rate" if "金利" in errors["terms"] else "amount"
            errors[field_name] = errors.pop("terms")
    payment = months = None
    if mode == MODE_PAYMENT:
        payment = attempt("payment", lambda: parse_yen(form.get("payment"), "payment", "毎月のご返済額", limits))
    else:
        months = attempt("months", lambda: parse_months(form.get("months"), limits))
    if errors or amount is None or rate is None:
        return None, errors
    return Inputs(mode, amount, rate, payment, months), {}


def plain_inputs(form: Mapping[str, str | None], policy: LoanPolicy, limits: SimulatorLimits) -> Inputs | None:
    """The public form's inputs when every field is as most keystrokes send it (plain ASCII digits, within
    range and the legal cap): what ``parse_inputs`` returns for it, without its bookkeeping. None when any
    field is not, and ``parse_inputs`` reads it (and explains it)."""
    mode = form.get("mode") or MODE_PAYMENT
    raw_amount, raw_rate = form.get("amount"), form.get("rate")
    if mode not in MODES or not _plain(raw_amount, _YEN, limits) or raw_amount[0] == "0":  # type: ignore[index]
        return None
    rate_match = _plain(raw_rate, _RATE, limits)
    if rate_match is None:
        return None
    amount, rate = int(raw_amount), int(rate_match.group(1)) * 100 + int((rate_match.group(2) or "").ljust(2, "0"))
    if (not 0 < rate <= rate_cap(amount, policy) or not policy.limit_min <= amount <= policy.limit_max
            or not policy.rate_min <= rate <= policy.rate_max):
        return None
    if mode == MODE_PAYMENT:
        raw = form.get("payment")
        if not _plain(raw, _YEN, limits) or raw[0] == "0":  # type: ignore[index]
            return None
        return Inputs(mode, amount, rate, int(raw), None)  # type: ignore[arg-type]
    raw = form.get("months")
    if not _plain(raw, _MONTHS, limits) or not 0 < int(raw) <= limits.months_max:  # type: ignore[arg-type]
        return None
    return Inputs(mode, amount, rate, None, int(raw))  # type: ignore[arg-type]


# --- the engine, run forward ---------------------------------------------------------------------

def start_state(contract: Contract, amount: int, start: date, policy: LoanPolicy,
                calendar: BusinessCalendar) -> LoanState:
    """A new loan: ``amount`` borrowed on ``start``, folded by the engine (first due date, slide base)."""
    return replay(contract, [borrowing(start, amount)], policy, calendar)


def minimum_payment(state: LoanState, contract: Contract, policy: LoanPolicy) -> tuple[int, int]:
    """(the smallest monthly payment the simulator accepts, the interest of a 31-day month on the balance).

    The payment must reach the amount due (残高スライド) and must beat a long month's interest, or the
    balance would never fall."""
    assert state.through is not None
    monthly_interest = interest(state.principal, contract.rate, state.through, state.through + LONGEST_MONTH, policy)
    return max(slide_amount(state.slide_base, policy), monthly_interest + 1), monthly_interest


class _Periods:
    """The payment dates of a schedule and the interest units (``interest_units``) of the days each payment
    pays for, extended on demand. They depend only on the calendar, the start and the due day, never on the
    amount, rate or payment, so one is remembered per start (``_periods``) and shared by every keystroke
    (and by every payment tried in mode (b)).

    The dates are the engine's: the cycle's nominal month goes forward one month at a time and each due
    date is that month's due day moved to the next business day (``due_date``)."""

    __slots__ = ("dates", "units", "_month", "_previous", "_due_day", "_free_until", "_policy", "_calendar")

    def __init__(self, start: date, month: Month, first_due: date, due_day: int, free_until: date | None,
                 policy: LoanPolicy, calendar: BusinessCalendar) -> None:
        self.dates: list[date] = []
        self.units: list[int] = []
        self._month, self._previous, self._due_day = month, start, due_day
        self._free_until, self._policy, self._calendar = free_until, policy, calendar
        self._add(first_due)

    def _add(self, on: date) -> None:
        counted_from = self._previous  # interest runs from the day after; interest-free days count nothing
        if self._free_until is not None and self._free_until > counted_from:
            counted_from = self._free_until
        self.units.append(interest_units(counted_from, on, self._policy))
        self.dates.append(on)
        self._previous = on

    def upto(self, count: int) -> "_Periods":
        while len(self.dates) < count:
            self._month = add_months(self._month, 1)
            self._add(due_date(self._month, self._due_day, self._calendar))
        return self


@functools.lru_cache(maxsize=256)
def _periods(start: date, month: Month, first_due: date, due_day: int, free_until: date | None,
             policy: LoanPolicy, calendar: BusinessCalendar) -> _Periods:
    return _Periods(start, month, first_due, due_day, free_until, policy, calendar)


@dataclass(frozen=True, slots=True)
class _Start:
    """A state as integers for the fast schedule: principal, charged interest, late charge owed, the
    accrued interest in units of 1/``denominator`` yen, and what counts toward the first payment's cycle."""

    periods: _Periods
    principal: int
    interest: int
    late_charge: int
    accrued: int
    denominator: int
    paid: int  #: already paid toward the cycle of the first payment
    slide: int  #: the amount due (残高スライド) each cycle must reach


def _fast_start(contract: Contract, state: LoanState, first_due: date, policy: LoanPolicy,
                calendar: BusinessCalendar) -> _Start | None:
    """The integer start of a schedule paying on ``first_due`` and each due date after it, or None when the
    state is one the fast schedule does not model (late charge accruing, arrears, no cycle, or a first
    payment date that is not the due date of the current or the next cycle): ``run_with_engine`` then."""
    if (state.through is None or state.due_month is None or state.due_date is None or state.arrears
            or state.overdue_since is not None or first_due < state.due_date):
        return None
    denominator = interest_denominator(policy)
    accrued, late = 0, state.late_charge
    if state.accrued_interest:
        exact = state.accrued_interest * denominator
        if exact.denominator != 1:
            return None
        accrued = int(exact)
    if state.accrued_late:
        late += int(state.accrued_late)
    principal, interest_ = state.principal, state.interest
    slide, paid, month = slide_amount(state.slide_base, policy), state.paid, state.due_month
    if first_due != state.due_date:  # the current cycle closes before the first payment: it must be met
        month = add_months(month, 1)
        if due_date(month, contract.due_day, calendar) != first_due:
            return None
        days = interest_units(_free_from(state.through, contract), state.due_date, policy)
        owed = principal + interest_ + late + (accrued + max(0, principal) * contract.rate * days) // denominator
        if min(slide, paid + owed) > paid:
            return None  # a shortfall: arrears and late charge, which the engine handles
        paid = 0
    periods = _periods(state.through, month, first_due, contract.due_day, contract.interest_free_until, policy,
                       calendar)
    return _Start(periods, principal, interest_, late, accrued, denominator, paid, slide)


def _free_from(day: date, contract: Contract) -> date:
    free_until = contract.interest_free_until
    return free_until if free_until is not None and free_until > day else day


def _payoff_on_first_due(start: _Start, rate: int) -> int:
    accrued = start.accrued + (start.principal * rate * start.periods.units[0] if start.principal > 0 else 0)
    return start.principal + start.interest + start.late_charge + accrued // start.denominator


_new_row = tuple.__new__  # Row(...) without the extra call of the generated ``__new__``


def _fast_run(start: _Start, rate: int, payment: int, max_months: int,
              rows: list[Row] | None) -> int | None:
    """The engine's schedule in integers: on each due date the interest accrued since the last payment is
    charged (floored; the fraction of a yen is dropped when a yen or more is charged, carried otherwise, as
    ``LoanState.apply`` does) and ``min(payment, payoff)`` is split late charge → interest → principal.

    Returns the number of payments to payoff (filling ``rows`` when given), None when it takes more than
    ``max_months``, or -1 when a cycle would close short of its amount due (the engine takes over)."""
    periods = start.periods.upto(max_months)
    dates, units = periods.dates, periods.units
    principal, interest_, late, accrued = start.principal, start.interest, start.late_charge, start.accrued
    denominator, slide, paid = start.denominator, start.slide, start.paid
    if principal + interest_ + late + accrued // denominator <= 0:
        return 0
    if late == 0 and rows is not None:
        return _fast_rows(principal, interest_, accrued, denominator, slide, paid, rate, payment, max_months,
                          dates, units, rows)
    for index in range(max_months):
        if principal > 0:
            accrued += principal * rate * units[index]
        charged = accrued // denominator
        if charged:
            interest_ += charged
            accrued = 0
        paying = principal + interest_ + late
        if payment < paying:
            paying = payment
        to_late = paying if paying < late else late
        to_interest = paying - to_late if paying - to_late < interest_ else interest_
        to_principal = paying - to_late - to_interest
        late -= to_late
        interest_ -= to_interest
        principal -= to_principal
        if rows is not None:
            rows.append(_new_row(Row, (index + 1, dates[index], paying, to_interest + to_late, to_principal, principal)))
        if principal + interest_ + late == 0:
            return index + 1
        if paid + paying < slide:
            return -1
        paid = 0
    return None


def _fast_rows(principal: int, interest_: int, accrued: int, denominator: int, slide: int, paid: int, rate: int,
               payment: int, max_months: int, dates: list[date], units: list[int], rows: list[Row]) -> int | None:
    """``_fast_run`` with no late charge owed (none can arise in it, so every payment goes to interest, then
    principal), filling ``rows``: every schedule of a new loan, the one a keystroke asks for."""
    append = rows.append
    for index in range(max_months):
        if principal > 0:
            accrued += principal * rate * units[index]
        charged = accrued // denominator
        if charged:
            interest_ += charged
            accrued = 0
        owed = principal + interest_
        paying = payment if payment < owed else owed
        to_interest = paying if paying < interest_ else interest_
        interest_ -= to_interest
        principal -= paying - to_interest
        append(_new_row(Row, (index + 1, dates[index], paying, to_interest, paying - to_interest, principal)))
        if principal + interest_ == 0:
            return index + 1
        if paid + paying < slide:
            return -1
        paid = 0
    return None


def _fast_outline(start: _Start, rate: int, payment: int, max_months: int) -> Outline | int | None:
    """``_fast_rows`` adding up instead of writing rows (the same steps, the same integers): the outline of the
    schedule, None when it takes more than ``max_months``, or -1 when it is not one ``_fast_rows`` makes (late
    charge owed, or a cycle that would close short of its amount due: ``_run`` then)."""
    if start.late_charge:
        return -1
    dates, units = start.periods.upto(max_months).dates, start.periods.units
    principal, interest_, accrued = start.principal, start.interest, start.accrued
    denominator, slide, paid = start.denominator, start.slide, start.paid
    if principal + interest_ + accrued // denominator <= 0:
        return -1
    balances: list[int] = []
    append = balances.append
    total_interest = total_paid = 0
    for index in range(max_months):
        if principal > 0:
            accrued += principal * rate * units[index]
        charged = accrued // denominator
        if charged:
            interest_ += charged
            accrued = 0
        owed = principal + interest_
        paying = payment if payment < owed else owed
        to_interest = paying if paying < interest_ else interest_
        interest_ -= to_interest
        principal -= paying - to_interest
        total_interest += to_interest
        total_paid += paying
        append(principal)
        if principal + interest_ == 0:
            return Outline(index + 1, total_interest, total_paid, paying, dates[index], tuple(balances))
        if paid + paying < slide:
            return -1
        paid = 0
    return None


def run_with_engine(contract: Contract, state: LoanState, first_due: date, payment: int, policy: LoanPolicy,
                    calendar: BusinessCalendar, max_months: int) -> tuple[Row, ...] | None:
    """``run`` the long way: the engine's ``LoanState`` folding each payment's entries, day rules and all.

    Used for the states the integer schedule does not model (a member with late charge accruing, or a
    payment below the amount due); the tests hold ``run`` to it over random loans."""
    state = state.copy()
    rows: list[Row] = []
    on = first_due
    while state.payoff > 0:
        if len(rows) >= max_months:
            return None
        state.advance(on, contract, policy, calendar)
        paying = min(payment, state.payoff)
        entries = payment_entries(state, on, paying)
        for entry in entries:
            state.apply(entry, contract, policy, calendar)
        repayment = entries[-1]
        rows.append(Row(len(rows) + 1, on, paying, -repayment.interest - repayment.late_charge,
                        -repayment.principal, state.principal))
        if state.payoff > 0:
            assert state.due_month is not None
            on = due_date(add_months(state.due_month, 1), contract.due_day, calendar)
    return tuple(rows)


def run(contract: Contract, state: LoanState, first_due: date, payment: int, policy: LoanPolicy,
        calendar: BusinessCalendar, max_months: int) -> tuple[Row, ...] | None:
    """Pay ``payment`` (or the payoff, when less) on each due date from ``first_due`` until paid off.

    Each payment is the engine's: the days since the last one accrue interest (``LoanState.advance``), it is
    charged floored and the payment split as ``payment_entries`` does and folded in as ``LoanState.apply``
    does, exactly as a repayment posted that day would be, computed in integers over one denominator
    (``_fast_run``; ``run_with_engine`` for what that does not model). Returns None when it takes more
    than ``max_months``.
    """
    return _run(contract, state, first_due, payment, policy, calendar, max_months,
                _fast_start(contract, state, first_due, policy, calendar))


def _run(contract: Contract, state: LoanState, first_due: date, payment: int, policy: LoanPolicy,
         calendar: BusinessCalendar, max_months: int, start: _Start | None) -> tuple[Row, ...] | None:
    if start is not None:
        if 0 < payment and payment * max_months < start.principal + start.interest + start.late_charge:
            return None  # even ``max_months`` whole payments do not add up to what is owed today
        rows: list[Row] = []
        months = _fast_run(start, contract.rate, payment, max_months, rows)
        if months is None:
            return None
        if months >= 0:
            return tuple(rows)
    return run_with_engine(contract, state, first_due, payment, policy, calendar, max_months)


def _schedule(contract: Contract, state: LoanState, first_due: date, payment: int, policy: LoanPolicy,
              calendar: BusinessCalendar, limits: SimulatorLimits, minimum: int, start: _Start | None,
              owed_at_start: int | None = None) -> Schedule:
    """The schedule paying ``payment``: its outline only when the integer run makes it (its rows are made when
    first asked for, from the same run), else its rows."""
    months_max = limits.months_max
    outline: Outline | int | None = -1
    if start is not None and not (0 < payment and payment * months_max < start.principal + start.interest
                                  + start.late_charge):
        outline = _fast_outline(start, contract.rate, payment, months_max)
    rows = None
    if outline == -1:
        outline = None
        rows = _run(contract, state, first_due, payment, policy, calendar, months_max, start)
        if rows is None:
            raise _too_long(limits)
    elif outline is None:
        raise _too_long(limits)
    assert state.through is not None
    if owed_at_start is None:
        owed_at_start = state.interest_owed + state.late_charge_owed
    # a partial, not a closure: the remembered outcomes hold one object for it, not a cell per name
    build = None if rows is not None else functools.partial(_run, contract, state, first_due, payment, policy,
                                                            calendar, months_max, start)
    return Schedule(start=state.through, balance=state.principal, rate=contract.rate, payment=payment, rows=rows,
                    minimum_payment=minimum, owed_at_start=owed_at_start, outline=outline,  # type: ignore[arg-type]
                    build=build)  # type: ignore[arg-type]


def _too_long(limits: SimulatorLimits) -> SimulatorError:
    return SimulatorError("payment", f"このご返済額では完済まで{limits.months_max}回を超えます。毎月のご返済額を増やしてください。",
                          max_months=limits.months_max)


def check_payment(payment: int, state: LoanState, first_due: date, contract: Contract, policy: LoanPolicy,
                  calendar: BusinessCalendar) -> int:
    """Refuse a payment that never covers the interest or misses the amount due; returns the minimum."""
    start = _fast_start(contract, state, first_due, policy, calendar)
    minimum, monthly_interest = minimum_payment(state, contract, policy)
    _check_payment(payment, minimum, monthly_interest, _payoff_then(contract, state, first_due, policy, calendar, start))
    return minimum


def _payoff_then(contract: Contract, state: LoanState, first_due: date, policy: LoanPolicy,
                 calendar: BusinessCalendar, start: _Start | None) -> int:
    """What paying everything off on ``first_due`` would take (a payment of that or more always works)."""
    return (_payoff_on_first_due(start, contract.rate) if start is not None
            else Position.of(contract, state, first_due, policy, calendar).payoff)


def _check_payment(payment: int, minimum: int, monthly_interest: int, payoff_then: int) -> None:
    if payment >= payoff_then:
        return
    if payment <= monthly_interest:
        raise SimulatorError(
            "payment",
            f"毎月{payment:,}円では、1か月（31日）のお利息{monthly_interest:,}円を払いきれず、残高が減りません。"
            f"完済するには毎月{minimum:,}円以上が必要です。",
            minimum_payment=minimum, interest_per_month=monthly_interest)
    if payment < minimum:
        raise SimulatorError(
            "payment", f"毎月のご返済額は、約定返済額の{minimum:,}円以上で入力してください。", minimum_payment=minimum)


def simulate_payment(amount: int, rate: int, payment: int, start: date, due_day: int, policy: LoanPolicy,
                     calendar: BusinessCalendar, limits: SimulatorLimits) -> Schedule:
    """(a) Borrow ``amount`` at ``rate`` on ``start``, pay ``payment`` on each due date: the schedule."""
    loan = _new_loan(amount, rate, start, due_day, policy, calendar)
    _check_payment(payment, loan.minimum, loan.monthly_interest, loan.payoff_then)
    return _schedule(loan.contract, loan.state, loan.first_due, payment, policy, calendar, limits, loan.minimum,
                     loan.start, loan.owed_at_start)


class _Loan(NamedTuple):
    """A new loan as the simulator starts it, with what every payment tried on it is checked against."""

    contract: Contract
    state: LoanState  #: shared: only ever read (``run_with_engine`` and ``Position.of`` work on copies)
    start: _Start | None  #: the integer start of its schedule (``_fast_start``)
    first_due: date
    minimum: int  #: the smallest monthly payment accepted (``minimum_payment``)
    monthly_interest: int  #: a 31-day month's interest on the balance
    payoff_then: int  #: what is owed on the first due date
    owed_at_start: int


@functools.lru_cache(maxsize=1024)
def _new_loan(amount: int, rate: int, start: date, due_day: int, policy: LoanPolicy,
              calendar: BusinessCalendar) -> _Loan:
    """The engine's state after borrowing ``amount`` on ``start``, its integer start and the figures a payment
    is checked against, remembered: a visitor changing only the payment asks for the same loan again."""
    contract = Contract(limit=amount, rate=rate, due_day=due_day)
    state = start_state(contract, amount, start, policy, calendar)
    assert state.due_date is not None
    begin = _fast_start(contract, state, state.due_date, policy, calendar)
    minimum, monthly_interest = minimum_payment(state, contract, policy)
    return _Loan(contract, state, begin, state.due_date, minimum, monthly_interest,
                 _payoff_then(contract, state, state.due_date, policy, calendar, begin),
                 state.interest_owed + state.late_charge_owed)


def simulate_months(amount: int, rate: int, months: int, start: date, due_day: int, policy: LoanPolicy,
                    calendar: BusinessCalendar, limits: SimulatorLimits) -> Schedule:
    """(b) Borrow ``amount`` at ``rate`` on ``start``: the smallest monthly payment (a multiple of
    ``limits.payment_unit``) that pays it off in ``months`` payments or fewer, with its schedule."""
    loan = _new_loan(amount, rate, start, due_day, policy, calendar)
    return find_payment(loan.contract, loan.state, loan.first_due, months, policy, calendar, limits)


def find_payment(contract: Contract, state: LoanState, first_due: date, months: int, policy: LoanPolicy,
                 calendar: BusinessCalendar, limits: SimulatorLimits) -> Schedule:
    """The smallest payment (a multiple of the unit, at least the minimum) that pays off in ``months``."""
    minimum, _ = minimum_payment(state, contract, policy)
    unit = limits.payment_unit
    start = _fast_start(contract, state, first_due, policy, calendar)

    def payments(payment: int, max_months: int) -> int | None:
        """How many payments of ``payment`` pay it off (None: more than ``max_months``)."""
        if start is not None and (count := _fast_run(start, contract.rate, payment, max_months, None)) != -1:
            return count
        rows = run_with_engine(contract, state, first_due, payment, policy, calendar, max_months)
        return None if rows is None else len(rows)

    slowest = payments(minimum, min(months - 1, limits.months_max))  # paying the minimum, fewer than ``months``?
    if slowest is not None:
        raise SimulatorError(
            "months",
            f"{months}回では毎月のご返済額が約定返済額（{minimum:,}円）を下回ります。"
            f"約定返済額どおりのご返済で{slowest}回で完済となります。",
            max_months=slowest, minimum_payment=minimum)
    # Bounds: paying the principal alone over ``months`` is too little; adding the interest the full
    # balance would earn until the last due date is always enough (the balance only falls).
    last_due = _last_due(first_due, months, contract.due_day, calendar)
    assert state.through is not None
    owed = state.payoff + interest(state.principal, contract.rate, state.through, last_due, policy)
    low = max(minimum, _round_up(-(-state.principal // months), unit))
    high = max(low, _round_up(-(-owed // months), unit))
    assert payments(high, months) is not None, "the upper bound always pays off in time"
    best_payment = high
    lo, hi = low // unit, high // unit - 1  # search multiples of the unit below ``high``
    while lo <= hi:
        mid = (lo + hi) // 2
        if payments(max(mid * unit, minimum), months) is None:
            lo = mid + 1
        else:
            best_payment, hi = max(mid * unit, minimum), mid - 1
    best = _run(contract, state, first_due, best_payment, policy, calendar, months, start)
    assert best is not None
    return Schedule(start=state.through, balance=state.principal, rate=contract.rate, payment=best_payment,
                    rows=best, minimum_payment=minimum, owed_at_start=state.interest_owed + state.late_charge_owed)


@functools.lru_cache(maxsize=1024)
def _last_due(first_due: date, months: int, due_day: int, calendar: BusinessCalendar) -> date:
    """The due date ``months - 1`` months after ``first_due``, month by month from each date (an upper
    bound for ``find_payment`` only)."""
    last_due = first_due
    for _ in range(months - 1):
        last_due = due_date(add_months((last_due.year, last_due.month), 1), due_day, calendar)
    return last_due


@dataclass(frozen=True, slots=True)
class Outcome:
    """What the simulator page shows for one submission: a schedule, or why there is none."""

    mode: str
    due_day: int
    schedule: Schedule | None = None
    errors: dict[str, str] = field(default_factory=dict)  #: field → message
    figures: dict[str, int] = field(default_factory=dict)  #: the numbers that explain an error

    @property
    def ok(self) -> bool:
        return self.schedule is not None


class OutcomeCache:
    """A bounded, least-recently-used memo of outcomes by their parsed inputs, for one policy and calendar.

    The simulator is a pure function of (inputs, start day, due day), so a keystroke someone already
    typed today (the page's own example, round amounts) costs a lookup instead of a schedule."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._items: OrderedDict[Hashable, Outcome] = OrderedDict()

    def get(self, key: Hashable, compute: Callable[[], Outcome]) -> Outcome:
        if self.size <= 0:
            return compute()
        found = self._items.get(key)
        if found is not None:
            self._items.move_to_end(key)
            return found
        outcome = self._items[key] = compute()
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return outcome


def simulate_form(form: Mapping[str, str | None], start: date, default_due_day: int, policy: LoanPolicy,
                  calendar: BusinessCalendar, limits: SimulatorLimits, cache: OutcomeCache | None = None) -> Outcome:
    """The public simulator (modes a and b) for a submitted form; never raises for bad input.

    ``cache`` (made for this policy and calendar) remembers outcomes by their inputs, and explanations of
    input that cannot be read by the text typed."""
    due_day, errors = default_due_day, {}
    if form.get("due_day"):
        due_day_or_error = _due_day(form["due_day"] or "", policy, limits.input_max_chars)
        if isinstance(due_day_or_error, str):
            errors["due_day"] = due_day_or_error
        else:
            due_day = due_day_or_error
    figures: dict[str, int] = {}
    inputs = None if errors else plain_inputs(form, policy, limits)
    if inputs is None:
        inputs, field_errors = parse_inputs(form, policy, limits, figures=figures)
        errors.update(field_errors)
    mode = inputs.mode if inputs else (form.get("mode") if form.get("mode") in MODES else MODE_PAYMENT)
    if inputs is None or errors:
        explained = Outcome(str(mode), due_day, errors=errors, figures=figures)
        typed = tuple(form.get(name) for name in _TYPED)
        if cache is None or any(value and len(value) > limits.input_max_chars for value in typed):
            return explained
        # the same text explained the same way (an amount typed a digit at a time: 5, 50, …), remembered by
        # what was typed, so that its piece is too; never text longer than a field may be
        return cache.get(("typed", typed, due_day), lambda: explained)
    compute = lambda: _outcome(inputs, start, due_day, policy, calendar, limits)  # noqa: E731
    return cache.get((inputs, start, due_day), compute) if cache else compute()


_TYPED = ("mode", "amount", "rate", "payment", "months", "due_day")  #: the public form's fields


@functools.lru_cache(maxsize=64)
def _due_day(raw: str, policy: LoanPolicy, max_chars: int) -> int | str:
    """The due day chosen (``parse_due_day``), or the message saying why it cannot be: remembered, as the
    form sends one of four values."""
    try:
        return parse_due_day(nfkc(raw)[:max_chars], policy)
    except LoanError as error:
        return error.message


def _outcome(inputs: Inputs, start: date, due_day: int, policy: LoanPolicy, calendar: BusinessCalendar,
             limits: SimulatorLimits) -> Outcome:
    mode = inputs.mode
    try:
        if inputs.mode == MODE_PAYMENT:
            assert inputs.payment is not None
            plan = simulate_payment(inputs.amount, inputs.rate, inputs.payment, start, due_day, policy, calendar, limits)
        else:
            assert inputs.months is not None
            plan = simulate_months(inputs.amount, inputs.rate, inputs.months, start, due_day, policy, calendar, limits)
    except SimulatorError as error:
        return Outcome(mode, due_day, errors={error.field: error.message}, figures=error.figures)
    return Outcome(mode, due_day, schedule=plan)


def simulate_position(form: Mapping[str, str | None], position: Position | None, limits: SimulatorLimits) -> Outcome:
    """The member version (mode c): "if I pay ¥X a month" (or "in N payments") from today's position.

    The member's own state goes forward from ``position.as_of``: their balance, the interest accrued so far,
    their rate, due day, amount due (their slide base) and what they already paid toward the next due date.
    Never cached: one member's figures are never kept where another request could meet them.
    """
    if position is None:
        return Outcome(MODE_PAYMENT, 0, errors={"mode": "ご契約の情報が見つかりません。お手数ですがお問い合わせください。"})
    contract, policy = position.contract, position.policy
    figures: dict[str, int] = {}
    inputs, errors = parse_inputs(form, policy, limits, amount=position.balance, rate=position.rate, figures=figures)
    mode = inputs.mode if inputs else (str(form.get("mode")) if form.get("mode") in MODES else MODE_PAYMENT)
    if position.payoff == 0 or position.next_due_date is None:
        errors = {"mode": "現在ご返済いただくお借入れはありません。お借入れ前の試算は、ご返済シミュレーションをご利用ください。"}
    elif position.arrears > 0:
        errors = {"mode": f"お支払いが確認できていないご返済（{position.arrears:,}円）があるため、試算できません。"
                          "先に未払い分をご返済ください。"}
    if inputs is None or errors:
        return Outcome(mode, contract.due_day, errors=errors, figures=figures)
    return _position_outcome(inputs, position, limits)


def _position_outcome(inputs: Inputs, position: Position, limits: SimulatorLimits) -> Outcome:
    contract, policy, calendar, state = position.contract, position.policy, position.calendar, position.state
    first_due = position.next_due_date
    assert first_due is not None
    try:
        if inputs.mode == MODE_PAYMENT:
            assert inputs.payment is not None
            start = _fast_start(contract, state, first_due, policy, calendar)
            minimum, monthly_interest = minimum_payment(state, contract, policy)
            _check_payment(inputs.payment, minimum, monthly_interest,
                           _payoff_then(contract, state, first_due, policy, calendar, start))
            plan = _schedule(contract, state, first_due, inputs.payment, policy, calendar, limits, minimum, start)
        else:
            assert inputs.months is not None
            plan = find_payment(contract, state, first_due, inputs.months, policy, calendar, limits)
    except SimulatorError as error:
        return Outcome(inputs.mode, contract.due_day, errors={error.field: error.message}, figures=error.figures)
    return Outcome(inputs.mode, contract.due_day, schedule=plan)


def _round_up(value: int, unit: int) -> int:
    return -(-value // unit) * unit


__all__ = [
    "MODES", "MODE_MONTHS", "MODE_PAYMENT", "Inputs", "Outcome", "OutcomeCache", "Outline", "Row", "Schedule", "SimulatorError", "SimulatorLimits",
    "check_payment", "check_terms", "find_payment", "minimum_payment", "parse_inputs", "parse_months",
    "member_default_form", "parse_rate", "parse_yen", "plain_inputs", "run", "simulate_form", "simulate_months", "simulate_payment", "simulate_position", "start_state",
]


def default_form(amount: int, months: int, policy: LoanPolicy) -> dict[str, str]:
    """What the empty page shows: ``amount`` at the product's highest rate, paying the amount due."""
    return {
        "mode": MODE_PAYMENT, "amount": str(amount), "rate": format_rate(policy.rate_max).removesuffix("%"),
        "payment": str(slide_amount(amount, policy)), "months": str(months), "due_day": "",
    }


def member_default_form(position: Position | None, months: int) -> dict[str, str]:
    """The member page before anything is typed: paying the amount due (約定返済額) every month."""
    payment = minimum_payment(position.state, position.contract, position.policy)[0] if position else 0
    return {"mode": MODE_PAYMENT, "payment": str(payment), "months": str(months)}
