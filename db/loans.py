"""A member's loan: the contract, its append-only ledger, and the position as of a moment.

Reading::

    account = await loans.account_for_member(member_id, now, policy)
    account.position.balance, account.position.next_due_date, ...   # domain.loan.Position

Writing (inside the caller's ``write_tx()``, one transaction per use case)::

    async with write_tx():
        account = await loans.account_for_member(member_id, now, policy, lock=True)
        entries = account.position.payment_entries(amount)           # domain decides
        await loans.post(account, entries, now, reference="R123")    # rows + cache, same transaction

The contract row caches the engine state (``loan_state``: the folded ``LoanState`` and the id of the
last entry folded in) and the principal; ``post`` updates both in the same transaction as the rows it
appends. A reader resumes from the cache and folds any later rows, so a row written without the cache
is never missed, and a full replay of the ledger always gives the same figures (tested).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Iterable

from db.engine import fetch, is_postgres
from db.holidays import business_calendar
from db.tables import Contract as ContractRow
from db.tables import LedgerEntry, Member
from domain.due_dates import parse_due_day
from domain.ledger import Entry, Kind
from domain.loan import STATUS_CLOSED, Contract, LoanState, Position, jst_date, replay, with_interest_free
from domain.policy import LoanPolicy

ENTRY_COLUMNS = (
    LedgerEntry.id, LedgerEntry.kind, LedgerEntry.value_date, LedgerEntry.amount, LedgerEntry.principal,
    LedgerEntry.interest, LedgerEntry.late_charge, LedgerEntry.reverses,
)


@dataclass(frozen=True, slots=True)
class Account:
    """A member, their contract and the loan position as of ``now``."""

    member_id: int
    member_name: str
    member_no: str
    points: int
    contract_id: int
    contract_no: str
    opened_on: date
    position: Position
    last_entry_id: int  #: the last ledger row folded into ``position`` (0 when none)
    interest_free_eligible: bool = False  #: a first-time borrower with a verified email (first contract)
    #: queued transfers' total, read with the account (None when read under the row lock: a statement that
    #: waited for the lock sees other tables as of before it waited, so the caller must read them afresh)
    queued_total: int | None = None


def terms(contract: dict, member: dict, policy: LoanPolicy) -> Contract:
    """The domain's view of a contract row and its member's standing."""
    status = STATUS_CLOSED if contract["status"] == "closed" else member["status"]
    return Contract(
        limit=contract["credit_limit"], rate=contract["rate"], due_day=parse_due_day(contract["due_day"], policy),
        interest_free_until=contract["interest_free_until"], status=status,
        status_reason=member.get("status_reason") or "",
    )


def to_entry(row: dict) -> Entry:
    return Entry(
        kind=Kind(row["kind"]), on=_day(row["value_date"]), amount=row["amount"], principal=row["principal"],
        interest=row["interest"], late_charge=row["late_charge"],
        reverses=Kind(row["reverses"]) if row["reverses"] else None,
    )


#: an account's row: the contract, its member's figures, how many contracts the member has had, the id of its
#: last ledger row and its queued transfers' total (``c`` is the contract, ``m`` its member). The last row's id:
#: ``e.contract + 0 = c.id + 0`` repeats the condition in a form no index serves, so that PostgreSQL does not take
#: it for a condition most rows meet: with few contracts in its statistics it otherwise walked the whole ledger back
#: from the newest row (any contract's) instead of looking the contract's last row up in (contract, id)
#: (tests/db/test_history_index.py)
ACCOUNT_COLUMNS = (
    "c.*, m.name AS member_name, m.member_no AS member_no, m.points AS points, m.status AS member_status,"
    " m.status_reason AS member_status_reason, m.email_verified AS email_verified,"
    " (SELECT COUNT(*) FROM contract o WHERE o.member = c.member) AS contracts,"
    " (SELECT MAX(e.id) FROM ledger_entry e WHERE e.contract = c.id AND e.contract + 0 = c.id + 0) AS last_entry_id,"
    " (SELECT COALESCE(SUM(t.amount), 0) FROM transfer t WHERE t.contract = c.id AND t.status = 'queued')"
    " AS queued_total"
)
#: the member's latest contract's account row, in one query
ACCOUNT_SQL = (
    f"SELECT {ACCOUNT_COLUMNS} FROM contract c JOIN member m ON m.id = c.member WHERE c.member = {{}}"
    " ORDER BY c.id DESC LIMIT 1"
)
#: the same, read from the member: one row while the member exists (contract columns NULL without a contract),
#: headed by what the member guard checks (``standing``)
MEMBER_ACCOUNT_SQL = (
    f"SELECT m.id AS standing_id, m.status AS standing_status, m.session_epoch AS standing_epoch, {ACCOUNT_COLUMNS}"
    " FROM member m LEFT JOIN contract c ON c.id = (SELECT MAX(o.id) FROM contract o WHERE o.member = m.id)"
    " WHERE m.id = {}"
)


async def account_for_member(member_id: int, now: datetime, policy: LoanPolicy, *,
                             lock: bool = False) -> Account | None:
    """The member's account as of ``now`` (their latest contract), or None when they have none.

    ``lock=True`` (inside ``write_tx()``) takes the contract row lock on PostgreSQL so that two money
    movements for one contract run one after the other.
    """
    lock_clause = " FOR UPDATE OF c" if lock and is_postgres() else ""
    rows = await fetch(ACCOUNT_SQL + lock_clause, member_id)  # one round trip on the common path
    if not rows:
        return None
    return await account_of(rows[0], now, policy, queued=not lock)


async def member_and_account(member_id: int) -> tuple[dict | None, dict | None]:
    """The member's standing (id, status, session_epoch: what the member guard checks) and their account's row
    for ``account_of``, in one statement: (None, None) when there is no such member, (standing, None) when the
    member has no contract. One round trip instead of the guard's and the page's (``web.guards``)."""
    rows = await fetch(MEMBER_ACCOUNT_SQL, member_id)
    if not rows:
        return None, None
    row = rows[0]
    standing = {"id": row["standing_id"], "status": row["standing_status"], "session_epoch": row["standing_epoch"]}
    return standing, (row if row["id"] is not None else None)


async def account_of(row: dict, now: datetime, policy: LoanPolicy, *, queued: bool = True) -> Account:
    """The account as of ``now`` from a row of ``ACCOUNT_SQL`` or ``MEMBER_ACCOUNT_SQL`` (``queued=False``: its
    queued transfers' total is not to be trusted, as when it was read under the row lock)."""
    member = {"name": row["member_name"], "member_no": row["member_no"], "points": row["points"],
              "status": row["member_status"], "status_reason": row["member_status_reason"]}
    return await _account(row, member, now, policy, int(row["queued_total"]) if queued else None)


async def _account(contract: dict, member: dict, now: datetime, policy: LoanPolicy,
                   queued_total: int | None = None) -> Account:
    today = jst_date(now)
    calendar = business_calendar(policy)
    loan = terms(contract, member, policy)
    state, last_id = _cached(contract)
    if state.through is not None and state.through > today:  # a moment before the cache: replay to it
        state, last_id = LoanState(), 0
    newest = contract.get("last_entry_id")
    rows = [] if (newest or 0) <= last_id else await _rows(contract["id"], last_id, until=today)
    if rows:
        state = replay(loan, (to_entry(row) for row in rows), policy, calendar, start=state)
        last_id = rows[-1]["id"]
    return Account(
        member_id=contract["member"], member_name=member["name"], member_no=member["member_no"],
        points=member["points"], contract_id=contract["id"], contract_no=contract["contract_no"],
        opened_on=_day(contract["opened_on"]), position=Position.of(loan, state, today, policy, calendar),
        last_entry_id=last_id,
        interest_free_eligible=bool(contract.get("email_verified")) and contract.get("contracts", 1) == 1,
        queued_total=queued_total,
    )


async def post(account: Account, entries: Iterable[Entry], now: datetime, *, reference: str = "",
               points: int = 0) -> list[int]:
    """Append ``entries`` (dated ``account.position.as_of``) and update the contract's cache.

    Call inside ``write_tx()`` with an account read in that transaction (``lock=True``). ``points`` is
    recorded on the payment entry paid with points. The first borrowing of a member eligible for the
    interest-free days (``Account.interest_free_eligible``) also sets the contract's interest-free end.
    Returns the new row ids, in order.
    """
    position = account.position
    state, terms_now = position.state.copy(), position.contract
    ids = []
    for entry in entries:
        if entry.on != position.as_of:
            raise ValueError("entries are posted on the day of the position")
        terms_now = with_interest_free(terms_now, state, entry, account.interest_free_eligible, position.policy)
        state.apply(entry, terms_now, position.policy, position.calendar)
        row = LedgerEntry(
            contract=account.contract_id, kind=entry.kind.value, occurred_at=now, value_date=entry.on,
            amount=entry.amount, principal=entry.principal, interest=entry.interest,
            late_charge=entry.late_charge, points=points if entry.kind.is_payment else 0,
            principal_after=state.principal, reference=reference,
            reverses=entry.reverses.value if entry.reverses else "",
        )
        await row.save()
        ids.append(row.id)
    if ids:
        await ContractRow.update({
            ContractRow.principal: state.principal, ContractRow.loan_state: cache_value(state, ids[-1]),
            ContractRow.interest_free_until: terms_now.interest_free_until,
        }).where(ContractRow.id == account.contract_id)
    return ids


def cache_value(state: LoanState, last_entry_id: int) -> str:
    return json.dumps({"entry_id": last_entry_id, "state": state.to_dict()}, separators=(",", ":"))


def cached_due_date(loan_state: str) -> date | None:
    """The due date of the cycle under way in a contract's cached engine state (None: no cache, no cycle)."""
    if not loan_state:
        return None
    raw = json.loads(loan_state)["state"].get("due_date")
    return date.fromisoformat(raw) if raw else None


def cached_due_date_pattern(day: date) -> str:
    """A LIKE pattern that finds contracts whose cached cycle under way is due on ``day``."""
    return f'%"due_date":"{day.isoformat()}"%'


def _cached(contract: dict) -> tuple[LoanState, int]:
    raw = contract.get("loan_state") or ""
    return _parsed_cache(raw) if raw else (LoanState(), 0)


@lru_cache(maxsize=4096)
def _parsed_cache(raw: str) -> tuple[LoanState, int]:
    """The cached engine state read back, remembered per text: a member's figures are read far more often than
    they change. Callers never change the state they get (``replay`` and ``Position.of`` work on copies)."""
    data = json.loads(raw)
    return LoanState.from_dict(data["state"]), data["entry_id"]


async def _rows(contract_id: int, after_id: int, *, until: date | None = None) -> list[dict]:
    where = (LedgerEntry.contract == contract_id) & (LedgerEntry.id > after_id)
    if until is not None:
        where &= LedgerEntry.value_date <= until
    return await LedgerEntry.select(*ENTRY_COLUMNS).where(where).order_by(LedgerEntry.id)


async def replayed_state(contract_id: int, policy: LoanPolicy) -> LoanState:
    """The state from a full replay of the ledger, ignoring the cache (for checks and repairs)."""
    contract = await ContractRow.select().where(ContractRow.id == contract_id).first()
    member = await Member.select().where(Member.id == contract["member"]).first()
    rows = await _rows(contract_id, 0)
    return replay(terms(contract, member, policy), (to_entry(r) for r in rows), policy, business_calendar(policy))


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))
