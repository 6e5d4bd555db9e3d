"""Changing the due day on both engines: the cycle under way keeps its due date, the next one follows
the new day, exactly as the form said; bad input changes nothing."""

from __future__ import annotations

from datetime import date, datetime, timezone

import pytest

from db import due_day, loans
from db.tables import Contract
from domain.errors import LoanError
from tests.conftest import make_member
from tests.conftest import run as run_coroutine

UTC = timezone.utc


def run(awaitable):
    """Run a coroutine or a Piccolo query from a synchronous test."""

    async def wrap():
        return await awaitable

    return run_coroutine(wrap())
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def borrower(settings) -> int:
    # borrowed 2026-11-02, due day 5 → first due 2026-12-05 (Sat) → 2026-12-07
    return make_member(settings, balance=100_000, borrowed_on=date(2026, 11, 2), opened_on=date(2026, 11, 2))


def stored_day(member: int) -> str:
    return run(Contract.select(Contract.due_day).where(Contract.member == member).first())["due_day"]


@pytest.mark.parametrize("new, first", [
    ("25", date(2027, 1, 25)), ("15", date(2027, 1, 15)), ("end", date(2027, 2, 1)),  # 2027-01-31 is a Sunday
])
def test_change_applies_from_the_next_due_date(settings, new, first):
    member = borrower(settings)
    policy = settings.loan_policy()
    offered = {c.new_day: c.first_new_due_date for c in run(due_day.options(member, NOW, policy, settings.repayment_policy())).changes}
    change = run(due_day.change_due_day(member, new, NOW, policy, settings.repayment_policy()))
    assert change.current_due_date == date(2026, 12, 7) and change.first_new_due_date == first
    assert offered[change.new_day] == first, "the form said the same before the change"
    assert stored_day(member) == new
    # the cycle under way keeps its date …
    assert run(loans.account_for_member(member, NOW, policy)).position.next_due_date == date(2026, 12, 7)
    # … and once it is paid, the next one to meet is on the new day
    account = run(loans.account_for_member(member, datetime(2026, 12, 1, 3, 0, tzinfo=UTC), policy))

    async def pay():
        from db.engine import write_tx
        async with write_tx():
            locked = await loans.account_for_member(member, datetime(2026, 12, 1, 3, 0, tzinfo=UTC), policy, lock=True)
            await loans.post(locked, locked.position.payment_entries(locked.position.amount_due), NOW)

    run(pay())
    later = run(loans.account_for_member(member, datetime(2026, 12, 2, 3, 0, tzinfo=UTC), policy))
    assert account.position.next_due_date == date(2026, 12, 7)
    assert later.position.next_due_date == first


def test_without_a_balance_it_applies_to_the_next_borrowing(settings):
    member = make_member(settings)
    change = run(due_day.change_due_day(member, "25", NOW, settings.loan_policy(), settings.repayment_policy()))
    assert change.first_new_due_date is None and "次回のお借入れ後" in change.summary()
    assert stored_day(member) == "25"


@pytest.mark.parametrize("raw", ["5", "10", "", "31x", "２５０", "end; drop table contract"])
def test_bad_or_same_day_changes_nothing(settings, raw):
    member = borrower(settings)
    with pytest.raises(LoanError):
        run(due_day.change_due_day(member, raw, NOW, settings.loan_policy(), settings.repayment_policy()))
    assert stored_day(member) == "5"
