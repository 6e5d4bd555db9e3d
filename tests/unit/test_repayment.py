"""Repayment rules on top of the loan engine: choices and bad amounts, the preview and its savings,
points, and the automatic-debit terms (product.md §5)."""

from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

from domain.ledger import Kind, borrowing
from domain.loan import Contract, Position, replay
from domain.repayment import (
    RepaymentError,
    RepaymentPolicy,
    amount_due_now,
    choose,
    debit_amount,
    debit_terms,
    points_earned,
    preview,
    project,
)
from tests.unit.loan_helpers import CALENDAR, POLICY

RP = RepaymentPolicy()
C15 = Contract(limit=500_000, rate=1780, due_day=15)


def position(entries, today, contract=C15):
    return Position.of(contract, replay(contract, entries, POLICY, CALENDAR), today, POLICY, CALENDAR)


def pay(entries, day, amount, contract=C15, kind=Kind.REPAYMENT):
    return entries + position(entries, day, contract).payment_entries(amount, kind)


LOAN = [borrowing(date(2025, 6, 10), 100_000)]  # due day 15: first due date 2025-07-15, ¥4,000


def test_due_choice_is_the_amount_due_and_full_is_the_payoff():
    pos = position(LOAN, date(2025, 7, 10))
    assert choose(pos, "due", "", "", points_balance=0, policy=RP).total == 4_000
    plan = choose(pos, "full", "", "", points_balance=0, policy=RP)
    assert plan.total == pos.payoff == 101_463 and plan.money == 101_463 and plan.points == 0


@pytest.mark.parametrize(
    ("typed", "words"),
    [
        ("0", "0円ではご返済できません"),
        ("199", "200円以上"),
        ("101464", "完済金額（101,463円）を超えています"),
        ("1000.5", "小数は使えません"),
        ("-500", "マイナスは使えません"),
        ("\u2212500", "マイナスは使えません"),
        ("1e3", "「e」は使えません"),
        ("", "ご返済額を入力してください"),
        ("١٢٣٤", "数字（0〜9）で入力"),
        ("12\u200b34", "見えない文字"),
        ("9" * 40, "桁数が多すぎます"),
    ],
)
def test_bad_amounts_get_clear_messages(typed, words):
    pos = position(LOAN, date(2025, 7, 10))
    with pytest.raises(RepaymentError) as caught:
        choose(pos, "any", typed, "", points_balance=0, policy=RP)
    assert words in caught.value.message and caught.value.field == "amount"


@pytest.mark.parametrize(("typed", "total"), [
    ("1000", 1_000), ("1,000", 1_000), (" 1000 ", 1_000), ("1000円", 1_000), ("200", 200), ("101463", 101_463),
    # full-width just works (product.md §11): NFKC first, in the one shared parser (domain.money)
    ("１０００", 1_000), ("１，０００", 1_000), ("１０００円", 1_000), ("￥１，０００", 1_000), ("¥1,000", 1_000),
    ("\u3000１０００\u3000", 1_000),
])
def test_good_amounts(typed, total):
    pos = position(LOAN, date(2025, 7, 10))
    assert choose(pos, "any", typed, "", points_balance=0, policy=RP).total == total


def test_full_width_points_work_too():
    pos = position(LOAN, date(2025, 7, 10))
    plan = choose(pos, "due", "", "１，５００ｐｔ", points_balance=2_000, policy=RP)
    assert (plan.points, plan.money) == (1_500, plan.total - 1_500)


def test_less_than_the_minimum_only_as_the_whole_payoff():
    entries = pay(LOAN, date(2025, 7, 10), 101_463 - 150)
    pos = position(entries, date(2025, 7, 10))
    assert pos.payoff == 150
    assert choose(pos, "any", "150", "", points_balance=0, policy=RP).total == 150
    with pytest.raises(RepaymentError, match="全額（150円）"):
        choose(pos, "any", "100", "", points_balance=0, policy=RP)
    assert amount_due_now(pos, RP) == 0  # that payment covered the cycle
    with pytest.raises(RepaymentError, match="お支払い済み"):
        choose(pos, "due", "", "", points_balance=0, policy=RP)


