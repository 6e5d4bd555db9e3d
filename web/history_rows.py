"""The rows of 取引履歴 and their もっと見る item, built as markup in one pass: a page is twenty rows of a dozen
figures each, and a Jinja loop spends more on its own bookkeeping (a context, an attribute look-up and an escape
per figure) than on the figures. The page includes the same piece (``history/_rows.html``).

Every value written here is an integer, a date or one of our labels; the ledger kind read from the database
is written only once it is known to be one of ours (an unknown kind is an error, as it was in the template)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache
from urllib.parse import quote_plus

from markupsafe import Markup

from db.history import RECEIPT_KINDS, HistoryRow, HistoryView
from web.filters import jdate

KIND_LABELS = {
    "borrowing": "お借入れ", "repayment": "ご返済", "point_use": "ポイント返済", "reversal": "取消", "adjustment": "調整",
    "interest_charge": "利息", "late_charge": "遅延損害金",
}


def history_piece(view: HistoryView) -> Markup:
    """A page's rows and, when older rows remain, the もっと見る item that htmx swaps for the next page (a link to
    the same page without JavaScript); the filters chosen carry over in its query."""
    rows = "".join([_row(row) for row in view.page.rows])
    if view.page.next_before is None:
        return Markup(rows)
    # ``urlencode`` as written into an attribute (our own keys need no quoting; every other character is quoted)
    query = "&amp;".join([f"{key}={quote_plus(value)}" for key, value in view.query(view.page.next_before).items()])
    return Markup(
        f'{rows}<li id="history-more" class="more">\n'
        f'  <a class="button" href="/history?{query}" hx-get="/history/rows?{query}" hx-target="#history-more"'
        ' hx-swap="outerHTML" hx-push-url="false">もっと見る</a>\n'
        '</li>\n'
    )


@lru_cache(maxsize=1024)
def _day(value: date) -> str:
    """The ``<time>`` of a day (a page's rows share few days; a ledger's, a few hundred)."""
    return f'<time datetime="{value.isoformat()}">{jdate(value)}</time>'


#: each kind's markup around a row's id and day: the label is ours, written once per kind (a KeyError for a kind
#: that is not ours: nothing from the database is written raw)
_PARTS = {
    kind: (f'<li class="entry entry-{kind}" id="entry-',
           '" data-testid="history-row" data-value="',
           '">\n  <div class="entry-head">\n    ',
           f'\n    <span class="kind">{label}</span>\n  </div>\n  <div class="entry-body">\n'
           '    <span class="amount" data-testid="history-amount" data-value="')
    for kind, label in KIND_LABELS.items()
}


def _row(row: HistoryRow) -> str:
    entry, kind, day, amount, principal, interest, late_charge, after = row
    opening, data_value, head, body = _PARTS[kind]
    receipt = kind in RECEIPT_KINDS
    sign = "−" if principal < 0 or receipt else ("＋" if principal > 0 else "")
    html = (
        f'{opening}{entry}{data_value}{entry}{head}{_day(day)}{body}{amount}">{sign}{amount:,}円</span>\n'
        f'    <span class="after">残高 <span data-testid="history-balance" data-value="{after}">{after:,}円</span></span>\n'
        '  </div>\n'
    )
    if receipt:
        late = f" ／ 遅延損害金 {late_charge:,}円" if late_charge else ""
        return (f'{html}  <p class="split">元金 {-principal:,}円 ／ 利息 {interest:,}円{late}</p>\n'
                f'  <a class="receipt-link" href="/history/{entry}/receipt">受取証書を見る</a>\n</li>\n')
    return html + "</li>\n"
