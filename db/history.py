"""取引履歴 and 受取証書: a member's ledger newest first, paged by keyset, and one repayment's receipt.

Keyset paging: a page is ``WHERE contract = ? AND id < :before ORDER BY id DESC LIMIT n + 1`` on the
index (contract, id), so the 5,000th page costs what the first does. Kind and month filters have their indexes,
(contract, kind, id) and (contract, value_date, id) (``_page_query``); all three carry the listed columns, so a
page is read from an index alone. Interest and late-charge charges are not listed on their own: each repayment
shows them in its split.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, datetime
from typing import NamedTuple

from db.accounts import member_by_id
from db.engine import fetch, fetch_remembered, is_postgres
from db.tables import MAX_ROW_ID, LedgerEntry
from domain.errors import DomainError

#: what a member can filter by, and the ledger kinds each covers (in display order)
KIND_FILTERS: dict[str, tuple[str, ...]] = {
    "borrowing": ("borrowing",),
    "repayment": ("repayment",),
    "point_use": ("point_use",),
    "correction": ("reversal", "adjustment"),
}
RECEIPT_KINDS = ("repayment", "point_use")


class HistoryFilterError(DomainError):
    """A month or kind filter that cannot be used."""


class HistoryRow(NamedTuple):
    """One listed ledger row (a tuple: a page builds twenty of them on every もっと見る)."""

    id: int
    kind: str
    value_date: date
    amount: int
    principal: int  #: signed change to the balance
    interest: int  #: interest paid (positive) for a repayment
    late_charge: int  #: late charge paid (positive) for a repayment
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
    """'2025-07' → (2025, 7); '' or None → None. Raises ``HistoryFilterError`` otherwise, also for another
    spelling of a month ('2025-7', '2025-0007'): the text is echoed in the page's links and form as given."""
    if not text:
        return None
    parts = text.split("-")
    if len(parts) == 2 and all(p.isascii() and p.isdigit() for p in parts) and list(map(len, parts)) == [4, 2]:
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


CONTRACT_OF_MEMBER = "(SELECT id FROM contract WHERE member = {} ORDER BY id DESC LIMIT 1)"
#: first and last entry dates, each one index probe (MIN and MAX together would scan the whole range)
MONTHS_SQL = (
    "SELECT (SELECT e.value_date FROM ledger_entry e WHERE e.contract = c.id ORDER BY e.value_date LIMIT 1) AS first,"
    " (SELECT e.value_date FROM ledger_entry e WHERE e.contract = c.id ORDER BY e.value_date DESC LIMIT 1) AS last"
    " FROM contract c WHERE c.member = {} ORDER BY c.id DESC LIMIT 1"
)
#: a listed row's columns, as ``HistoryRow``: a payment shows what it paid of interest and late charge as positive
#: amounts (the ledger holds them as negative changes)
PAGE_COLUMNS = (
    "SELECT id, kind, value_date, amount, principal,"
    f" CASE WHEN kind IN {RECEIPT_KINDS!r} THEN -interest ELSE interest END AS interest,"
    f" CASE WHEN kind IN {RECEIPT_KINDS!r} THEN -late_charge ELSE late_charge END AS late_charge, principal_after"
)
HIDDEN_KINDS = ("interest_charge", "late_charge")  #: shown inside each repayment's split, not as rows
#: a page (``{page}``: its query) beside the member's standing: one row per ledger row, or one row of NULLs after
#: the standing when the page is empty; none when there is no such member
MEMBER_AND_PAGE_SQL = (
    "SELECT m.id, m.status, m.session_epoch, p.* FROM member m LEFT JOIN ({page}) p ON 1 = 1 WHERE m.id = {{}}"
    " ORDER BY p.id DESC"
)


#: the member's standing (what the member guard checks) and their contract's id (None: no contract yet)
STANDING_SQL = (
    "SELECT m.id, m.status, m.session_epoch,"
    " (SELECT c.id FROM contract c WHERE c.member = m.id ORDER BY c.id DESC LIMIT 1) AS contract"
    " FROM member m WHERE m.id = {}"
)


async def page(member_id: int, *, before: int | None = None, month: tuple[int, int] | None = None,
               kind: str | None = None, size: int = 20) -> HistoryPage:
    """One page of the member's history, newest first, rows with id < ``before``: one query.

    Without a kind filter the hidden kinds are excluded with NOT IN, so the planner walks the index
    (contract, id) backwards and stops after ``size + 1`` rows whatever the ledger's length (``_page_query``).
    """
    sql, args = _page_query(CONTRACT_OF_MEMBER, member_id, before, month, kind, size)
    return _page(await fetch(sql, *args, tuples=True), size)


