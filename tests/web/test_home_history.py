"""Home, history and receipts over HTTP, for every demo member, on both engines."""

from __future__ import annotations

import re
import pytest
from litestar.testing import TestClient

from db.tables import LedgerEntry
from tests.conftest import _test_login, run, sign_in
from tests.db.loan_fixtures import BULK_ROWS, NOW, account, load_demo
from web.app import create_app

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
FIGURE = re.compile(r'data-testid="([a-z-]+)" data-value="([^"]*)"')
HOME_FIGURES = ("balance", "accrued-interest", "payoff", "available-credit", "limit", "rate", "next-due-date",
                "amount-due", "interest-to-due-date", "status", "points")


@pytest.fixture
def demo(settings):
    """A client at 2026-11-20 12:00 JST, and the demo members loaded at that moment."""
    ids = load_demo()
    app = create_app(settings.replace(clock=NOW.isoformat()), extra_route_handlers=[_test_login])
    with TestClient(app, base_url="http://testserver.local") as client:
        yield client, ids


def figures(html: str) -> dict[str, str]:
    return dict(FIGURE.findall(html))


def expected(member_id: int) -> dict[str, str]:
    acc = account(member_id)
    pos = acc.position
    return {
        "balance": str(pos.balance), "accrued-interest": str(pos.accrued_interest), "payoff": str(pos.payoff),
        "available-credit": str(pos.available_credit), "limit": str(pos.limit), "rate": str(pos.rate),
        "next-due-date": pos.next_due_date.isoformat() if pos.next_due_date else "",
        "amount-due": str(pos.amount_due), "interest-to-due-date": str(pos.interest_to_due_date),
        "status": pos.status, "points": str(acc.points),
    }


def test_home_shows_every_figure_for_each_demo_member(demo):
    client, ids = demo
    for name, member_id in ids.items():
        client.cookies.clear()
        sign_in(client, member_id)
        response = client.get("/home")
        assert response.status_code == 200 and response.text.startswith("<!doctype html>"), name
        shown = figures(response.text)
        assert {k: shown.get(k) for k in HOME_FIGURES} == expected(member_id), name
    # the figures a member would check by hand
    client.cookies.clear()
    sign_in(client, ids["new"])
    new = figures(client.get("/home").text)
    assert (new["balance"], new["accrued-interest"], new["payoff"], new["amount-due"]) == ("50000", "0", "50000", "2000")
    assert new["next-due-date"] == "2026-12-25" and new["interest-free-until"] == "2026-12-15"
    client.cookies.clear()
    sign_in(client, ids["overdue"])
    page = client.get("/home").text
    overdue = figures(page)
    assert overdue["status"] == "borrowing_stopped" and int(overdue["late-charge"]) > 0
    assert overdue["available-credit"] == "0" and "ご返済が確認できていません" in page
    assert int(overdue["payoff"]) == int(overdue["balance"]) + int(overdue["accrued-interest"]) + int(overdue["late-charge"])
    client.cookies.clear()
    sign_in(client, ids["paid_off"])
    paid = figures(client.get("/home").text)
    assert (paid["balance"], paid["payoff"], paid["next-due-date"], paid["available-credit"]) == ("0", "0", "", "500000")


def test_home_summary_is_a_fragment_that_refreshes_on_money_moved(demo):
    client, ids = demo
    sign_in(client, ids["on_time"])
    response = client.get("/home/summary", headers=HTMX)
    assert response.status_code == 200 and "<html" not in response.text
    assert 'id="home-summary"' in response.text and 'hx-trigger="money-moved from:body"' in response.text
    assert figures(response.text)["balance"] == expected(ids["on_time"])["balance"]
    full = client.get("/home")
    assert 'hx-get="/home/summary"' in full.text


def _history_ids(html: str) -> list[int]:
    return [int(v) for v in re.findall(r'data-testid="history-row" data-value="(\d+)"', html)]


def test_history_pages_newest_first_with_more_as_a_partial(demo):
    client, ids = demo
    sign_in(client, ids["heavy"])
    first = client.get("/history")
    assert first.status_code == 200 and first.text.startswith("<!doctype html>")
    seen = _history_ids(first.text)
    assert len(seen) == 20 and seen == sorted(seen, reverse=True)
    page_text = first.text
    for _ in range(3):
        link = re.search(r'hx-get="(/history/rows\?[^"]+)"', page_text)[1].replace("&amp;", "&")
        page = client.get(link, headers=HTMX)
        assert page.status_code == 200 and "<html" not in page.text and page.text.lstrip().startswith("<li")
        page_ids = _history_ids(page.text)
        assert len(page_ids) == 20 and max(page_ids) < min(seen)
        seen += page_ids
        page_text = page.text
    listed = run(LedgerEntry.select(LedgerEntry.id).where(
        LedgerEntry.kind.is_in(["borrowing", "repayment", "point_use", "reversal", "adjustment"])).order_by(
        LedgerEntry.id, ascending=False).limit(80).run())
    assert seen == [row["id"] for row in listed]  # nothing skipped, nothing twice, interest charges not listed
    no_js = client.get(f"/history?before={seen[19]}")  # the same link without JavaScript: a full page
    assert no_js.text.startswith("<!doctype html>") and _history_ids(no_js.text) == seen[20:40]
    assert "最新の取引から表示する" in no_js.text


