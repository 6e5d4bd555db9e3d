"""Changing the due day (返済日の変更), applied from the next due date (``domain.due_day_change``).

The change writes the contract's new due day and, in the same transaction, a fresh engine cache
(``loan_state``) folded through today with the old day. Readers resume from that cache, so the cycle
under way keeps its due date and only the cycles after it follow the new day, exactly as
``plan_due_day_change`` told the member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from db import banks, loans
from db.engine import write_tx
from db.holidays import business_calendar
from db.tables import Contract, DebitAccount
from domain.due_day_change import DueDayChange, plan_due_day_change
from domain.due_dates import parse_due_day
from domain.errors import LoanError
from domain.loan import Position, jst_date
from domain.policy import MONTH_END, LoanPolicy
from domain.repayment import RepaymentPolicy, check_due_day_with_debit, debit_in_force


def as_date(value: date | str) -> date:
    """A ``Date`` column's value (a date, or ISO text from some drivers)."""
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def due_day_text(day: int) -> str:
    """31 → ``end``; the form stored in ``contract.due_day`` (5 | 15 | 25 | end)."""
    return "end" if day == MONTH_END else str(day)


@dataclass(frozen=True, slots=True)
class DueDayOptions:
    current_day: int
    current_due_date: date | None  #: the next due date still to be met, as it stands
    changes: tuple[DueDayChange, ...]  #: one per other day the member may choose
    fixed_by_debit: str = ""  #: the bank whose automatic debit fixes the due day ('' = none)
    instant_banks: str = ""  #: the banks whose automatic debit allows any due day, for the notice


def _plan(position: Position, new_day: int, policy: LoanPolicy) -> DueDayChange:
    state = position.state
    return plan_due_day_change(position.contract.due_day, new_day, due_month=state.due_month,
                               current_due_date=state.due_date, calendar=business_calendar(policy))


async def fixing_debit_bank(member_id: int, today: date, repay: RepaymentPolicy) -> str:
    """The bank of an automatic-debit account (in force or pending) that fixes the due day, or ''."""
    rows = await DebitAccount.select(DebitAccount.bank_code, DebitAccount.bank_name, DebitAccount.active_from).where(
        (DebitAccount.member == member_id) & DebitAccount.cancelled_at.is_null()
    ).order_by(DebitAccount.id, ascending=False)
    for row in debit_in_force(rows, today, lambda r: as_date(r["active_from"])):
        if row is not None and row["bank_code"] not in repay.debit_instant_banks:
            return row["bank_name"]
    return ""


async def options(member_id: int, now: datetime, policy: LoanPolicy, repay: RepaymentPolicy) -> DueDayOptions:
    """What each choice would do, for the form (so the member sees it before choosing)."""
    account = await loans.account_for_member(member_id, now, policy)
    if account is None:
        raise LoanError("ご契約が見つかりません。")
    position = account.position
    current = position.contract.due_day
    changes = tuple(_plan(position, day, policy) for day in policy.due_days if day != current)
    fixed_by = await fixing_debit_bank(member_id, jst_date(now), repay)
    return DueDayOptions(current, position.next_due_date, changes, fixed_by, await banks.names(repay.debit_instant_banks))


async def apply_due_day(account: loans.Account, new_day: int, policy: LoanPolicy) -> DueDayChange:
    """Inside the caller's write transaction, with ``account`` read under the contract lock: set the due day
    from the next due date on (the cycle under way keeps its due date). Raises ``LoanError`` (same day)."""
    change = _plan(account.position, new_day, policy)
    await Contract.update({
        Contract.due_day: due_day_text(new_day),
        Contract.loan_state: loans.cache_value(account.position.state, account.last_entry_id),
    }).where(Contract.id == account.contract_id)
    return change


async def change_due_day(member_id: int, new_day_text: str, now: datetime, policy: LoanPolicy,
                         repay: RepaymentPolicy) -> DueDayChange:
    """Set the due day from the next due date on. Raises ``LoanError`` (bad day, same day, no contract) and
    ``RepaymentError`` (an automatic debit at another bank fixes the due day)."""
    new_day = parse_due_day(new_day_text, policy)
    async with write_tx():
        account = await loans.account_for_member(member_id, now, policy, lock=True)
        if account is None:
            raise LoanError("ご契約が見つかりません。")
        fixing = await fixing_debit_bank(member_id, jst_date(now), repay)
        check_due_day_with_debit(new_day, fixing, await banks.names(repay.debit_instant_banks), repay)
        return await apply_due_day(account, new_day, policy)
