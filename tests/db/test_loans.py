"""The contract and its ledger on a real engine: positions of the demo members, posting, the cache,
and the invariant balance = sum of the ledger. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest

from db import loans
from db.engine import write_tx
from db.holidays import business_calendar
from db.tables import Contract, LedgerEntry
from domain.errors import LoanError
from domain.ledger import Kind
from domain.loan import Position
from tests.conftest import make_member, run
from tests.db.loan_fixtures import BULK_ROWS, NOW, POLICY, account, load_demo

TODAY = date(2026, 11, 20)


def _replayed(acc: loans.Account) -> Position:
    state = run(loans.replayed_state(acc.contract_id, POLICY))
    return Position.of(acc.position.contract, state, TODAY, POLICY, business_calendar(POLICY))


async def _ledger_sums(contract_id: int) -> dict:
    rows = await LedgerEntry.select(LedgerEntry.principal, LedgerEntry.interest, LedgerEntry.late_charge).where(
        LedgerEntry.contract == contract_id)
    return {k: sum(r[k] for r in rows) for k in ("principal", "interest", "late_charge")} | {"count": len(rows)}


def test_demo_members(database_url):
    """Each demo member's figures: the engine's, equal to a full replay and to the ledger sums (one load per engine)."""
    demo_ids = load_demo()
    # demo positions match a full replay and the ledger sum
    for name, member_id in demo_ids.items():
        acc = account(member_id)
        full = _replayed(acc)
        for figure in ("balance", "accrued_interest", "late_charge", "payoff", "available_credit", "status",
                       "next_due_date", "amount_due", "paid_toward_due", "interest_to_due_date", "arrears"):
            assert getattr(acc.position, figure) == getattr(full, figure), (name, figure)
        sums = run(_ledger_sums(acc.contract_id))
        cached = run(Contract.select(Contract.principal).where(Contract.id == acc.contract_id).first().run())
        assert acc.position.balance == sums["principal"] == cached["principal"], name
    # new borrower is inside the interest free days
    pos = account(demo_ids["new"]).position
    assert pos.contract.interest_free_until == TODAY - timedelta(days=5) + timedelta(days=30)
    assert (pos.balance, pos.accrued_interest, pos.payoff) == (50_000, 0, 50_000)
    assert pos.amount_due == 2_000 and pos.next_due_date == date(2026, 12, 25)  # borrowed on the 15th, due day 25
    assert pos.interest_to_due_date == 243  # Dec 16 – 25 after the free days: 10 days = 243.8
    assert pos.status == "active" and pos.available_credit == 450_000
    # on time member is active with nothing missed
    acc = account(demo_ids["on_time"])
    pos = acc.position
    assert pos.status == "active" and pos.arrears == 0 and pos.late_charge == 0
    assert pos.balance > 0 and pos.accrued_interest > 0 and pos.next_due_date > TODAY
    assert pos.amount_due == 9_000  # 2.53% of the balance right after the last borrowing (331,225), rounded up
    assert pos.available_credit == 500_000 - pos.balance
    # overdue member has late charge and cannot borrow
    pos = account(demo_ids["overdue"]).position
    assert pos.status == "borrowing_stopped" and "ご返済が確認できていません" in pos.status_reason
    assert pos.late_charge > 0 and pos.arrears >= 8_000 and pos.available_credit == 0
    assert pos.overdue_since is not None and pos.overdue_since <= TODAY
    assert pos.payoff == pos.balance + pos.accrued_interest + pos.late_charge
    # paid off member owes nothing
    pos = account(demo_ids["paid_off"]).position
    assert (pos.balance, pos.payoff, pos.accrued_interest, pos.next_due_date, pos.amount_due) == (0, 0, 0, None, 0)
    assert pos.available_credit == 500_000 and pos.status == "active"
    # heavy member and demo is idempotent
    acc = account(demo_ids["heavy"])
    assert run(_ledger_sums(acc.contract_id))["count"] == BULK_ROWS
    assert acc.position.status == "active" and acc.last_entry_id > 0
    again = load_demo()
    assert again == demo_ids
    assert run(_ledger_sums(acc.contract_id))["count"] == BULK_ROWS


@pytest.fixture
def borrower(settings) -> int:
    """¥100,000 borrowed on 2026-11-01, due day 15: first due date 2026-12-15."""
    return make_member(settings, balance=100_000, borrowed_on=date(2026, 11, 1), due_day="15")


def test_post_appends_rows_and_updates_the_cache_in_one_transaction(borrower):
    member_id = borrower
    later = NOW + timedelta(days=3)

    async def repay(amount: int) -> list[int]:
        async with write_tx():
            acc = await loans.account_for_member(member_id, later, POLICY, lock=True)
            return await loans.post(acc, acc.position.payment_entries(amount), later, reference="T1")

    before = account(member_id, later).position
    ids = run(repay(10_000))
    after = account(member_id, later)
    split = before.split(10_000)
    assert after.position.balance == before.balance - split.principal
    assert after.position.accrued_interest == before.accrued_interest - split.interest == 0
    assert after.last_entry_id == ids[-1]
    rows = run(LedgerEntry.select().where(LedgerEntry.id.is_in(ids)).order_by(LedgerEntry.id).run())
    assert [r["kind"] for r in rows] == ["interest_charge", "repayment"]
    assert rows[-1]["principal_after"] == after.position.balance and rows[-1]["reference"] == "T1"
    cached = run(Contract.select(Contract.principal, Contract.loan_state).where(Contract.id == after.contract_id).first().run())
    assert cached["principal"] == after.position.balance and f'"entry_id":{ids[-1]}' in cached["loan_state"]
    assert run(_ledger_sums(after.contract_id))["principal"] == after.position.balance


def test_a_failed_post_changes_nothing(borrower):
    member_id = borrower

    async def overpay() -> None:
        async with write_tx():
            acc = await loans.account_for_member(member_id, NOW, POLICY, lock=True)
            await loans.post(acc, acc.position.payment_entries(acc.position.payoff + 1), NOW)

    before = run(_ledger_sums(account(member_id).contract_id))
    with pytest.raises(LoanError):
        run(overpay())
    assert run(_ledger_sums(account(member_id).contract_id)) == before


@pytest.mark.parametrize("email, free_until", [("hanako@example.jp", date(2026, 12, 10)), (None, None)])
def test_first_borrowing_with_a_registered_email_is_interest_free(settings, email, free_until):
    member_id = make_member(settings, email=email)
    on = NOW - timedelta(days=10)  # 2026-11-10

    async def borrow(amount: int, when) -> None:
        async with write_tx():
            acc = await loans.account_for_member(member_id, when, POLICY, lock=True)
            await loans.post(acc, [acc.position.borrowing_entry(amount)], when)

    run(borrow(100_000, on))
    run(borrow(20_000, on + timedelta(days=2)))  # a second borrowing inside the days: free too, end unchanged
    row = run(Contract.select(Contract.interest_free_until).where(Contract.member == member_id).first().run())
    assert row["interest_free_until"] == free_until
    pos = account(member_id).position
    assert pos.contract.interest_free_until == free_until
    if email:
        assert pos.accrued_interest == 0 and pos.payoff == 120_000
    else:
        assert pos.accrued_interest == 565  # 100,000 × 10 days + 20,000 × 8 days at 17.8% = 565.7


def test_rows_written_without_the_cache_are_still_counted(settings):
    member_id = make_member(settings, balance=100_000, borrowed_on=date(2026, 10, 1), due_day="15")
    pos = account(member_id).position  # the opening borrowing has no cache: the reader folds it in
    assert pos.balance == 100_000 and pos.overdue_since == date(2026, 11, 17)  # due Nov 16 (15th a Sunday), unpaid
    assert pos.arrears == 4_000 and pos.next_due_date == date(2026, 12, 15)
    assert pos.accrued_interest == 2_243  # Oct 2 – Nov 16: 46 days at 17.8% = 2,243.3
    assert pos.late_charge == 219  # Nov 17 – 20: 4 days at 20.0% = 219.2


def test_position_as_of_a_moment(borrower):
    pos = account(borrower).position
    assert (pos.balance, pos.accrued_interest, pos.next_due_date) == (100_000, 926, date(2026, 12, 15))  # 19 days
    earlier = account(borrower, datetime(2026, 11, 10, 14, 59, tzinfo=timezone.utc)).position  # 23:59 JST
    assert earlier.as_of == date(2026, 11, 10) and earlier.accrued_interest == 438  # 9 days = 438.9
    assert account(borrower, datetime(2026, 10, 31, 3, 0, tzinfo=timezone.utc)).position.balance == 0


def test_member_without_contract_has_no_account(database_url):
    assert run(loans.account_for_member(999_999, NOW, POLICY)) is None


def test_the_remembered_cache_text_is_never_changed_by_the_positions_read_from_it(borrower):
    """Reads resume from the contract's cached state, parsed once per text and shared: reading positions on
    later days, and posting a payment from one, must leave that parsed state as the text says."""
    member_id = borrower

    async def repay(day: int, amount: int) -> None:
        async with write_tx():
            acc = await loans.account_for_member(member_id, NOW + timedelta(days=day), POLICY, lock=True)
            await loans.post(acc, acc.position.payment_entries(amount), NOW + timedelta(days=day))

    run(repay(1, 1_000))  # the post writes the cache
    raw = run(Contract.select(Contract.loan_state).where(Contract.member == member_id).first().run())["loan_state"]
    assert raw
    for days in (1, 3, 40, 400):
        account(member_id, NOW + timedelta(days=days))
    run(repay(3, 5_000))
    assert loans._parsed_cache(raw) == loans._parsed_cache.__wrapped__(raw)


def test_the_account_read_finds_a_contracts_queued_transfers_by_index(database_url):
    """The account read runs on every member request: its sum of queued transfers must not walk every member's."""
    from db import engine

    if engine.is_postgres():
        pytest.skip("PostgreSQL's planner picks by table statistics; the index exists on both (migration)")
    plan = run(engine.fetch("EXPLAIN QUERY PLAN " + loans.ACCOUNT_SQL, 1))
    assert any("transfer_contract_status (contract=? AND status=?)" in row["detail"] for row in plan), plan
