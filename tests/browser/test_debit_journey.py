"""A member registers an automatic-debit account (口座振替) on a phone (390x844): from the settings hub,
through step-up, an account at another bank (pending 3 business days, due day fixed to the 5th), then a
change to PayPay銀行 without JavaScript (in force at once)."""

from __future__ import annotations

import re
import sqlite3

import pytest
from axe_playwright_python.async_playwright import Axe

from tests.browser.conftest import PHONE, running_server, screenshot
from tests.browser.test_shell import AXE_OPTIONS

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

CLOCK = "2026-10-08T12:00:00+09:00"  # Thu; Mon 10/12 is スポーツの日: other banks in force from Wed 10/14


def last_code(server) -> str:
    with sqlite3.connect(server.folder / "kaiin.sqlite3") as db:
        body = db.execute("SELECT body FROM outbox_mail ORDER BY id DESC LIMIT 1").fetchone()[0]
    return re.search(r"確認コード：([0-9]+)", body).group(1)


@pytest.fixture(scope="module")
def debit_server(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("debit"), {"KAIIN_CLOCK": CLOCK}, demo=False) as server:
        server.kaiin("member", "create", "--card", "5555000022", "--pin", "1357", "--name", "鈴木 一郎",
                     "--email", "ichiro@example.jp", "--limit", "300000", "--due-day", "15",
                     "--balance", "100000", "--borrowed-on", "2026-09-10")
        yield server


async def sign_in_and_step_up(page, server) -> None:
    await page.goto(f"{server.url}/login")
    await page.get_by_label("カード番号").fill("5555000022")
    await page.get_by_label("暗証番号（4桁）").fill("1357")
    await page.get_by_role("button", name="ログイン", exact=True).click()
    await page.wait_for_url(re.compile(r"/home$"))
    await page.goto(f"{server.url}/settings")
    await page.get_by_test_id("setting-debit").click()
    await page.wait_for_url(re.compile(r"/step-up"))
    await page.get_by_role("button", name="確認コードをメールで受け取る").click()
    await page.get_by_label(re.compile("確認コード")).wait_for()
    await page.get_by_label(re.compile("確認コード")).fill(last_code(server))
    await page.get_by_role("button", name="確認する").click()
    await page.wait_for_url(re.compile(r"/repayments/debit$"))


async def test_register_a_pending_account_then_change_it_without_javascript(debit_server, page, browser):
    server = debit_server
    await sign_in_and_step_up(page, server)
    assert await page.get_by_test_id("debit-none").is_visible()
    await page.get_by_label("金融機関").select_option("0005")
    await page.get_by_label("支店コード（3桁）").fill("０１２")
    await page.get_by_label("口座番号（7桁）").fill("7654321")
    await page.get_by_label("口座名義（カナ）").fill("すずき いちろう")
    await page.get_by_role("button", name="この口座を登録する").click()
    await page.get_by_test_id("debit-saved").wait_for()
    assert await page.get_by_test_id("debit-pending-status").inner_text() == "手続き中"
    text = await page.locator("main").inner_text()
    assert "2026年10月14日(水)から有効になります" in text and "2026年11月5日の返済期日から新しい返済日" in text
    assert "****321" in text and "7654321" not in text
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    await screenshot(page, "debit-pending")
    results = await Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    assert page.console_errors == []

    # a bad field: a message, nothing changes
    await page.get_by_label("口座番号（7桁）").fill("12345")
    await page.get_by_role("button", name="この口座に変更する").click()
    await page.get_by_text("口座番号は7桁の数字で入力してください").wait_for()
    assert await page.get_by_test_id("debit-pending-status").inner_text() == "手続き中"

    # without JavaScript, in the same session: change to PayPay銀行, in force at once
    plain = await browser.new_context(**PHONE, java_script_enabled=False, storage_state=await page.context.storage_state())
    try:
        nojs = await plain.new_page()
        await nojs.goto(f"{server.url}/repayments/debit")
        await nojs.get_by_label("金融機関").select_option("0033")
        await nojs.get_by_label("支店コード（3桁）").fill("001")
        await nojs.get_by_label("口座番号（7桁）").fill("1112223")
        await nojs.get_by_label("口座名義（カナ）").fill("スズキ イチロウ")
        await nojs.get_by_role("button", name="この口座に変更する").click()
        await nojs.get_by_test_id("debit-saved").wait_for()
        assert await nojs.get_by_test_id("debit-current-status").inner_text() == "有効"
        assert await nojs.get_by_test_id("debit-pending").count() == 0
        assert await nojs.evaluate("document.documentElement.scrollWidth") <= 390
        await screenshot(nojs, "debit-changed-nojs")
        await nojs.goto(f"{server.url}/settings")
        assert (await nojs.get_by_test_id("setting-debit").get_attribute("data-value")).startswith("active:0033:")
    finally:
        await plain.close()
