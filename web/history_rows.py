"""The rows of 取引履歴, built as markup in one pass: a page is twenty rows of a dozen figures each, and a Jinja
loop spends more on its own bookkeeping (a context, an attribute look-up and an escape per figure) than on the
figures. ``history/_rows.html`` keeps the frame and the もっと見る item.

Every value written here is an integer, a date or one of our labels; the ledger kind read from the database
is written only once it is known to be one of ours (an unknown kind is an error, as it was in the template)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from typing import Iterable

from markupsafe import Markup

from db.history import HistoryRow
from web.filters import jdate

KIND_LABELS = {
    "borrowing": "お借入れ", "repayment": "ご返済", "point_use": "ポイント返済", "reversal": "取消", "adjustment": "調整",
    "interest_charge": "利息", "late_charge": "遅延損害金",
}


def history_rows(rows: Iterable[HistoryRow]) -> Markup:
    """The ``<li>`` of each row, newest first as given."""
    return Markup("".join([_row(row) for row in rows]))


@lru_cache(maxsize=1024)
def _day(value: date) -> str:
    """The ``<time>`` of a day (a page's rows share few days; a ledger's, a few hundred)."""
    return f'<time datetime="{value.isoformat()}">{jdate(value)}</time>'


def _row(row: HistoryRow) -> str:
    kind = row.kind
    label = KIND_LABELS[kind]  # a KeyError for a kind that is not ours: nothing from the database is written raw
    principal = row.principal
    receipt = row.has_receipt
    sign = "−" if principal < 0 or receipt else ("＋" if principal > 0 else "")
    entry = row.id
    html = (
        f'<li class="entry entry-{kind}" id="entry-{entry}" data-testid="history-row" data-value="{entry}">\n'
        '  <div class="entry-head">\n'
        f'    {_day(row.value_date)}\n'
        f'    <span class="kind">{label}</span>\n'
        '  </div>\n'
        '  <div class="entry-body">\n'
        f'    <span class="amount" data-testid="history-amount" data-value="{row.amount}">{sign}{row.amount:,}円</span>\n'
        f'    <span class="after">残高 <span data-testid="history-balance" data-value="{row.balance_after}">'
        f'{row.balance_after:,}円</span></span>\n'
        '  </div>\n'
    )
    if receipt:
        late = f" ／ 遅延損害金 {row.late_charge:,}円" if row.late_charge else ""
        html += (
            f'  <p class="split">元金 {-principal:,}円 ／ 利息 {row.interest:,}円{late}</p>\n'
            f'  <a class="receipt-link" href="/history/{entry}/receipt">受取証書を見る</a>\n'
        )
    return html + "</li>\n"
