"""Loan histories for the demo members, built by the real engine and written with bulk inserts.

Each history is a list of domain entries made the way the use cases make them (borrowings, then
payments split by ``domain.loan.payment_entries``), so a demo member's figures are the engine's own.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta, timezone
from typing import Iterator

from db import loans
from db.engine import engine, is_postgres
from db.tables import Contract as ContractRow
from db.tables import LedgerEntry
from domain.business_days import BusinessCalendar
from domain.interest import interest_free_until
from domain.ledger import Entry, Kind
from domain.loan import JST, Contract, LoanState, payment_entries
from domain.policy import LoanPolicy

COLUMNS = ("contract", "kind", "occurred_at", "value_date", "amount", "principal", "interest", "late_charge",
           "points", "principal_after", "reference", "reverses")


@dataclass
class Builder:
    """Writes a history day by day through the engine state, collecting the entries."""

    contract: Contract
    policy: LoanPolicy
    calendar: BusinessCalendar

    def __post_init__(self) -> None:
        self.state = LoanState()
        self.entries: list[Entry] = []

    def _add(self, entries: list[Entry]) -> None:
        for entry in entries:
            self.state.apply(entry, self.contract, self.policy, self.calendar)
        self.entries.extend(entries)

    def borrow(self, day: date, amount: int) -> None:
        self._add([Entry(Kind.BORROWING, day, amount, principal=amount)])

    def pay(self, day: date, amount: int | None = None, kind: Kind = Kind.REPAYMENT) -> None:
        """Pay ``amount`` on ``day`` (default: what is still due for the current cycle, capped by the payoff)."""
        self.state.advance(day, self.contract, self.policy, self.calendar)
        if amount is None:
            amount = self.state.arrears + max(0, self.state.cycle_amount_due(self.policy) - self.state.paid)
        amount = min(amount, self.state.payoff)
        if amount > 0:
            self._add(payment_entries(self.state, day, amount, kind))

    def pay_off(self, day: date) -> None:
        self.state.advance(day, self.contract, self.policy, self.calendar)
        self.pay(day, self.state.payoff)

    def due_dates_before(self, today: date) -> Iterator[date]:
        """Each due date of the current cycle as it rolls, while it is before ``today``."""
        while self.state.due_date is not None and self.state.due_date < today:
            yield self.state.due_date
            self.state.advance(self.state.due_date + timedelta(days=1), self.contract, self.policy, self.calendar)


def on_time(contract: Contract, today: date, policy: LoanPolicy, calendar: BusinessCalendar) -> Builder:
    """Borrowed ¥300,000 about seven months ago and ¥50,000 since; pays each amount due two days early, and
    once paid 500 points extra (the first-contract bonus, so the member's points are 0 now)."""
    b = Builder(contract, policy, calendar)
    b.borrow(today - timedelta(days=210), 300_000)
    for n, due in enumerate(b.due_dates_before(today)):
        if n == 3:
            b.borrow(due - timedelta(days=10), 50_000)
        b.pay(due - timedelta(days=2))
        if n == 1:
            b.pay(due - timedelta(days=1), 500, Kind.POINT_USE)
    return b


def overdue(contract: Contract, today: date, policy: LoanPolicy, calendar: BusinessCalendar) -> Builder:
    """Borrowed ¥200,000 about three months ago, paid the first due date, then stopped paying."""
    b = Builder(contract, policy, calendar)
    b.borrow(today - timedelta(days=95), 200_000)
    for n, due in enumerate(b.due_dates_before(today)):
        if n == 0:
            b.pay(due)
    return b


def paid_off(contract: Contract, today: date, policy: LoanPolicy, calendar: BusinessCalendar) -> Builder:
    """Borrowed ¥100,000 about five months ago, paid two months on time, then everything."""
    b = Builder(contract, policy, calendar)
    b.borrow(today - timedelta(days=150), 100_000)
    for n, due in enumerate(b.due_dates_before(today - timedelta(days=20))):
        if n == 2:
            break
        b.pay(due)
    b.pay_off(today - timedelta(days=20))
    return b


def new_borrower(contract: Contract, today: date, policy: LoanPolicy, calendar: BusinessCalendar) -> Builder:
    """First borrowing five days ago by a first-time borrower with an email: inside the interest-free days."""
    first = today - timedelta(days=5)
    b = Builder(replace(contract, interest_free_until=interest_free_until(first, policy)), policy, calendar)
    b.borrow(first, 50_000)
    return b


def heavy(contract: Contract, today: date, policy: LoanPolicy, calendar: BusinessCalendar,
          rows: int, per_day: int = 20) -> Builder:
    """About ``rows`` entries: each day ``per_day`` small borrowings and as many repayments (the first
    of the day also charges the interest), around a ¥200,000 balance."""
    days = rows // (2 * per_day) + 2  # enough days even when no interest is charged
    b = Builder(contract, policy, calendar)
    start = today - timedelta(days=days)
    b.borrow(start, 200_000)
    day = start + timedelta(days=1)
    while len(b.entries) < rows and day <= today:
        b.state.advance(day, contract, policy, calendar)
        for i in range(per_day):
            if len(b.entries) >= rows:
                break
            b.borrow(day, 3_000 + 100 * i)
            if len(b.entries) >= rows:
                break
            b.pay(day, 3_000 + 100 * i + (b.state.interest_owed + b.state.late_charge_owed if i == 0 else 0))
        day += timedelta(days=1)
    return b


async def write(contract_id: int, built: Builder, now: datetime) -> None:
    """Bulk-insert a built history for a contract that has none yet, then set its cache, in the
    caller's ``write_tx()`` (COPY on PostgreSQL, one prepared multi-row statement on SQLite)."""
    balance = 0
    records = []
    for entry in built.entries:
        balance += entry.principal
        occurred = min(datetime.combine(entry.on, time(10, 0), JST), now).astimezone(timezone.utc)
        records.append((
            contract_id, entry.kind.value, occurred, entry.on, entry.amount, entry.principal, entry.interest,
            entry.late_charge, entry.amount if entry.kind is Kind.POINT_USE else 0, balance, "demo",
            entry.reverses.value if entry.reverses else "",
        ))
    connection = engine().current_transaction.get().connection
    if is_postgres():
        await connection.copy_records_to_table("ledger_entry", records=records, columns=COLUMNS)
    else:
        marks = ", ".join("?" for _ in COLUMNS)
        await connection.executemany(f"INSERT INTO ledger_entry ({', '.join(COLUMNS)}) VALUES ({marks})", records)
    last = await LedgerEntry.select(LedgerEntry.id).where(LedgerEntry.contract == contract_id).order_by(
        LedgerEntry.id, ascending=False).first()
    await ContractRow.update({
        ContractRow.principal: built.state.principal,
        ContractRow.interest_free_until: built.contract.interest_free_until,
        ContractRow.loan_state: loans.cache_value(built.state, last["id"] if last else 0),
    }).where(ContractRow.id == contract_id)
