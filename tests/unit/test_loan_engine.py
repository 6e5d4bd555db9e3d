"""The loan engine end to end: positions, the payment window, late charge, the interest-free period,
and the ledger invariants (hypothesis)."""

from datetime import date, datetime, timedelta, timezone

import pytest
from hypothesis import given, settings, strategies as st

from domain.errors import LoanError
from domain.ledger import Entry, Kind, borrowing, reversal
from domain.loan import Contract, LoanState, Position, jst_date, replay
from domain.policy import MONTH_END
from tests.unit.loan_helpers import CALENDAR, POLICY

C15 = Contract(limit=500_000, rate=1780, due_day=15)


def position(contract, entries, today):
    return Position.of(contract, replay(contract, entries, POLICY, CALENDAR), today, POLICY, CALENDAR)


def pay(contract, entries, day, amount, kind=Kind.REPAYMENT):
    """Entries after paying ``amount`` on ``day`` (what a repayment use case appends)."""
    return entries + position(contract, entries, day).payment_entries(amount, kind)


def test_jst_date_is_the_japanese_day():
    assert jst_date(datetime(2025, 7, 15, 14, 59, tzinfo=timezone.utc)) == date(2025, 7, 15)
    assert jst_date(datetime(2025, 7, 15, 15, 0, tzinfo=timezone.utc)) == date(2025, 7, 16)
    with pytest.raises(ValueError):
        jst_date(datetime(2025, 7, 15))


def test_fresh_borrowing_position():
    entries = [borrowing(date(2025, 6, 10), 100_000)]
    pos = position(C15, entries, date(2025, 7, 10))
    assert pos.balance == 100_000
    assert pos.accrued_interest == 1_463  # June 11 – July 10: 30 days
    assert pos.payoff == 101_463
    assert pos.available_credit == 400_000 and pos.limit == 500_000 and pos.rate == 1780
    assert pos.next_due_date == date(2025, 7, 15) and pos.amount_due == 4_000 and pos.paid_toward_due == 0
    assert pos.interest_to_due_date == 1_706  # 35 days: 1,706.85 floored
    assert pos.status == "active" and pos.status_reason == "" and pos.can_borrow


def test_payment_splits_and_restarts_interest():
    entries = pay(C15, [borrowing(date(2025, 6, 10), 100_000)], date(2025, 7, 10), 4_000)
    charge, repayment = entries[-2:]
    assert (charge.kind, charge.amount, charge.interest) == (Kind.INTEREST_CHARGE, 1_463, 1_463)
    assert (repayment.amount, repayment.late_charge, repayment.interest, repayment.principal) == (4_000, 0, -1_463, -2_537)
    pos = position(C15, entries, date(2025, 7, 10))
    assert pos.balance == 97_463 and pos.accrued_interest == 0
    nxt = position(C15, entries, date(2025, 7, 11))
    assert nxt.accrued_interest == 47  # one day on 97,463: 47.53


def test_balance_equals_sum_of_ledger():
    entries = [borrowing(date(2025, 6, 10), 100_000), borrowing(date(2025, 6, 20), 50_000)]
    entries = pay(C15, entries, date(2025, 7, 15), 6_000)
    entries = pay(C15, entries, date(2025, 8, 1), 20_000)
    state = replay(C15, entries, POLICY, CALENDAR)
    assert state.principal == sum(e.principal for e in entries) == 150_000 - sum(
        -e.principal for e in entries if e.kind is Kind.REPAYMENT)
    assert state.interest == sum(e.interest for e in entries) == 0


def test_early_payment_counts_for_this_due_date_and_does_not_skip_a_month():
    entries = pay(C15, [borrowing(date(2025, 6, 10), 100_000)], date(2025, 6, 20), 4_000)
    pos = position(C15, entries, date(2025, 6, 20))
    assert pos.next_due_date == date(2025, 8, 15)  # July covered: the next one to meet is August's
    assert pos.paid_toward_due == 0 and pos.amount_due == 4_000
    entries = pay(C15, entries, date(2025, 7, 10), 10_000)  # more in July's window: still July's
    assert position(C15, entries, date(2025, 7, 16)).overdue_since is None
    missed = position(C15, entries, date(2025, 8, 16))  # nothing paid after July 15: August missed
    assert missed.overdue_since == date(2025, 8, 16) and missed.arrears == 4_000
    assert missed.status == "borrowing_stopped" and "8月15日" in missed.status_reason