def test_bad_choice():
    with pytest.raises(RepaymentError, match="選んでください"):
        choose(position(LOAN, date(2025, 7, 10)), "everything", "", "", points_balance=0, policy=RP)


def test_nothing_owed():
    pos = position([], date(2025, 7, 10))
    with pytest.raises(RepaymentError, match="ありません"):
        choose(pos, "full", "", "", points_balance=0, policy=RP)


def test_paying_the_amount_due_twice_in_one_window_does_not_skip_next_month():
    entries = pay(LOAN, date(2025, 7, 1), 4_000)
    assert amount_due_now(position(entries, date(2025, 7, 1)), RP) == 0
    entries = pay(entries, date(2025, 7, 2), 4_000)  # a second time, as an extra payment
    after = position(entries, date(2025, 7, 16))
    assert after.next_due_date == date(2025, 8, 15) and after.arrears == 0
    assert amount_due_now(after, RP) == 4_000  # August is still owed
    late = position(entries, date(2025, 8, 18))  # nothing paid for August: overdue
    assert late.status == "borrowing_stopped" and late.arrears == 4_000


def test_early_payment_before_the_due_date_counts_for_it():
    entries = pay(LOAN, date(2025, 6, 20), 4_000)  # before the first due date (July 15)
    day_after = position(entries, date(2025, 7, 16))
    assert day_after.status == "active" and day_after.arrears == 0
    assert day_after.next_due_date == date(2025, 8, 15)


def test_allocation_with_late_charge_and_active_again_once_the_arrears_are_paid():
    pos = position(LOAN, date(2025, 7, 25))  # July 15 missed: late from July 16
    assert pos.status == "borrowing_stopped" and pos.late_charge > 0 and pos.arrears == 4_000
    plan = choose(pos, "due", "", "", points_balance=0, policy=RP)
    assert plan.total == 4_000
    view = preview(pos, plan, RP)
    assert view.split.late_charge == pos.late_charge
    assert view.split.interest == pos.accrued_interest
    assert view.split.principal == 4_000 - pos.late_charge - pos.accrued_interest
    assert view.after.status == "active" and view.after.arrears == 0
    assert view.after.balance == 100_000 - view.split.principal


def test_payoff_to_the_yen_on_a_leap_day():
    c5 = Contract(limit=500_000, rate=1780, due_day=5)  # first due date March 5: nothing late yet
    loan = [borrowing(date(2024, 1, 31), 100_000)]
    pos = position(loan, date(2024, 2, 29), c5)  # 29 days of 1/366: 1,410.38 → 1,410
    plan = choose(pos, "full", "", "", points_balance=0, policy=RP)
    assert plan.total == 101_410
    view = preview(pos, plan, RP)
    assert view.paid_off and view.after.balance == 0 and view.after.next_due_date is None
    assert (view.split.interest, view.split.principal) == (1_410, 100_000)
    assert view.savings is None


def test_extra_payment_shows_interest_and_months_saved():
    pos = position(LOAN, date(2025, 7, 10))
    view = preview(pos, choose(pos, "any", "30000", "", points_balance=0, policy=RP), RP)
    assert view.extra == 26_000 and view.shortfall == 0
    saved = view.savings
    assert saved.interest > 0 and saved.months > 0
    assert saved.interest == saved.due_only.interest - saved.with_payment.interest
    assert saved.months == saved.due_only.payments - saved.with_payment.payments
    # the due-only figures are what paying exactly the amount due month after month costs, by the engine
    entries, day, count, interest = LOAN, date(2025, 7, 10), 0, 0
    entries = pay(entries, day, 4_000)
    interest += sum(-e.interest for e in entries[-1:])
    while (pos_now := position(entries, day)).payoff:
        day = pos_now.next_due_date
        at = position(entries, day)
        amount = min(at.payoff, at.remaining_due + at.arrears)
        entries = pay(entries, day, amount)
        interest += -entries[-1].interest - entries[-1].late_charge
        count += 1
    assert (saved.due_only.payments, saved.due_only.interest, saved.due_only.last_date) == (count, interest, day)


