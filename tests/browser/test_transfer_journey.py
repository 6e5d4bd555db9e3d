"""A member borrows by transfer on a phone (390x844): payee account behind step-up, the live amount check,
the confirm page, the receipt, and the home page showing the new balance."""

from __future__ import annotations

import re
import sqlite3

import pytest
from axe_playwright_python.async_playwright import Axe

from tests.browser.conftest import PHONE, running_server, screenshot
from tests.browser.test_shell import AXE_OPTIONS

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

CLOCK = "2026-11-20T12:00:00+09:00"  # a Friday at noon: bank hours


def last_code(server) -> str:
    with sqlite3.connect(server.folder / "kaiin.sqlite3") as db:
        body = db.execute("SELECT body FROM outbox_mail ORDER BY id DESC LIMIT 1").fetchone()[0]
    return re.search(r"確認コード：([0-9]+)", body).group(1)


async def accessible(page) -> None:
    results = await Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


async def figure(page, testid: str) -> str:
    return await page.locator(f'[data-testid="{testid}"]').first.get_attribute("data-value")


@pytest.fixture(scope="module")
def borrowing_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("transfer"), {"KAIIN_CLOCK": CLOCK}, demo=False) as server:
        server.kaiin("member", "create", "--card", "5555000011", "--pin", "2580", "--name", "佐藤 花子",
                     "--email", "hanako@example.jp", "--limit", "300000")
        yield server


async def sign_in(page, server) -> None:
    await page.goto(f"{server.url}/login")
    await page.get_by_label("カード番号").fill("5555000011")
    await page.get_by_label("暗証番号（4桁）").fill("2580")
    await page.get_by_role("button", name="ログイン", exact=True).click()
    await page.wait_for_url(re.compile(r"/home$"))


async def test_a_member_borrows_by_transfer_and_home_updates(borrowing_server, page):
    server = borrowing_server
    await sign_in(page, server)
    assert await figure(page, "available-credit") == "300000"

    # no payee yet: register one, which needs a step-up first
    await page.get_by_role("link", name="借入", exact=True).click()
    await page.get_by_text("振込先口座が登録されていません").wait_for()
    await screenshot(page, "transfer-no-payee")
    await page.get_by_role("link", name="振込先口座を登録する").click()
    await page.wait_for_url(re.compile(r"/step-up"))
    await page.get_by_role("button", name="確認コードをメールで受け取る").click()
    await page.get_by_label(re.compile("確認コード")).wait_for()
    await page.get_by_label(re.compile("確認コード")).fill(last_code(server))
    await page.get_by_role("button", name="確認する").click()
    await page.wait_for_url(re.compile(r"/settings/payee$"))
    await page.get_by_label("金融機関").select_option("0009")
    await page.get_by_label("支店コード（3桁）").fill("２１０")  # full-width is fine here (NFKC)
    await page.get_by_label("口座番号（7桁）").fill("0123456")
    await page.get_by_label("口座名義（カナ）").fill("さとう はなこ")  # hiragana becomes katakana
    await page.get_by_role("button", name="この口座を登録する").click()
    await page.get_by_test_id("payee-saved").wait_for()
    assert "サトウ\u3000ハナコ" in await page.get_by_test_id("payee").inner_text()
    await screenshot(page, "transfer-payee-saved")
    await accessible(page)

    # the amount form: live check as the member types, without a page load
    await page.get_by_role("link", name="お借入れへ進む").click()
    await page.wait_for_url(re.compile(r"/transfers/new$"))
    await page.evaluate("window.__sameDocument = true")
    amount = page.get_by_label(re.compile("金額を入力"))
    await amount.fill("1500")
    await page.locator('#amount-check[data-ok="false"]').wait_for()
    assert "1,000円単位" in await page.locator("#amount-check").inner_text()
    await screenshot(page, "transfer-live-check-error")
    await accessible(page)
    await amount.fill("45000")
    await page.locator('#amount-check[data-ok="true"]').wait_for()
    assert "45,000円をお借入れできます" in await page.locator("#amount-check").inner_text()
    assert await page.evaluate("window.__sameDocument === true"), "the check did not reload the page"
    await screenshot(page, "transfer-form")

    # confirm, then the receipt
    await page.get_by_role("button", name="確認へ進む").click()
    await page.wait_for_url(re.compile(r"/transfers/confirm\?amount=45000"))
    assert await figure(page, "confirm-amount") == "45000"
    assert await figure(page, "amount-due") == "2000"  # ¥45,000 × 3.61% → ¥2,000
    await screenshot(page, "transfer-confirm")
    await accessible(page)
    await page.get_by_test_id("confirm").click()
    await page.get_by_test_id("transfer-no").wait_for()
    assert await figure(page, "transfer-status") == "sent"
    assert re.search(r"/transfers/\d{6}-?\d{6}$", page.url), page.url
    await screenshot(page, "transfer-receipt")
    await accessible(page)

    # home shows the new balance and the smaller available credit
    await page.get_by_role("link", name="ホーム").first.click()
    await page.wait_for_url(re.compile(r"/home$"))
    assert await figure(page, "balance") == "45000"
    assert await figure(page, "available-credit") == "255000"
    await screenshot(page, "transfer-home-after")
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    assert page.console_errors == []


async def test_borrowing_works_without_javascript(borrowing_server, browser):
    server = borrowing_server
    ctx = await browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = await ctx.new_page()
        await sign_in(page, server)
        await page.goto(f"{server.url}/transfers/new")
        await page.get_by_label(re.compile("金額を入力")).fill("999")
        await page.get_by_role("button", name="確認へ進む").click()
        assert "1,000円から" in await page.get_by_test_id("transfer-error").inner_text()
        await page.get_by_role("link", name="10,000円").click()
        await page.wait_for_url(re.compile(r"/transfers/confirm\?amount=10000"))
        await page.get_by_test_id("step-up").click()  # a fresh session: step up again, then back here
        await page.get_by_role("button", name="確認コードをメールで受け取る").click()
        await page.get_by_label(re.compile("確認コード")).wait_for()
        await page.get_by_label(re.compile("確認コード")).fill(last_code(server))
        await page.get_by_role("button", name="確認する").click()
        await page.wait_for_url(re.compile(r"/transfers/confirm\?amount=10000"))
        await page.get_by_test_id("confirm").click()
        await page.get_by_test_id("transfer-no").wait_for()
        assert await figure(page, "transfer-status") == "sent"
        await screenshot(page, "transfer-receipt-no-js")
    finally:
        await ctx.close()
