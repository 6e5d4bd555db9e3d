"""Home, history and receipts in Chromium at 390x844: figures, the money-moved refresh, もっと見る as an htmx
partial (and as a plain link without JavaScript), receipts, no accessibility violations."""

from __future__ import annotations

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from tests.browser.conftest import ARTIFACTS, PHONE, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

# demo members are created in this order in a fresh database (db/demo.py)
ON_TIME, NEW, OVERDUE, PAID_OFF, HEAVY = 1, 2, 3, 4, 5
AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}


@pytest.fixture
def member_server(server):
    return server


async def sign_in(page, server, member_id: int) -> None:
    await page.context.clear_cookies()
    response = await page.request.post(f"{server.url}/_test/login/{member_id}")
    assert response.status == 204


async def no_violations(page) -> None:
    results = await Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


async def test_home_shows_the_figures_and_refreshes_when_money_moves(member_server, page):
    await sign_in(page, member_server, ON_TIME)
    await page.goto(f"{member_server.url}/home")
    balance = page.get_by_test_id("balance")
    assert int(await balance.get_attribute("data-value")) > 0
    for figure in ("accrued-interest", "payoff", "available-credit", "limit", "rate", "next-due-date",
                   "amount-due", "interest-to-due-date", "status", "points"):
        assert await page.get_by_test_id(figure).count() == 1, figure
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    await screenshot(page, "home")
    await no_violations(page)
    async with page.expect_response(lambda r: r.url.endswith("/home/summary")) as info:
        await page.evaluate("document.body.dispatchEvent(new CustomEvent('money-moved'))")
    response = await info.value
    assert response.status == 200 and response.request.headers.get("hx-request") == "true"
    await page.get_by_test_id("balance").wait_for()
    assert page.console_errors == []


async def test_overdue_member_sees_why_borrowing_stopped(member_server, page):
    await sign_in(page, member_server, OVERDUE)
    await page.goto(f"{member_server.url}/home")
    assert await page.get_by_test_id("status").get_attribute("data-value") == "borrowing_stopped"
    assert "ご返済が確認できていません" in await page.get_by_test_id("status-reason").inner_text()
    assert int(await page.get_by_test_id("late-charge").get_attribute("data-value")) > 0
    await screenshot(page, "home-overdue")
    await no_violations(page)


async def test_history_more_loads_the_next_page_in_place(member_server, page, browser):
    await sign_in(page, member_server, HEAVY)
    await page.goto(f"{member_server.url}/history")
    rows = page.get_by_test_id("history-row")
    assert await rows.count() == 20
    await page.evaluate("window.__sameDocument = true")
    async with page.expect_request(lambda r: "/history/rows?" in r.url) as info:
        await page.get_by_role("link", name="もっと見る").click()
    assert (await info.value).headers.get("hx-request") == "true"
    await expect(rows).to_have_count(40)
    assert await page.evaluate("window.__sameDocument === true"), "no full reload"
    ids = [int(v) for v in await rows.evaluate_all("rows => rows.map(r => r.dataset.value)")]
    assert ids == sorted(ids, reverse=True) and len(set(ids)) == 40
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await screenshot(page, "history")
    await page.screenshot(path=ARTIFACTS / "history-screen.png")  # what the phone shows first
    await no_violations(page)

    no_js = await browser.new_context(**PHONE, java_script_enabled=False)
    try:
        plain = await no_js.new_page()
        await no_js.request.post(f"{member_server.url}/_test/login/{HEAVY}")
        await plain.goto(f"{member_server.url}/history")
        await plain.get_by_role("link", name="もっと見る").click()
        await plain.get_by_role("link", name="最新の取引から表示する").wait_for()
        assert "before=" in plain.url and await plain.get_by_test_id("history-row").count() == 20
    finally:
        await no_js.close()


async def test_receipt_from_history(member_server, page):
    await sign_in(page, member_server, ON_TIME)
    await page.goto(f"{member_server.url}/history?kind=repayment")
    await page.get_by_role("link", name="受取証書を見る").first.click()
    await page.get_by_role("heading", name="受取証書").wait_for()
    assert "上記金額を受領いたしました" in await page.get_by_test_id("received-words").inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await screenshot(page, "receipt")
    await no_violations(page)