def _page_query(contract_sql: str, contract_arg: int, before: int | None, month: tuple[int, int] | None,
                kind: str | None, size: int) -> tuple[str, list]:
    """The page's statement, its contract given as ``contract_sql`` (a placeholder, or a subquery with one) and
    that placeholder's value.

    Each shape is written so that one index serves it, whatever the ledger's length (tests/db/test_history_index.py):
    the unfiltered page and a single kind's page walk (contract, id) or (contract, kind, id) in id order and stop
    after ``size + 1`` rows. A month's page reads the month's rows by (contract, value_date, id) and sorts them;
    there the kind and cursor are plain filters (``kind || ''``, ``id + 0``: terms no index can serve), and so are
    the sort key and a filter of several kinds (rare ones, read by kind and sorted). Walking an index in id order
    back to a month long past, or to a kind the member hardly has, would step over every later row."""
    by_date = month is not None
    kinds = KIND_FILTERS[kind] if kind else HIDDEN_KINDS  # our own names, written into the text (``_literal``)
    in_id_order = not by_date and (kind is None or len(kinds) == 1)
    sql = [PAGE_COLUMNS, " FROM ledger_entry WHERE contract = ", contract_sql,
           " AND kind || ''" if by_date else " AND kind", " IN (" if kind else " NOT IN (",
           ", ".join(map(_literal, kinds)), ")"]
    args: list = [contract_arg]
    if before is not None:
        sql.append(" AND id + 0 < {}" if by_date else " AND id < {}")
        args.append(before)
    if month is not None:
        year, mon = month
        sql.append(" AND value_date >= {} AND value_date <= {}")
        args += [date(year, mon, 1), date(year, mon, _calendar.monthrange(year, mon)[1])]
    sql.append(f" ORDER BY {'id' if in_id_order else 'id + 0'} DESC LIMIT {int(size) + 1}")
    return "".join(sql), args


def _literal(kind: str) -> str:
    """A ledger kind of ours as an SQL literal. The kinds and the page size are in the statement's text, not
    passed as values: PostgreSQL then plans each filter for what it is, once (a prepared statement's plan made
    without knowing them served some filters badly, and one that waits for them is planned again every time)."""
    if not kind.isidentifier():
        raise ValueError(f"not a ledger kind: {kind!r}")
    return f"'{kind}'"


def _page(rows: list[tuple], size: int) -> HistoryPage:
    more = len(rows) > size
    return HistoryPage(list(map(HistoryRow._make, rows[:size])), rows[size - 1][0] if more else None)


async def months(member_id: int) -> list[tuple[int, int]]:
    """The months from the member's last entry back to the first, newest first (for the month filter)."""
    rows = await LedgerEntry.raw(MONTHS_SQL, member_id)
    if not rows or rows[0]["first"] is None:
        return []
    first, last = _day(rows[0]["first"]), _day(rows[0]["last"])
    out, (year, mon) = [], (last.year, last.month)
    while (year, mon) >= (first.year, first.month):
        out.append((year, mon))
        year, mon = (year, mon - 1) if mon > 1 else (year - 1, 12)
    return out


def _day(value: date | str) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


async def receipt(member_id: int, entry_id: int) -> Receipt | None:
    """The receipt for one of the member's payments; None when it is not theirs or not a payment."""
    if not 0 < entry_id <= MAX_ROW_ID:  # no row's id (and PostgreSQL refuses it for an integer column)
        return None
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
    """The keyset cursor: '' → None (the newest page); ASCII digits only, a positive row id (at most
    ``MAX_ROW_ID``: a larger number is no row's, and PostgreSQL refuses it for an ``integer`` column)."""
    if not text:
        return None
    if text.isascii() and text.isdigit() and len(text) <= 10 and 0 < int(text) <= MAX_ROW_ID:
        return int(text)
    raise HistoryFilterError("ページの指定が正しくありません。最新の取引から表示してください。")


async def view(member_id: int, *, month: str = "", kind: str = "", before: str = "", size: int = 20,
               with_months: bool = True) -> HistoryView:
    """The history page for ``member_id``; a bad filter gives an empty page with a Japanese message.
    ``with_months=False`` skips the month list (the もっと見る fragment has no filter form)."""
    listed = await months(member_id) if with_months else []
    try:
        parsed_month, parsed_kind, cursor = parse_month(month), parse_kind(kind), parse_before(before)
    except HistoryFilterError as error:
        return HistoryView(HistoryPage([], None), listed, "", "", None, error.message)
    rows = await page(member_id, before=cursor, month=parsed_month, kind=parsed_kind, size=size)
    return HistoryView(rows, listed, month, kind, cursor)


async def member_and_view(member_id: int, *, month: str = "", kind: str = "", before: str = "",
                          size: int = 20) -> tuple[dict | None, HistoryView]:
    """The member's standing (id, status, session_epoch: what the member guard checks; None: no such member) and
    ``view(..., with_months=False)``, with as little reading as each engine allows (``web.guards``): on PostgreSQL
    one statement, the page's rows joined to the member's row (one round trip instead of the guard's and the
    page's); on SQLite the standing and contract id as remembered while nothing is committed (``fetch_remembered``,
    as every member request's row), then the page by the contract's id."""
    try:
        parsed_month, parsed_kind, cursor = parse_month(month), parse_kind(kind), parse_before(before)
    except HistoryFilterError as error:
        return await member_by_id(member_id), HistoryView(HistoryPage([], None), [], "", "", None, error.message)
    if is_postgres():
        sql, args = _page_query(CONTRACT_OF_MEMBER, member_id, cursor, parsed_month, parsed_kind, size)
        rows = await fetch(MEMBER_AND_PAGE_SQL.format(page=sql), *args, member_id, tuples=True)
        if not rows:
            return None, HistoryView(HistoryPage([], None), [], month, kind, cursor)
        standing = dict(zip(("id", "status", "session_epoch"), rows[0][:3]))
        page_rows = [row[3:] for row in rows if row[3] is not None]
    else:
        found = await fetch_remembered(STANDING_SQL, member_id)
        if not found:
            return None, HistoryView(HistoryPage([], None), [], month, kind, cursor)
        standing, page_rows = found[0], []
        contract = standing.pop("contract")
        if contract is not None:
            sql, args = _page_query("{}", contract, cursor, parsed_month, parsed_kind, size)
            page_rows = await fetch(sql, *args, tuples=True)
    return standing, HistoryView(_page(page_rows, size), [], month, kind, cursor)
