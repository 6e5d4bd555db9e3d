"""取引履歴 and 受取証書: a member's ledger newest first, paged by keyset, and one repayment's receipt.

Keyset paging: a page is ``WHERE contract = ? AND id < :before ORDER BY id DESC LIMIT n + 1`` on the
index (contract, id), so the 5,000th page costs what the first does. Month and kind filters use the
indexes (contract, value_date, id) and (contract, kind, id). Interest and late-charge charges are not
listed on their own: each repayment shows them in its split.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, datetime

from db.tables import Contract, LedgerEntry
from domain.errors import DomainError

#: what a member can filter by, and the ledger kinds each covers (in display order)
KIND_FILTERS: dict[str, tuple[str, ...]] = {
    "borrowing": ("borrowing",),
    "repayment": ("repayment",),
    "point_use": ("point_use",),
    "correction": ("reversal", "adjustment"),
}
LISTED_KINDS = tuple(kind for kinds in KIND_FILTERS.values() for kind in kinds)
RECEIPT_KINDS = ("repayment", "point_use")


class HistoryFilterError(DomainError):
    """A month or kind filter that cannot be used."""


@dataclass(frozen=True, slots=True)
class HistoryRow:
    id: int
    kind: str
    value_date: date
    occurred_at: datetime
    amount: int
    principal: int  #: signed change to the balance
    interest: int  #: interest paid (positive) for a repayment
    late_charge: int  #: late charge paid (positive) for a repayment
    points: int
    balance_after: int

    @property
    def has_receipt(self) -> bool:
        return self.kind in RECEIPT_KINDS


@dataclass(frozen=True, slots=True)
class HistoryPage:
    rows: list[HistoryRow]
    next_before: int | None  #: pass as ``before`` for the next page; None on the last page


@dataclass(frozen=True, slots=True)
class Receipt:
    """Every item 貸金業法18条 asks of a 受取証書 except the lender's own details (from settings)."""

    entry_id: int
    kind: str
    received_on: date
    occurred_at: datetime
    amount: int
    points: int
    late_charge: int
    interest: int
    principal: int
    balance_after: int
    contract_no: str
    contract_opened_on: date
    credit_limit: int
    member_name: str
    member_no: str


def parse_month(text: str | None) -> tuple[int, int] | None:
    """'2025-07' → (2025, 7); '' or None → None. Raises ``HistoryFilterError`` otherwise."""
    if not text:
        return None
    parts = text.split("-")
    if len(parts) == 2 and all(p.isascii() and p.isdigit() for p in parts) and len(parts[0]) == 4:
        year, month = int(parts[0]), int(parts[1])
        if 1 <= month <= 12 and year >= 1900:
            return year, month
    raise HistoryFilterError("月の指定が正しくありません。一覧から選んでください。")


def parse_kind(text: str | None) -> str | None:
    if not text:
        return None
    if text not in KIND_FILTERS:
        raise HistoryFilterError("種類の指定が正しくありません。一覧から選んでください。")
    return text


async def member_contract_id(member_id: int) -> int | None:
    row = await Contract.select(Contract.id).where(Contract.member == member_id).order_by(
        Contract.id, ascending=False).first()
    return row["id"] if row else None


async def page(member_id: int, *, before: int | None = None, month: tuple[int, int] | None = None,
               kind: str | None = None, size: int = 20) -> HistoryPage:
    """One page of the member's history, newest first, rows with id < ``before``."""
    contract_id = await member_contract_id(member_id)
    if contract_id is None:
        return HistoryPage([], None)
    where = LedgerEntry.contract == contract_id
    where &= LedgerEntry.kind.is_in(list(KIND_FILTERS[kind] if kind else LISTED_KINDS))
    if before is not None:
        where &= LedgerEntry.id < before
    if month is not None:
        year, mon = month
        where &= LedgerEntry.value_date >= date(year, mon, 1)
        where &= LedgerEntry.value_date <= date(year, mon, _calendar.monthrange(year, mon)[1])
    rows = await LedgerEntry.select(
        LedgerEntry.id, LedgerEntry.kind, LedgerEntry.value_date, LedgerEntry.occurred_at, LedgerEntry.amount,
        LedgerEntry.principal, LedgerEntry.interest, LedgerEntry.late_charge, LedgerEntry.points,
        LedgerEntry.principal_after,
    ).where(where).order_by(LedgerEntry.id, ascending=False).limit(size + 1)
    more = len(rows) > size
    rows = rows[:size]
    return HistoryPage([_row(r) for r in rows], rows[-1]["id"] if more else None)


