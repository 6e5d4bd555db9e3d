"""取引履歴 rows as markup (``web/history_rows.py``): the exact markup the row template made, for every kind."""

from __future__ import annotations

from datetime import date

import pytest

from db.history import HistoryPage, HistoryRow, HistoryView
from web.app import _templates
from web.settings import Settings

ROWS = [
    HistoryRow(9, "repayment", date(2026, 11, 5), 12000, -10537, 1463, 0, 89463),
    HistoryRow(8, "point_use", date(2026, 10, 25), 500, -300, 150, 50, 100000),
    HistoryRow(7, "borrowing", date(2026, 10, 1), 100000, 100000, 0, 0, 100300),
    HistoryRow(6, "reversal", date(2026, 9, 30), 20000, -20000, 0, 0, 300),
    HistoryRow(5, "adjustment", date(2026, 9, 29), 300, 300, 0, 0, 20300),
    HistoryRow(4, "adjustment", date(2026, 9, 28), 0, 0, 0, 0, 20000),
]
#: what ``history/_rows.html`` rendered with a Jinja loop before the rows were built in Python
EXPECTED = (
    '<li class="entry entry-repayment" id="entry-9" data-testid="history-row" data-value="9">\n'
    '  <div class="entry-head">\n'
    '    <time datetime="2026-11-05">2026年11月5日(木)</time>\n'
    '    <span class="kind">ご返済</span>\n'
    '  </div>\n'
    '  <div class="entry-body">\n'
    '    <span class="amount" data-testid="history-amount" data-value="12000">−12,000円</span>\n'
    '    <span class="after">残高 <span data-testid="history-balance" data-value="89463">89,463円</span></span>\n'
    '  </div>\n'
    '  <p class="split">元金 10,537円 ／ 利息 1,463円</p>\n'
    '  <a class="receipt-link" href="/history/9/receipt">受取証書を見る</a>\n'
    '</li>\n'
    '<li class="entry entry-point_use" id="entry-8" data-testid="history-row" data-value="8">\n'
    '  <div class="entry-head">\n'
    '    <time datetime="2026-10-25">2026年10月25日(日)</time>\n'
    '    <span class="kind">ポイント返済</span>\n'
    '  </div>\n'
    '  <div class="entry-body">\n'
    '    <span class="amount" data-testid="history-amount" data-value="500">−500円</span>\n'
    '    <span class="after">残高 <span data-testid="history-balance" data-value="100000">100,000円</span></span>\n'
    '  </div>\n'
    '  <p class="split">元金 300円 ／ 利息 150円 ／ 遅延損害金 50円</p>\n'
    '  <a class="receipt-link" href="/history/8/receipt">受取証書を見る</a>\n'
    '</li>\n'
    '<li class="entry entry-borrowing" id="entry-7" data-testid="history-row" data-value="7">\n'
    '  <div class="entry-head">\n'
    '    <time datetime="2026-10-01">2026年10月1日(木)</time>\n'
    '    <span class="kind">お借入れ</span>\n'
    '  </div>\n'
    '  <div class="entry-body">\n'
    '    <span class="amount" data-testid="history-amount" data-value="100000">＋100,000円</span>\n'
    '    <span class="after">残高 <span data-testid="history-balance" data-value="100300">100,300円</span></span>\n'
    '  </div>\n'
    '</li>\n'
    '<li class="entry entry-reversal" id="entry-6" data-testid="history-row" data-value="6">\n'
    '  <div class="entry-head">\n'
    '    <time datetime="2026-09-30">2026年9月30日(水)</time>\n'
    '    <span class="kind">取消</span>\n'
    '  </div>\n'
    '  <div class="entry-body">\n'
    '    <span class="amount" data-testid="history-amount" data-value="20000">−20,000円</span>\n'
    '    <span class="after">残高 <span data-testid="history-balance" data-value="300">300円</span></span>\n'
    '  </div>\n'
    '</li>\n'
    '<li class="entry entry-adjustment" id="entry-5" data-testid="history-row" data-value="5">\n'
    '  <div class="entry-head">\n'
    '    <time datetime="2026-09-29">2026年9月29日(火)</time>\n'
    '    <span class="kind">調整</span>\n'
    '  </div>\n'
    '  <div class="entry-body">\n'
    '    <span class="amount" data-testid="history-amount" data-value="300">＋300円</span>\n'
    '    <span class="after">残高 <span data-testid="history-balance" data-value="20300">20,300円</span></span>\n'
    '  </div>\n'
    '</li>\n'
    '<li class="entry entry-adjustment" id="entry-4" data-testid="history-row" data-value="4">\n'
    '  <div class="entry-head">\n'
    '    <time datetime="2026-09-28">2026年9月28日(月)</time>\n'
    '    <span class="kind">調整</span>\n'
    '  </div>\n'
    '  <div class="entry-body">\n'
    '    <span class="amount" data-testid="history-amount" data-value="0">0円</span>\n'
    '    <span class="after">残高 <span data-testid="history-balance" data-value="20000">20,000円</span></span>\n'
    '  </div>\n'
    '</li>\n'
    '<li id="history-more" class="more">\n'
    '  <a class="button" href="/history?month=2026-09&amp;kind=correction&amp;before=4" hx-get="/history/rows?month=2026-09&amp;kind=correction&amp;before=4" hx-target="#history-more" hx-swap="outerHTML" hx-push-url="false">もっと見る</a>\n'
    '</li>\n'
)


@pytest.fixture(scope="module")
def rows_template():
    return _templates(Settings(env="test")).engine.get_template("history/_rows.html")


def test_rows_and_the_more_link_are_the_markup_the_template_made(rows_template):
    view = HistoryView(HistoryPage(ROWS, 4), [], "2026-09", "correction", None)
    assert rows_template.render(view=view) == EXPECTED


def test_the_last_page_has_no_more_link(rows_template):
    html = rows_template.render(view=HistoryView(HistoryPage(ROWS[:1], None), [], "", "", None))
    assert html == EXPECTED.split('<li class="entry entry-point_use"')[0] and "history-more" not in html


def test_an_unknown_kind_is_an_error_not_a_blank_label(rows_template):
    odd = HistoryRow(3, "<b>odd</b>", date(2026, 9, 1), 1, 1, 0, 0, 1)
    with pytest.raises(KeyError):
        rows_template.render(view=HistoryView(HistoryPage([odd], None), [], "", "", None))
