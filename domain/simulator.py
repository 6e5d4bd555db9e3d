"""The interest simulator (利息シミュレーション, product.md §7): schedules computed by the loan engine itself.

There is no second interest formula here. A schedule is the engine's own ``LoanState`` run forward: a
borrowing (or the member's real state), then on each due date the engine's ``payment_entries`` (interest
charged and floored, the payment split late charge → interest → principal), applied with
``LoanState.apply``, so the interest days, leap years, business-day due dates and the amount-due rule
are exactly those of a real account.

    inputs = parse_inputs(form, policy, limits)                       # NFKC, ASCII digits, ranges, cap
    plan = simulate_payment(inputs.amount, inputs.rate, inputs.payment, today, due_day, policy, calendar, limits)
    plan = simulate_months(inputs.amount, inputs.rate, inputs.months, today, due_day, policy, calendar, limits)

Impossible requests raise ``SimulatorError`` with the field it concerns and the figures that explain it
(the smallest payment that would work, the longest number of months, the legal cap).
"""

from __future__ import annotations

import re
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Callable, Hashable, Mapping

from domain.business_days import BusinessCalendar
from domain.credentials import has_forbidden_characters, nfkc
from domain.due_dates import add_months, due_date, parse_due_day
from domain.errors import LoanError
from domain.interest import format_rate, interest, rate_cap, slide_amount
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


@dataclass(frozen=True, slots=True)
class Inputs:
    mode: str
    amount: int
    rate: int  #: hundredths of a percent
    payment: int | None
    months: int | None


@dataclass(frozen=True, slots=True)
class Row:
    """One month: what is paid on ``on`` and how the engine applied it."""

    number: int
    on: date
    payment: int
    interest: int
    principal: int
    balance: int  #: principal left after this payment


@dataclass(frozen=True, slots=True)
class Schedule:
    """A schedule to payoff. ``payment`` is the monthly payment asked for (or found, in mode (b))."""

    start: date
    balance: int  #: principal when the schedule starts
    rate: int
    payment: int
    rows: tuple[Row, ...]
    minimum_payment: int  #: the amount due (約定返済額) the payment had to reach
    owed_at_start: int = 0  #: interest (and late charge) already owed when it starts (member version)

    @property
    def months(self) -> int:
        return len(self.rows)

    @property
    def total_interest(self) -> int:
        return sum(row.interest for row in self.rows)

    @property
    def total_paid(self) -> int:
        return sum(row.payment for row in self.rows)

    @property
    def last_payment(self) -> int:
        return self.rows[-1].payment if self.rows else 0

    @property
    def last_date(self) -> date | None:
        return self.rows[-1].on if self.rows else None

    @property
    def first_date(self) -> date | None:
        return self.rows[0].on if self.rows else None


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


def parse_yen(raw: str | None, field: str, label: str, limits: SimulatorLimits) -> int:
    """'１００，０００円', '100000', '10万' → yen. Digits must be ASCII after NFKC (no Arabic-Indic)."""
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
    text = _text(raw, "rate", "金利", limits).replace(" ", "").removesuffix("%")
    match = _RATE.fullmatch(text)
    if not match:
        raise SimulatorError("rate", "金利は年利の数字で入力してください（例：17.8）。小数点以下は2桁までです。")
    whole, frac = match.group(1), (match.group(2) or "").ljust(2, "0")
    value = int(whole) * 100 + int(frac)
    if value <= 0:
        raise SimulatorError("rate", "金利は0%より大きい値を入力してください。")
    return value


def parse_months(raw: str | None, limits: SimulatorLimits) -> int:
    text = _text(raw, "months", "返済回数", limits).replace(" ", "").removesuffix("回").removesuffix("ヶ月")
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


def _next_due(state: LoanState, contract: Contract, calendar: BusinessCalendar) -> date:
    assert state.due_month is not None
    return due_date(add_months(state.due_month, 1), contract.due_day, calendar)


