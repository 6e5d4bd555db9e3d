"""Repayment (インターネット返済, ポイント, 口座振替): what a member may pay, what a payment does, points,
and the automatic-debit rules (product.md §5). Standard library only; every number is a
``RepaymentPolicy`` field and every money figure comes from the loan engine (``domain.loan``), so there is
no second interest formula here.

Use it like this (``db`` loads the position, ``web`` shows the result)::

    plan = choose(position, "any", "5000", "300", points_balance=1_200, policy=policy)
    view = preview(position, plan, policy)          # split, balance after, savings vs the amount due
    entries = position.payment_entries(plan.total)  # what the use case appends (money and points)
    earned = points_earned(interest_repaid_before, view.split.interest, policy)

Choices: ``due`` (今回のご返済額: what is still owed toward the current cycle plus any arrears, at least
the minimum), ``any`` (任意の金額: ¥1 units, minimum ¥200 or the whole payoff when less, never above the
payoff) and ``full`` (全額: the exact payoff today). Points (1 pt = ¥1, whole points) pay part or all of
the chosen total; the rest is paid from the bank.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Callable, Sequence, TypeVar

from domain.business_days import BusinessCalendar
from domain.errors import DomainError
from domain.interest import Split
from domain.loan import Position
from domain.money import parse_yen
from domain.notices import Notice, footer
from domain.notices import jst as notice_time

CHOICES = ("due", "any", "full")
CHOICE_LABELS = {"due": "今回のご返済額", "any": "金額を指定", "full": "全額（完済）"}


@dataclass(frozen=True, slots=True)
class RepaymentPolicy:
    """The numbers of §5; ``web/settings.py`` builds one from its fields."""

    unit: int = 1  #: payments are multiples of this (yen)
    minimum: int = 200  #: smallest payment, unless the whole payoff is less
    max_digits: int = 10  #: longer input is refused before it is read as a number
    point_yen: int = 1  #: 1 point pays this many yen
    interest_per_point: int = 200  #: 1 point earned per this much interest repaid (late charge excluded)
    projection_max_months: int = 600  #: a savings projection that runs longer is not shown
    debit_instant_banks: tuple[str, ...] = ("0009", "0033")  #: 三井住友銀行, PayPay銀行
    debit_pending_business_days: int = 3  #: other banks become active this many business days later
    debit_fixed_due_day: int = 5  #: …and their due day is fixed to this day

    def __post_init__(self) -> None:
        if min(self.unit, self.minimum, self.point_yen, self.interest_per_point, self.max_digits) <= 0:
            raise ValueError("repayment policy numbers must be positive")
        if self.minimum % self.unit:
            raise ValueError("the minimum must be a multiple of the unit")
        if self.debit_pending_business_days < 0 or self.projection_max_months <= 0:
            raise ValueError("business days and projection months must not be negative")


class RepaymentError(DomainError):
    """A repayment rule said no. ``field`` names the form field the message belongs to ('' = the form)."""

    def __init__(self, message: str, field: str = "") -> None:
        super().__init__(message)
        self.field = field


# --- reading what the member typed -------------------------------------------------------------------


def parse_whole(raw: str, *, label: str, unit_word: str, field: str, max_digits: int, blank: int | None) -> int:
    """A whole number typed by a member (``domain.money.parse_yen``: full-width works, decimals, signs and
    other characters get a message naming ``label``); raises ``RepaymentError`` for ``field``."""
    return parse_yen(raw, label=label, field=field, max_digits=max_digits, unit_word=unit_word, blank=blank,
                     error=RepaymentError)


def parse_choice(raw: str) -> str:
    choice = raw.strip()
    if choice not in CHOICES:
        raise RepaymentError("ご返済方法を「今回のご返済額」「金額を指定」「全額」から選んでください。", "choice")
    return choice


# --- what may be paid --------------------------------------------------------------------------------


def cycle_covered(position: Position) -> bool:
    """True when the current cycle's amount due is already paid (the next due date is a later one)."""
    current = position.state.due_date
    return current is not None and position.next_due_date != current