def test_history_filters_by_kind_and_month(demo):
    client, ids = demo
    sign_in(client, ids["on_time"])
    borrowings = client.get("/history?kind=borrowing")
    assert borrowings.status_code == 200
    assert 'class="entry entry-borrowing"' in borrowings.text and "entry-repayment" not in borrowings.text
    assert len(_history_ids(borrowings.text)) == 2
    points = client.get("/history?kind=point_use").text
    assert len(_history_ids(points)) == 1 and "ポイント返済" in points
    everything = client.get("/history").text
    months = re.findall(r'<option value="(\d{4}-\d{2})"', everything)
    assert months[0] == "2026-11" and len(months) >= 6
    month = months[2]
    in_month = client.get(f"/history?month={month}").text
    dates = re.findall(r'<time datetime="(\d{4}-\d{2})-\d{2}">', in_month)
    assert dates and set(dates) == {month}
    assert f'<option value="{month}" selected>' in in_month


BAD_FILTERS = ["month=2026-13", "month=abc", "kind=fee", "month=" + "9" * 10_000, "before=0", "kind=%00",
               "month=２０２６-１１", "month=2026-1%E2%80%8B1", "before=-5", "before=abc", "before=1e3",
               "before=" + "9" * 100, "before=%D9%A1%D9%A2", "before=１２", "before=2147483648",
               "before=99999999999", "month=2025-0007", "month=2025-7", "month=02025-07"]


def test_history_bad_filters_get_a_japanese_message_and_change_nothing(demo):
    client, ids = demo
    sign_in(client, ids["on_time"])
    for query in BAD_FILTERS:
        response = client.get(f"/history?{query}")
        assert response.status_code == 400, query
        assert "正しくありません" in response.text and "Traceback" not in response.text, query
        assert 'data-testid="history-row"' not in response.text, query
        assert client.get(f"/history/rows?{query}", headers=HTMX).status_code == 400, query


def test_receipt_has_every_item_of_article_18(demo):
    client, ids = demo
    sign_in(client, ids["on_time"])
    history = client.get("/history?kind=repayment").text
    receipt_id = int(re.search(r'href="/history/(\d+)/receipt"', history)[1])
    response = client.get(f"/history/{receipt_id}/receipt")
    assert response.status_code == 200
    shown = figures(response.text)
    row = run(LedgerEntry.select().where(LedgerEntry.id == receipt_id).first().run())
    assert int(shown["amount"]) == row["amount"] > 0
    assert int(shown["late-charge"]) + int(shown["interest"]) + int(shown["principal"]) == row["amount"]
    assert (int(shown["interest"]), int(shown["principal"])) == (-row["interest"], -row["principal"])
    assert int(shown["balance-after"]) == row["principal_after"]
    assert shown["received-on"] == row["value_date"].isoformat()
    acc = account(ids["on_time"])
    assert shown["contract-date"] == acc.opened_on.isoformat()
    text = response.text
    for item in ("カイイン・ファイナンス株式会社", "東京都千代田区丸の内一丁目1番1号", "関東財務局長(1)第00001号",
                 acc.contract_no, "上記金額を受領いたしました", "山田 太郎", "受取証書"):
        assert item in text, item


def test_receipt_of_another_member_or_not_a_payment_is_404(demo):
    client, ids = demo
    sign_in(client, ids["on_time"])
    mine = int(re.search(r'href="/history/(\d+)/receipt"', client.get("/history?kind=repayment").text)[1])
    borrowing = _history_ids(client.get("/history?kind=borrowing").text)[0]
    client.cookies.clear()
    sign_in(client, ids["paid_off"])
    assert client.get(f"/history/{mine}/receipt").status_code == 404  # another member's repayment
    client.cookies.clear()
    sign_in(client, ids["on_time"])
    assert client.get(f"/history/{borrowing}/receipt").status_code == 404  # a borrowing has no receipt
    for no_row in ("99999999", "2147483648", "99999999999999", "0"):  # beyond a 32-bit id: no row's, not a 500
        assert client.get(f"/history/{no_row}/receipt").status_code == 404, no_row
    assert client.get(f"/history/{mine}/receipt").status_code == 200


def test_history_of_a_member_with_few_rows_has_no_more_link(demo):
    client, ids = demo
    sign_in(client, ids["new"])
    page = client.get("/history").text
    assert len(_history_ids(page)) == 1 and "もっと見る" not in page
    assert BULK_ROWS > 20


def test_the_pieces_read_with_the_guard_show_what_the_pages_show(demo, settings):
    """``/home/summary`` and ``/history/rows`` read their rows in the member guard's statement (one round trip);
    for every demo member, and for a member without a contract, they show exactly what ``/home`` and
    ``/history`` (read on their own) show, with each filter and page."""
    from db.tables import Contract
    from tests.conftest import make_member

    client, ids = demo
    without = make_member(settings, card_number="9999888877", web_id="nocontract1", email="none@example.jp")
    run(Contract.delete().where(Contract.member == without).run())
    for name, member_id in {**ids, "without a contract": without}.items():
        client.cookies.clear()
        sign_in(client, member_id)
        piece = client.get("/home/summary", headers=HTMX).text
        assert figures(piece) == figures(client.get("/home").text), name
        assert ("ご契約の情報が見つかりません" in piece) == (member_id == without), name
        newest = _history_ids(client.get("/history").text)
        queries = ["", "kind=repayment", "kind=borrowing", "kind=correction", "month=2026-10",
                   "kind=xxx&kind=repayment", "kind=repayment&kind=xxx", "month=2026-10&month=2026-09"]
        if len(newest) == 20:
            queries.append(f"before={newest[-1]}")
        for query in queries:  # a parameter given twice counts as its last on both
            rows, page = client.get(f"/history/rows?{query}", headers=HTMX), client.get(f"/history?{query}")
            assert rows.status_code == page.status_code, (name, query)
            assert _history_ids(rows.text) == _history_ids(page.text), (name, query)