def test_payment_on_the_due_date_counts_the_day_after_is_late():
    base = [borrowing(date(2025, 6, 10), 100_000)]
    on_time = pay(C15, base, date(2025, 7, 15), 4_000)
    assert position(C15, on_time, date(2025, 7, 16)).overdue_since is None
    assert position(C15, on_time, date(2025, 7, 16)).next_due_date == date(2025, 8, 15)
    late = pay(C15, base, date(2025, 7, 16), 4_000)
    charge = [e for e in late if e.kind is Kind.LATE_CHARGE]
    assert charge and charge[0].amount == 54  # July 16 at 20%: 54.79


def test_late_charge_replaces_the_contract_rate_on_missed_days():
    entries = [borrowing(date(2025, 6, 10), 100_000)]
    pos = position(C15, entries, date(2025, 7, 20))
    assert pos.accrued_interest == 1_706  # June 11 – July 15 at 17.8%
    assert pos.late_charge == 273  # July 16 – 20 at 20.0% (not 17.8%)
    assert pos.payoff == 100_000 + 1_706 + 273
    assert pos.arrears == 4_000 and pos.available_credit == 0 and not pos.can_borrow
    with pytest.raises(LoanError):
        pos.borrowing_entry(1_000)
    split = pos.split(4_000)
    assert (split.late_charge, split.interest, split.principal) == (273, 1_706, 2_021)
    entries = pay(C15, entries, date(2025, 7, 20), 4_000)
    after = position(C15, entries, date(2025, 7, 21))
    assert after.overdue_since is None and after.status == "active" and after.late_charge == 0
    assert after.accrued_interest == 47  # back to 17.8% on 97,979
    assert after.next_due_date == date(2025, 8, 15) and after.paid_toward_due == 0  # all went to arrears


def test_partial_payment_of_arrears_keeps_late_charge_running():
    entries = pay(C15, [borrowing(date(2025, 6, 10), 100_000)], date(2025, 7, 20), 3_000)
    pos = position(C15, entries, date(2025, 7, 25))
    assert pos.arrears == 1_000 and pos.late_charge > 0 and pos.accrued_interest == 0


def test_missed_months_accumulate_arrears():
    pos = position(C15, [borrowing(date(2025, 6, 10), 100_000)], date(2025, 9, 20))
    assert pos.arrears == 12_000 and pos.overdue_since == date(2025, 7, 16)
    assert pos.next_due_date == date(2025, 10, 15)


def test_amount_due_never_above_payoff():
    entries = pay(C15, [borrowing(date(2025, 6, 10), 100_000)], date(2025, 6, 11), 97_000)
    pos = position(C15, entries, date(2025, 6, 12))
    assert pos.next_due_date == date(2025, 8, 15)  # July covered by the 97,000
    assert pos.amount_due == pos.balance + pos.interest_to_due_date == 3_144  # the payoff then, not 4,000


def test_payoff_closes_the_cycle():
    entries = [borrowing(date(2025, 6, 10), 100_000)]
    payoff = position(C15, entries, date(2025, 7, 1)).payoff
    entries = pay(C15, entries, date(2025, 7, 1), payoff)
    pos = position(C15, entries, date(2025, 9, 1))
    assert (pos.balance, pos.payoff, pos.next_due_date, pos.amount_due, pos.arrears) == (0, 0, None, 0, 0)
    with pytest.raises(LoanError, match="完済金額"):
        pos.payment_entries(1)


def test_payoff_on_the_borrowing_day_is_the_principal():
    entries = [borrowing(date(2025, 6, 10), 50_000)]
    assert position(C15, entries, date(2025, 6, 10)).payoff == 50_000


def test_amount_due_follows_the_balance_after_the_last_borrowing():
    entries = [borrowing(date(2025, 6, 10), 100_000), borrowing(date(2025, 6, 12), 200_000)]
    assert position(C15, entries, date(2025, 6, 12)).amount_due == 11_000
    entries = pay(C15, entries, date(2025, 6, 30), 200_000)
    assert position(C15, entries, date(2025, 6, 30)).next_due_date == date(2025, 8, 15)
    assert position(C15, entries, date(2025, 6, 30)).amount_due == 11_000  # recomputed only on borrowing


FREE = Contract(limit=500_000, rate=1780, due_day=15, interest_free_until=date(2025, 5, 1))