def run(contract: Contract, state: LoanState, first_due: date, payment: int, policy: LoanPolicy,
        calendar: BusinessCalendar, max_months: int) -> tuple[Row, ...] | None:
    """Pay ``payment`` (or the payoff, when less) on each due date from ``first_due`` until paid off.

    Each payment is the engine's: ``LoanState.advance`` accrues the days, ``payment_entries`` charges the
    interest (floored) and splits the payment, ``LoanState.apply`` folds it in, exactly as a repayment
    posted that day would be. Returns None when it takes more than ``max_months``.
    """
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
            on = _next_due(state, contract, calendar)
    return tuple(rows)


def _schedule(contract: Contract, state: LoanState, first_due: date, payment: int, policy: LoanPolicy,
              calendar: BusinessCalendar, limits: SimulatorLimits, minimum: int) -> Schedule:
    rows = run(contract, state, first_due, payment, policy, calendar, limits.months_max)
    if rows is None:
        raise SimulatorError("payment", f"このご返済額では完済まで{limits.months_max}回を超えます。毎月のご返済額を増やしてください。",
                             max_months=limits.months_max)
    assert state.through is not None
    return Schedule(start=state.through, balance=state.principal, rate=contract.rate, payment=payment, rows=rows,
                    minimum_payment=minimum, owed_at_start=state.interest_owed + state.late_charge_owed)


def check_payment(payment: int, state: LoanState, first_due: date, contract: Contract, policy: LoanPolicy,
                  calendar: BusinessCalendar) -> int:
    """Refuse a payment that never covers the interest or misses the amount due; returns the minimum."""
    minimum, monthly_interest = minimum_payment(state, contract, policy)
    payoff_then = Position.of(contract, state, first_due, policy, calendar).payoff
    if payment >= payoff_then:
        return minimum
    if payment <= monthly_interest:
        raise SimulatorError(
            "payment",
            f"毎月{payment:,}円では、1か月（31日）のお利息{monthly_interest:,}円を払いきれず、残高が減りません。"
            f"完済するには毎月{minimum:,}円以上が必要です。",
            minimum_payment=minimum, interest_per_month=monthly_interest)
    if payment < minimum:
        raise SimulatorError(
            "payment", f"毎月のご返済額は、約定返済額の{minimum:,}円以上で入力してください。", minimum_payment=minimum)
    return minimum


def simulate_payment(amount: int, rate: int, payment: int, start: date, due_day: int, policy: LoanPolicy,
                     calendar: BusinessCalendar, limits: SimulatorLimits) -> Schedule:
    """(a) Borrow ``amount`` at ``rate`` on ``start``, pay ``payment`` on each due date: the schedule."""
    contract = Contract(limit=amount, rate=rate, due_day=due_day)
    state = start_state(contract, amount, start, policy, calendar)
    assert state.due_date is not None
    minimum = check_payment(payment, state, state.due_date, contract, policy, calendar)
    return _schedule(contract, state, state.due_date, payment, policy, calendar, limits, minimum)


def simulate_months(amount: int, rate: int, months: int, start: date, due_day: int, policy: LoanPolicy,
                    calendar: BusinessCalendar, limits: SimulatorLimits) -> Schedule:
    """(b) Borrow ``amount`` at ``rate`` on ``start``: the smallest monthly payment (a multiple of
    ``limits.payment_unit``) that pays it off in ``months`` payments or fewer, with its schedule."""
    contract = Contract(limit=amount, rate=rate, due_day=due_day)
    state = start_state(contract, amount, start, policy, calendar)
    assert state.due_date is not None
    return find_payment(contract, state, state.due_date, months, policy, calendar, limits)