def amount_due_now(position: Position, policy: RepaymentPolicy) -> int:
    """今回のご返済額: what a payment today should cover.

    While overdue, the overdue amount (paying it restores borrowing at once), plus the current cycle when
    its due date is today. Otherwise what is still owed toward the cycle a payment today counts for, and
    0 when that is already paid (paying early never skips a month, so nothing is "due" until the next
    window opens). Raised to the minimum when less (a payment can never be smaller), never above the payoff.
    """
    if position.payoff <= 0:
        return 0
    current = 0 if cycle_covered(position) else position.remaining_due
    if position.arrears and position.next_due_date != position.as_of:
        current = 0
    owed = position.arrears + current
    if owed <= 0:
        return 0
    return min(max(owed, policy.minimum), position.payoff)


def check_total(total: int, position: Position, policy: RepaymentPolicy) -> int:
    """``total`` if it may be paid today; raises ``RepaymentError`` with what to pay instead."""
    payoff = position.payoff
    if payoff <= 0:
        raise RepaymentError("現在ご返済いただく金額はありません。", "amount")
    if total <= 0:
        raise RepaymentError(f"0円ではご返済できません。{min(policy.minimum, payoff):,}円以上で入力してください。", "amount")
    if total > payoff:
        raise RepaymentError(
            f"ご返済額が本日の完済金額（{payoff:,}円）を超えています。{payoff:,}円以下で入力してください。", "amount")
    if total < policy.minimum and total != payoff:
        if payoff < policy.minimum:
            raise RepaymentError(f"完済金額が{policy.minimum:,}円未満のため、全額（{payoff:,}円）をお支払いください。", "amount")
        raise RepaymentError(f"ご返済額は{policy.minimum:,}円以上で入力してください（本日の完済金額は{payoff:,}円です）。", "amount")
    if total % policy.unit and total != payoff:
        raise RepaymentError(f"ご返済額は{policy.unit:,}円単位で入力してください。", "amount")
    return total


@dataclass(frozen=True, slots=True)
class Plan:
    """A checked payment: ``total`` yen owed less, paid with ``points`` points and ``money`` yen."""

    choice: str
    total: int
    points: int
    money: int

    @property
    def points_yen(self) -> int:
        return self.total - self.money


def choose(position: Position, choice: str, amount: str, points: str, *, points_balance: int,
           policy: RepaymentPolicy) -> Plan:
    """Check the repayment form. ``amount`` is read only for the ``any`` choice; ``points`` may be blank.

    Raises ``RepaymentError`` (with the field it belongs to) for anything that may not be paid.
    """
    choice = parse_choice(choice)
    if choice == "any":
        total = parse_whole(amount, label="ご返済額", unit_word="円", field="amount",
                            max_digits=policy.max_digits, blank=None)
    elif choice == "full":
        total = position.payoff
    else:
        total = amount_due_now(position, policy)
        if total == 0 and position.payoff > 0:
            raise RepaymentError("今回のご返済額はお支払い済みです。追加でご返済いただく場合は「金額を指定」を選んでください。", "choice")
    total = check_total(total, position, policy)
    used = parse_whole(points, label="ご利用ポイント", unit_word="pt", field="points",
                       max_digits=policy.max_digits, blank=0)
    return Plan(choice, total, used, total - check_points(used, total, points_balance, policy))


def check_points(points: int, total: int, balance: int, policy: RepaymentPolicy) -> int:
    """The yen ``points`` pay toward ``total``; raises when the member lacks them or they pay too much."""
    if points > balance:
        raise RepaymentError(f"ご利用いただけるVポイントは{balance:,}ptまでです。", "points")
    value = points * policy.point_yen
    if value > total:
        most = total // policy.point_yen
        raise RepaymentError(f"ご返済額（{total:,}円）を超えるポイントは使えません。{most:,}ptまでで入力してください。", "points")
    return value