def _row(r: dict) -> HistoryRow:
    payment = r["kind"] in RECEIPT_KINDS
    return HistoryRow(
        id=r["id"], kind=r["kind"], value_date=r["value_date"], occurred_at=r["occurred_at"], amount=r["amount"],
        principal=r["principal"], interest=-r["interest"] if payment else r["interest"],
        late_charge=-r["late_charge"] if payment else r["late_charge"], points=r["points"],
        balance_after=r["principal_after"],
    )


async def months(member_id: int) -> list[tuple[int, int]]:
    """The months that have entries, newest first (for the month filter), from the first to the last."""
    contract_id = await member_contract_id(member_id)
    if contract_id is None:
        return []
    first = await LedgerEntry.select(LedgerEntry.value_date).where(LedgerEntry.contract == contract_id).order_by(
        LedgerEntry.id).first()
    last = await LedgerEntry.select(LedgerEntry.value_date).where(LedgerEntry.contract == contract_id).order_by(
        LedgerEntry.id, ascending=False).first()
    if first is None or last is None:
        return []
    out, (year, mon) = [], (last["value_date"].year, last["value_date"].month)
    stop = (first["value_date"].year, first["value_date"].month)
    while (year, mon) >= stop:
        out.append((year, mon))
        year, mon = (year, mon - 1) if mon > 1 else (year - 1, 12)
    return out


async def receipt(member_id: int, entry_id: int) -> Receipt | None:
    """The receipt for one of the member's payments; None when it is not theirs or not a payment."""
    row = await LedgerEntry.select(
        LedgerEntry.all_columns(), LedgerEntry.contract.contract_no, LedgerEntry.contract.opened_on,
        LedgerEntry.contract.credit_limit, LedgerEntry.contract.member.name, LedgerEntry.contract.member.member_no,
        LedgerEntry.contract.member,
    ).where(LedgerEntry.id == entry_id).first()
    if row is None or row["contract.member"] != member_id or row["kind"] not in RECEIPT_KINDS:
        return None
    return Receipt(
        entry_id=row["id"], kind=row["kind"], received_on=row["value_date"], occurred_at=row["occurred_at"],
        amount=row["amount"], points=row["points"], late_charge=-row["late_charge"], interest=-row["interest"],
        principal=-row["principal"], balance_after=row["principal_after"],
        contract_no=row["contract.contract_no"], contract_opened_on=row["contract.opened_on"],
        credit_limit=row["contract.credit_limit"], member_name=row["contract.member.name"],
        member_no=row["contract.member.member_no"],
    )


@dataclass(frozen=True, slots=True)
class HistoryView:
    """What the history page shows: one page of rows, the filters as chosen, and any filter error."""

    page: HistoryPage
    months: list[tuple[int, int]]
    month: str  #: 'YYYY-MM' or ''
    kind: str  #: a key of KIND_FILTERS or ''
    before: int | None
    error: str = ""

    def query(self, before: int | None) -> dict[str, str]:
        """Query parameters for a link that keeps the filters (``before`` None: from the newest)."""
        params = {"month": self.month, "kind": self.kind}
        if before is not None:
            params["before"] = str(before)
        return {k: v for k, v in params.items() if v}


def parse_before(text: str | None) -> int | None:
    """The keyset cursor: '' → None (the newest page); ASCII digits only, a positive row id."""
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 18 and int(text) > 0:
        return int(text)
    raise HistoryFilterError("ページの指定が正しくありません。最新の取引から表示してください。")


async def view(member_id: int, *, month: str = "", kind: str = "", before: str = "", size: int = 20) -> HistoryView:
    """The history page for ``member_id``; a bad filter gives an empty page with a Japanese message."""
    try:
        parsed_month, parsed_kind, cursor = parse_month(month), parse_kind(kind), parse_before(before)
    except HistoryFilterError as error:
        return HistoryView(HistoryPage([], None), await months(member_id), "", "", None, error.message)
    rows = await page(member_id, before=cursor, month=parsed_month, kind=parsed_kind, size=size)
    return HistoryView(rows, await months(member_id), month, kind, cursor)