def find_payment(contract: Contract, state: LoanState, first_due: date, months: int, policy: LoanPolicy,
                 calendar: BusinessCalendar, limits: SimulatorLimits) -> Schedule:
    """The smallest payment (a multiple of the unit, at least the minimum) that pays off in ``months``."""
    minimum, _ = minimum_payment(state, contract, policy)
    unit = limits.payment_unit
    slowest = run(contract, state, first_due, minimum, policy, calendar, limits.months_max)
    if slowest is not None and len(slowest) < months:
        raise SimulatorError(
            "months",
            f"{months}回では毎月のご返済額が約定返済額（{minimum:,}円）を下回ります。"
            f"約定返済額どおりのご返済で{len(slowest)}回で完済となります。",
            max_months=len(slowest), minimum_payment=minimum)
    # Bounds: paying the principal alone over ``months`` is too little; adding the interest the full
    # balance would earn until the last due date is always enough (the balance only falls).
    last_due = first_due
    for _ in range(months - 1):
        last_due = due_date(add_months((last_due.year, last_due.month), 1), contract.due_day, calendar)
    assert state.through is not None
    owed = state.payoff + interest(state.principal, contract.rate, state.through, last_due, policy)
    low = max(minimum, _round_up(-(-state.principal // months), unit))
    high = max(low, _round_up(-(-owed // months), unit))
    best = run(contract, state, first_due, high, policy, calendar, months)
    assert best is not None, "the upper bound always pays off in time"
    best_payment = high
    lo, hi = low // unit, high // unit - 1  # search multiples of the unit below ``high``
    while lo <= hi:
        mid = (lo + hi) // 2
        rows = run(contract, state, first_due, max(mid * unit, minimum), policy, calendar, months)
        if rows is None:
            lo = mid + 1
        else:
            best, best_payment, hi = rows, max(mid * unit, minimum), mid - 1
    return Schedule(start=state.through, balance=state.principal, rate=contract.rate, payment=best_payment,
                    rows=best, minimum_payment=minimum, owed_at_start=state.interest_owed + state.late_charge_owed)


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
        if key in self._items:
            self._items.move_to_end(key)
            return self._items[key]
        outcome = self._items[key] = compute()
        if len(self._items) > self.size:
            self._items.popitem(last=False)
        return outcome


def simulate_form(form: Mapping[str, str | None], start: date, default_due_day: int, policy: LoanPolicy,
                  calendar: BusinessCalendar, limits: SimulatorLimits, cache: OutcomeCache | None = None) -> Outcome:
    """The public simulator (modes a and b) for a submitted form; never raises for bad input.

    ``cache`` (made for this policy and calendar) remembers outcomes of well-formed inputs."""
    due_day, errors = default_due_day, {}
    if form.get("due_day"):
        try:
            due_day = parse_due_day(nfkc(form["due_day"] or "")[:limits.input_max_chars], policy)
        except LoanError as error:
            errors["due_day"] = error.message
    figures: dict[str, int] = {}
    inputs, field_errors = parse_inputs(form, policy, limits, figures=figures)
    errors.update(field_errors)
    mode = inputs.mode if inputs else (form.get("mode") if form.get("mode") in MODES else MODE_PAYMENT)
    if inputs is None or errors:
        return Outcome(str(mode), due_day, errors=errors, figures=figures)
    compute = lambda: _outcome(inputs, start, due_day, policy, calendar, limits)  # noqa: E731
    return cache.get((inputs, start, due_day), compute) if cache else compute()


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
            minimum = check_payment(inputs.payment, state, first_due, contract, policy, calendar)
            plan = _schedule(contract, state, first_due, inputs.payment, policy, calendar, limits, minimum)
        else:
            assert inputs.months is not None
            plan = find_payment(contract, state, first_due, inputs.months, policy, calendar, limits)
    except SimulatorError as error:
        return Outcome(inputs.mode, contract.due_day, errors={error.field: error.message}, figures=error.figures)
    return Outcome(inputs.mode, contract.due_day, schedule=plan)


def _round_up(value: int, unit: int) -> int:
    return -(-value // unit) * unit


__all__ = [
    "MODES", "MODE_MONTHS", "MODE_PAYMENT", "Inputs", "Outcome", "OutcomeCache", "Row", "Schedule", "SimulatorError", "SimulatorLimits",
    "check_payment", "check_terms", "find_payment", "minimum_payment", "parse_inputs", "parse_months",
    "member_default_form", "parse_rate", "parse_yen", "run", "simulate_form", "simulate_months", "simulate_payment", "simulate_position", "start_state",
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