def test_a_payment_below_the_amount_due_says_what_is_left():
    pos = position(LOAN, date(2025, 7, 10))
    view = preview(pos, choose(pos, "any", "1500", "", points_balance=0, policy=RP), RP)
    assert view.shortfall == 2_500 and view.extra == 0 and view.savings is None


def test_points_alone_and_with_money():
    pos = position(LOAN, date(2025, 7, 10))
    alone = choose(pos, "due", "", "4000", points_balance=5_000, policy=RP)
    assert (alone.total, alone.points, alone.money) == (4_000, 4_000, 0)
    both = choose(pos, "any", "10000", "1,234", points_balance=5_000, policy=RP)
    assert (both.total, both.points, both.money, both.points_yen) == (10_000, 1_234, 8_766, 1_234)


@pytest.mark.parametrize(
    ("typed", "balance", "words"),
    [
        ("5001", 5_000, "5,000ptまで"),
        ("4001", 9_000, "4,000ptまで"),
        ("1.5", 9_000, "小数は使えません"),
        ("-1", 9_000, "マイナス"),
        ("١٠", 9_000, "数字（0〜9）"),
    ],
)
def test_bad_points(typed, balance, words):
    pos = position(LOAN, date(2025, 7, 10))
    with pytest.raises(RepaymentError) as caught:
        choose(pos, "due", "", typed, points_balance=balance, policy=RP)
    assert words in caught.value.message and caught.value.field == "points"


def test_points_earned_per_200_yen_of_interest_on_the_running_total():
    assert points_earned(0, 199, RP) == 0
    assert points_earned(199, 1, RP) == 1
    assert points_earned(0, 1_463, RP) == 7
    assert points_earned(150, 100, RP) == 1


@settings(max_examples=200, deadline=None)
@given(st.lists(st.integers(0, 5_000), max_size=30))
def test_points_earned_never_lose_a_yen_of_interest(payments):
    total, earned = 0, 0
    for interest in payments:
        earned += points_earned(total, interest, RP)
        total += interest
    assert earned == total // 200


def test_projection_ends_when_the_loan_is_paid_off():
    pos = position(LOAN, date(2025, 7, 10))
    plan = project(pos, 4_000, RP)
    assert plan is not None and plan.payments > 20 and plan.interest > 0
    assert project(pos, pos.payoff, RP).payments == 0


def test_debit_terms_by_bank():
    friday = date(2025, 7, 11)
    smbc = debit_terms("0009", 25, friday, CALENDAR, RP)
    assert smbc.instant and smbc.active_from == friday and smbc.due_day == 25 and not smbc.due_day_changes
    assert debit_terms("0033", 31, friday, CALENDAR, RP).instant
    other = debit_terms("0005", 25, friday, CALENDAR, RP)  # 3 business days: Mon 14, Tue 15, Wed 16
    assert not other.instant and other.active_from == date(2025, 7, 16)
    assert other.due_day == 5 and other.due_day_changes
    assert not debit_terms("0005", 5, friday, CALENDAR, RP).due_day_changes
    holiday_week = debit_terms("0005", 5, date(2025, 7, 18), CALENDAR, RP)  # Mon 21 is a holiday
    assert holiday_week.active_from == date(2025, 7, 24)


def test_debit_amount_only_on_the_due_date_still_to_be_met():
    due = date(2025, 7, 15)
    assert debit_amount(position(LOAN, due), due) == 4_000
    assert debit_amount(position(LOAN, date(2025, 7, 14)), date(2025, 7, 14)) == 0
    partly = pay(LOAN, date(2025, 7, 1), 1_500)
    assert debit_amount(position(partly, due), due) == 2_500
    covered = pay(LOAN, date(2025, 7, 1), 4_000)
    assert debit_amount(position(covered, due), due) == 0