def points_earned(interest_repaid_before: int, interest_now: int, policy: RepaymentPolicy) -> int:
    """Points earned by repaying ``interest_now`` yen of interest (late charge never earns), counted on the
    running total so no yen of interest is lost between payments: 1 pt per ``interest_per_point`` yen."""
    if interest_repaid_before < 0 or interest_now < 0:
        raise ValueError("interest repaid cannot be negative")
    per = policy.interest_per_point
    return (interest_repaid_before + interest_now) // per - interest_repaid_before // per


# --- what a payment does -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Projection:
    """Paying the amount due on every due date from here: how many payments and how much interest."""

    payments: int  #: monthly payments after today until the payoff
    interest: int  #: interest and late charge paid from today on (today's payment included)
    last_date: date  #: the day the loan is paid off


@dataclass(frozen=True, slots=True)
class Savings:
    """An extra payment against paying only the amount due today (both then pay the amount due monthly)."""

    interest: int  #: interest saved
    months: int  #: monthly payments cut off
    with_payment: Projection
    due_only: Projection


@dataclass(frozen=True, slots=True)
class Preview:
    plan: Plan
    split: Split
    before: Position
    after: Position  #: the position at the end of today once the payment is in
    due_now: int  #: 今回のご返済額 before the payment
    shortfall: int  #: what is still owed toward 今回のご返済額 after the payment (0 when covered)
    extra: int  #: the part paid beyond 今回のご返済額
    savings: Savings | None  #: for extra payments that leave a balance

    @property
    def paid_off(self) -> bool:
        return self.after.payoff == 0


def preview(position: Position, plan: Plan, policy: RepaymentPolicy) -> Preview:
    """What ``plan`` does today: the split, the position after, and what an extra payment saves."""
    after = position.after(position.payment_entries(plan.total))
    due_now = amount_due_now(position, policy)
    extra = max(0, plan.total - due_now)
    savings = None
    if extra and after.payoff > 0:
        mine = project(position, plan.total, policy)
        base = project(position, due_now, policy)
        if mine is not None and base is not None:
            savings = Savings(base.interest - mine.interest, base.payments - mine.payments, mine, base)
    return Preview(plan=plan, split=position.split(plan.total), before=position, after=after, due_now=due_now,
                   shortfall=max(0, due_now - plan.total), extra=extra, savings=savings)


def _paid(entries: list) -> int:
    """Interest and late charge a list of payment entries pays (their changes are negative)."""
    return sum(-e.interest - e.late_charge for e in entries if e.kind.is_payment)


def project(position: Position, today_payment: int, policy: RepaymentPolicy) -> Projection | None:
    """Pay ``today_payment`` today (0: nothing), then exactly what is due on each due date, through the
    loan engine, until nothing is owed. None when it would take more than ``projection_max_months``."""
    pos, interest = position, 0
    if today_payment:
        entries = pos.payment_entries(today_payment)
        interest += _paid(entries)
        pos = pos.after(entries)
    payments = 0
    while pos.payoff > 0:
        if pos.next_due_date is None or payments >= policy.projection_max_months:
            return None
        due_day = pos.next_due_date
        pos = Position.of(pos.contract, pos.state, due_day, pos.policy, pos.calendar)
        if pos.next_due_date != due_day:  # already covered: move on to the next cycle
            continue
        pay = min(pos.payoff, pos.arrears + pos.remaining_due)
        entries = pos.payment_entries(pay)
        interest += _paid(entries)
        pos = pos.after(entries)
        payments += 1
    return Projection(payments, interest, pos.as_of)


# --- automatic debit (口座振替) ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class DebitTerms:
    """What registering a debit account means: when it starts and on which due day it debits."""

    instant: bool  #: active at once (三井住友銀行, PayPay銀行)
    active_from: date  #: the first day the worker may debit from this account
    due_day: int  #: the member's due day from now on (kept, or fixed to the 5th)
    due_day_changes: bool  #: registering changes the member's due day