def test_interest_free_period():
    entries = [borrowing(date(2025, 4, 1), 100_000), borrowing(date(2025, 4, 20), 20_000)]
    assert position(FREE, entries, date(2025, 5, 1)).accrued_interest == 0
    pos = position(FREE, entries, date(2025, 5, 2))
    assert pos.accrued_interest == 58  # first charged day: 120,000 × 17.8% ÷ 365 = 58.52
    assert position(FREE, entries, date(2025, 4, 30)).next_due_date == date(2025, 5, 15)
    entries = pay(FREE, entries, date(2025, 4, 30), 5_000)  # inside the period: all to principal
    assert entries[-1].principal == -5_000 and entries[-1].interest == 0


def test_first_borrowing_of_an_eligible_member_starts_the_interest_free_days():
    from domain.loan import with_interest_free

    empty, first = LoanState(), borrowing(date(2025, 4, 1), 10_000)
    assert with_interest_free(C15, empty, first, True, POLICY).interest_free_until == date(2025, 5, 1)
    assert with_interest_free(C15, empty, first, False, POLICY).interest_free_until is None  # no email
    later = replay(C15, [first], POLICY, CALENDAR)
    assert with_interest_free(C15, later, borrowing(date(2025, 4, 9), 1), True, POLICY) is C15  # not the first
    assert with_interest_free(FREE, empty, first, True, POLICY) is FREE  # already set


def test_amount_due_is_required_inside_the_interest_free_period():
    contract = Contract(limit=500_000, rate=1780, due_day=MONTH_END, interest_free_until=date(2025, 5, 1))
    pos = position(contract, [borrowing(date(2025, 4, 1), 100_000)], date(2025, 5, 2))
    assert pos.arrears == 4_000 and pos.overdue_since == date(2025, 5, 1)  # April 30 missed
    assert pos.accrued_interest == 0 and pos.late_charge == 109  # 5/1–5/2 at 20% (109.59): late charge runs even when interest-free


def test_due_date_shifts_to_business_day_and_window_follows():
    contract = Contract(limit=500_000, rate=1780, due_day=5)
    entries = [borrowing(date(2025, 4, 1), 100_000)]
    pos = position(contract, entries, date(2025, 4, 1))
    assert pos.next_due_date == date(2025, 5, 7)
    entries = pay(contract, entries, date(2025, 5, 7), 4_000)  # the shifted day still counts
    assert position(contract, entries, date(2025, 5, 8)).overdue_since is None


def test_reversal_of_a_failed_borrowing():
    first = borrowing(date(2025, 6, 10), 100_000)
    failed = borrowing(date(2025, 6, 11), 50_000)
    entries = [first, failed, reversal(failed, date(2025, 6, 11))]
    pos = position(C15, entries, date(2025, 6, 11))
    assert pos.balance == 100_000 and pos.amount_due == 4_000


def test_suspended_and_stopped_contracts_cannot_borrow():
    entries = [borrowing(date(2025, 6, 10), 100_000)]
    stopped = Contract(500_000, 1780, 15, status="borrowing_stopped", status_reason="総量規制")
    pos = position(stopped, entries, date(2025, 6, 11))
    assert pos.available_credit == 0 and pos.status_reason == "総量規制"
    with pytest.raises(LoanError, match="総量規制"):
        pos.borrowing_entry(1_000)


def test_borrowing_over_available_credit_refused():
    pos = position(C15, [borrowing(date(2025, 6, 10), 450_000)], date(2025, 6, 10))
    assert pos.borrowing_entry(50_000).principal == 50_000
    with pytest.raises(LoanError, match="50,000円"):
        pos.borrowing_entry(50_001)


def test_point_use_is_a_payment():
    entries = pay(C15, [borrowing(date(2025, 6, 10), 100_000)], date(2025, 6, 20), 4_000, Kind.POINT_USE)
    assert entries[-1].kind is Kind.POINT_USE
    assert position(C15, entries, date(2025, 6, 20)).next_due_date == date(2025, 8, 15)


def test_position_after_previews_the_payment():
    pos = position(C15, [borrowing(date(2025, 6, 10), 100_000)], date(2025, 7, 10))
    after = pos.after(pos.payment_entries(4_000))
    assert after.balance == 97_463 and after.next_due_date == date(2025, 8, 15)


def test_state_round_trips_and_cache_equals_replay():
    entries = pay(C15, [borrowing(date(2025, 6, 10), 100_000)], date(2025, 7, 20), 3_000)
    state = replay(C15, entries, POLICY, CALENDAR)
    assert LoanState.from_dict(state.to_dict()) == state
    cached = replay(C15, entries[:1], POLICY, CALENDAR)
    resumed = replay(C15, entries[1:], POLICY, CALENDAR, start=LoanState.from_dict(cached.to_dict()))
    assert resumed == state


