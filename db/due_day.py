"""Changing the due day (返済日の変更), applied from the next due date (``domain.due_day_change``).

The change writes the contract's new due day and, in the same transaction, a fresh engine cache
(``loan_state``) folded through today with the old day. Readers resume from that cache, so the cycle
under way keeps its due date and only the cycles after it follow the new day, exactly as
``plan_due_day_change`` told the member.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from db import loans
from db.engine import write_tx
from db.holidays import business_calendar
from db.tables import Contract
from domain.due_day_change import DueDayChange, plan_due_day_change
from domain.due_dates import parse_due_day
from domain.errors import LoanError
from domain.loan import Position
from domain.policy import MONTH_END, LoanPolicy


def due_day_text(day: int) -> str:
    """31 → ``end``; the form stored in ``contract.due_day`` (5 | 15 | 25 | end)."""
    return "end" if day == MONTH_END else str(day)


@dataclass(frozen=True, slots=True)
class DueDayOptions:
    current_day: int
    current_due_date: date | None  #: the next due date still to be met, as it stands
    changes: tuple[DueDayChange, ...]  #: one per other day the member may choose


def _plan(position: Position, new_day: int, policy: LoanPolicy) -> DueDayChange:
    state = position.state
    return plan_due_day_change(position.contract.due_day, new_day, due_month=state.due_month,
                               current_due_date=state.due_date, calendar=business_calendar(policy))


async def options(member_id: int, now: datetime, policy: LoanPolicy) -> DueDayOptions:
    """What each choice would do, for the form (so the member sees it before choosing)."""
    account = await loans.account_for_member(member_id, now, policy)
    if account is None:
        raise LoanError("ご契約が見つかりません。")
    position = account.position
    current = position.contract.due_day
    changes = tuple(_plan(position, day, policy) for day in policy.due_days if day != current)
    return DueDayOptions(current, position.next_due_date, changes)


async def change_due_day(member_id: int, new_day_text: str, now: datetime, policy: LoanPolicy) -> DueDayChange:
    """Set the due day from the next due date on. Raises ``LoanError`` (bad day, same day, no contract)."""
    new_day = parse_due_day(new_day_text, policy)
    async with write_tx():
        account = await loans.account_for_member(member_id, now, policy, lock=True)
        if account is None:
            raise LoanError("ご契約が見つかりません。")
        change = _plan(account.position, new_day, policy)
        await Contract.update({
            Contract.due_day: due_day_text(new_day),
            Contract.loan_state: loans.cache_value(account.position.state, account.last_entry_id),
        }).where(Contract.id == account.contract_id)
    return change