def debit_terms(bank_code: str, current_due_day: int, today: date, calendar: BusinessCalendar,
                policy: RepaymentPolicy) -> DebitTerms:
    """三井住友銀行/PayPay銀行: active today with any due day. Other banks: active after
    ``debit_pending_business_days`` business days, with the due day fixed to ``debit_fixed_due_day``."""
    if bank_code in policy.debit_instant_banks:
        return DebitTerms(True, today, current_due_day, False)
    fixed = policy.debit_fixed_due_day
    start = calendar.add(today, policy.debit_pending_business_days)
    return DebitTerms(False, start, fixed, current_due_day != fixed)


def debit_active(status: str, active_from: date, today: date) -> bool:
    """A registration debits from ``active_from`` on, unless it was cancelled."""
    return status != "cancelled" and today >= active_from


R = TypeVar("R")


def debit_in_force(registrations: Sequence[R], today: date, active_from: Callable[[R], date]) -> tuple[R | None, R | None]:
    """(the registration the worker debits today, the one still pending), from a member's registrations
    that were not cancelled, newest first.

    A registration at another bank is pending until ``active_from``; meanwhile the account registered
    before it (if any, and already active) keeps being debited, so changing banks never leaves a due date
    without a debit. An older active registration is superseded once a newer one is active.
    """
    current = next((r for r in registrations if active_from(r) <= today), None)
    newest = registrations[0] if registrations else None
    pending = newest if newest is not None and active_from(newest) > today else None
    return current, pending


def check_due_day_with_debit(new_day: int, fixing_bank: str, instant_banks: str, policy: RepaymentPolicy) -> None:
    """Refuse moving the due day off ``debit_fixed_due_day`` while an account at ``fixing_bank`` (a bank
    other than the instant ones, in force or pending) is used for the automatic debit. ``instant_banks``
    names the banks that allow any due day (三井住友銀行・PayPay銀行), for the message."""
    fixed = policy.debit_fixed_due_day
    if fixing_bank and new_day != fixed:
        raise RepaymentError(
            f"口座振替に{fixing_bank}の口座をご登録中のため、返済日は毎月{fixed}日から変更できません。"
            f"返済日を変更するには、先に口座振替の口座を{instant_banks}のいずれかに変更してください。", "due_day")


def debit_notice(*, name: str, bank_name: str, branch_code: str, type_label: str, masked_number: str,
                 changed: bool, terms: DebitTerms, due_day_summary: str, at: datetime, app_name: str,
                 phone: str) -> Notice:
    """The mail sent when the automatic-debit account is registered or changed (the number masked)."""
    what = "変更" if changed else "登録"
    start = terms.active_from
    if terms.instant:
        when = "本日から、この口座からご返済額を引き落とします。"
    else:
        when = (f"金融機関でのお手続きのため、この口座からの引落しは{start.year}年{start.month}月{start.day}日から"
                "始まります（それまでは手続き中です）。")
        if changed:
            when += "手続き中は、これまでの口座（有効なもの）から引き落とします。"
    body = (f"{name} 様\n\n口座振替（自動引落し）の口座を{what}しました。\n\n日時：{notice_time(at)}\n"
            f"引落し口座：{bank_name} 支店コード{branch_code} {type_label} {masked_number}\n\n{when}\n"
            + (f"{due_day_summary}\n" if due_day_summary else "")
            + "返済期日に、その日までにお支払いいただいていないご返済額を引き落とします。" + footer(app_name, phone))
    return Notice(f"debit_{'changed' if changed else 'registered'}", f"【重要】口座振替の口座を{what}しました", body)


def debit_amount(position: Position, today: date) -> int:
    """What the worker debits on ``today``: arrears plus what is still owed toward the cycle due today.

    0 unless today is the due date still to be met (a covered cycle has moved on), and never above the
    payoff. The minimum of internet repayment does not apply: the lender collects exactly what is due.
    """
    if position.as_of != today or position.next_due_date != today:
        return 0
    return min(position.payoff, position.arrears + position.remaining_due)