def test_a_copy_has_every_field_and_is_its_own():
    """``LoanState.copy`` names every field (faster than ``dataclasses.replace``): one added later must be in it."""
    from dataclasses import fields
    from fractions import Fraction

    values = {"through": date(2025, 7, 1), "accrued_interest": Fraction(7, 3), "accrued_late": Fraction(1, 9),
              "due_month": (2025, 7), "due_date": date(2025, 7, 15), "overdue_since": date(2025, 6, 16),
              "first_borrowed_on": date(2025, 6, 10)}
    state = LoanState(**{f.name: values.get(f.name, i + 1) for i, f in enumerate(fields(LoanState))})
    copy = state.copy()
    assert copy == state and copy is not state
    copy.principal += 1
    assert state.principal != copy.principal


def test_the_cached_state_text_reads_back_exactly():
    """The cache's text form: fractions of a yen as written by ``str(Fraction)`` come back exactly."""
    from fractions import Fraction

    state = replay(C15, [borrowing(date(2025, 6, 10), 100_000)], POLICY, CALENDAR)
    state.advance(date(2025, 6, 20), C15, POLICY, CALENDAR)
    assert state.accrued_interest.denominator > 1
    for accrued in (state.accrued_interest, Fraction(0), Fraction(5), Fraction(-7, 3)):
        state.accrued_late = accrued
        assert LoanState.from_dict(state.to_dict()) == state


def test_entries_out_of_order_are_refused():
    with pytest.raises(ValueError):
        replay(C15, [borrowing(date(2025, 6, 10), 1_000), borrowing(date(2025, 6, 9), 1_000)], POLICY, CALENDAR)


# --- properties --------------------------------------------------------------------------------
ops = st.lists(
    st.tuples(st.integers(0, 40), st.sampled_from(["borrow", "pay", "pay_all", "points"]), st.integers(1, 300_000)),
    max_size=25,
)


@settings(max_examples=150, deadline=None)
@given(ops=ops, due_day=st.sampled_from([5, 15, 25, MONTH_END]), rate=st.integers(450, 1780),
       free=st.booleans(), start=st.dates(date(2023, 1, 1), date(2027, 12, 1)))
def test_ledger_invariants(ops, due_day, rate, free, start):
    contract = Contract(limit=1_000_000, rate=rate, due_day=due_day,
                        interest_free_until=start + timedelta(days=30) if free else None)
    day, entries = start, []
    cached = LoanState()
    for gap, op, amount in ops:
        day += timedelta(days=gap)
        pos = Position.of(contract, cached, day, POLICY, CALENDAR)
        if op == "borrow":
            if not pos.can_borrow:
                continue
            new = [pos.borrowing_entry(min(amount, pos.available_credit))]
        else:
            if pos.payoff == 0:
                continue
            paid = pos.payoff if op == "pay_all" else min(amount, pos.payoff)
            new = pos.payment_entries(paid, Kind.POINT_USE if op == "points" else Kind.REPAYMENT)
            split = new[-1]
            assert -(split.principal + split.interest + split.late_charge) == paid  # no yen lost or invented
        entries += new
        cached = LoanState.from_dict(replay(contract, new, POLICY, CALENDAR, start=cached).to_dict())
        after = Position.of(contract, cached, day, POLICY, CALENDAR)
        assert after.balance == sum(e.principal for e in entries) >= 0  # balance = ledger sum
        assert cached.interest == sum(e.interest for e in entries) >= 0
        assert cached.late_charge == sum(e.late_charge for e in entries) >= 0
        assert after.payoff >= after.balance and after.available_credit <= contract.limit
        assert 0 <= after.amount_due <= after.state.paid + max(after.payoff, 0) + after.interest_to_due_date + after.late_charge_to_due_date
        if op == "pay_all":
            assert after.payoff == 0 and after.next_due_date is None
    assert replay(contract, entries, POLICY, CALENDAR) == cached  # the cache equals a full replay


@settings(max_examples=60, deadline=None)
@given(amount=st.integers(1_000, 1_000_000), days=st.integers(0, 120), more=st.integers(1, 60))
def test_payoff_grows_with_time(amount, days, more):
    entries = [borrowing(date(2025, 6, 10), amount)]
    early = position(Contract(1_000_000, 1500, 15), entries, date(2025, 6, 10) + timedelta(days=days))
    later = position(Contract(1_000_000, 1500, 15), entries, date(2025, 6, 10) + timedelta(days=days + more))
    assert later.payoff >= early.payoff and later.accrued_interest + later.late_charge >= early.accrued_interest
