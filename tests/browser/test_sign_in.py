"""Signing in on a phone (390x844): both ways in, a wrong PIN, sign-out, and password recovery by email code."""

from __future__ import annotations

import re

import pytest
from axe_playwright_python.async_playwright import Axe

from tests.browser.conftest import PHONE, running_server, screenshot
from tests.browser.test_shell import AXE_OPTIONS

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest.fixture(scope="module")
def auth_server(tmp_path_factory):
    """A server of our own: these tests sign in and fail on purpose, which must not touch the shared one."""
    with running_server(tmp_path_factory.mktemp("auth-server")) as running:
        yield running


async def _sign_in_with_card(page, url: str, card: str, pin: str) -> None:
    await page.goto(f"{url}/login")
    await page.get_by_label("カード番号").fill(card)
    await page.get_by_label("暗証番号（4桁）").fill(pin)
    await page.get_by_role("button", name="ログイン", exact=True).click()


async def test_sign_in_with_card_number_typed_full_width(auth_server, page):
    await _sign_in_with_card(page, auth_server.url, "１２３４－５６７８－９０", "１２３４")
    await page.wait_for_url(re.compile(r"/home$"))
    await page.get_by_text("山田 太郎 様").wait_for()
    assert await page.get_by_test_id("status").get_attribute("data-value") == "active"
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await screenshot(page, "sign-in-card-home")
    assert page.console_errors == []

    await page.get_by_role("button", name="ログアウト").click()
    await page.wait_for_url(re.compile(r"/login\?signed_out=1$"))
    await page.get_by_text("ログアウトしました。").wait_for()
    await page.goto(f"{auth_server.url}/home")
    await page.wait_for_url(re.compile(r"/login"))


async def test_sign_in_with_web_id_and_password(auth_server, page):
    await page.goto(f"{auth_server.url}/login?tab=id")
    login_id = page.get_by_label("ログインID")
    assert await login_id.get_attribute("autocomplete") == "username webauthn"
    password = page.get_by_label("パスワード")
    assert await password.get_attribute("autocomplete") == "current-password"
    await login_id.fill("taro2024")
    await password.fill("kaiin-demo-pass")
    await screenshot(page, "sign-in-id-filled")
    await page.get_by_role("button", name="ログイン", exact=True).click()
    await page.wait_for_url(re.compile(r"/home$"))
    await page.get_by_text("山田 太郎 様").wait_for()
    await screenshot(page, "sign-in-id-home")
    assert page.console_errors == []


async def test_wrong_pin_says_the_rule_and_the_ways_out(auth_server, page):
    await _sign_in_with_card(page, auth_server.url, "1234567890", "9999")
    alert = page.get_by_role("alert")
    await alert.wait_for()
    text = await alert.inner_text()
    assert "3回続けて間違えるとロックされます" in text and "パスキー" in text
    assert await page.get_by_label("カード番号").input_value() == "1234567890"
    assert await page.get_by_label("暗証番号（4桁）").input_value() == ""
    await screenshot(page, "sign-in-wrong-pin")
    results = await Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    await _sign_in_with_card(page, auth_server.url, "1234567890", "1234")  # success resets the count
    await page.wait_for_url(re.compile(r"/home$"))


async def test_sign_in_without_javascript(auth_server, browser):
    context = await browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto(f"{auth_server.url}/login")
        assert not await page.get_by_test_id("passkey-login").is_visible(), "no button that cannot work"
        await _sign_in_with_card(page, auth_server.url, "1234 5678 90", "1234")
        await page.wait_for_url(re.compile(r"/home$"))
        await page.get_by_text("山田 太郎 様").wait_for()
    finally:
        await context.close()


async def test_recover_password_with_a_code_from_the_outbox(auth_server, page, browser):
    await page.goto(f"{auth_server.url}/login?tab=id")
    await page.get_by_role("link", name="ログインID・パスワードをお忘れの方").click()
    await page.get_by_label("ログインID または カード番号").fill("1234567890")
    await page.get_by_label("生年月日").fill("1990-04-01")
    await page.get_by_role("button", name="確認コードを送信").click()
    await page.get_by_label("確認コード（6桁）").wait_for()
    await screenshot(page, "recover-code")

    outbox = await browser.new_page()
    await outbox.goto(f"{auth_server.url}/dev/outbox")
    body = await outbox.locator('[data-kind="code_recover"] pre').first.inner_text()
    code = re.search(r"確認コード：([0-9]{6})", body).group(1)
    await outbox.close()

    await page.get_by_label("確認コード（6桁）").fill(code)
    await page.get_by_role("button", name="確認する").click()
    assert await page.get_by_test_id("web-id").inner_text() == "taro2024"
    await page.get_by_label("新しいパスワード").fill("kaiin-demo-pass")
    await screenshot(page, "recover-password")
    await page.get_by_role("button", name="パスワードを再設定").click()
    await page.get_by_test_id("recover-done").wait_for()
    await screenshot(page, "recover-done")
    assert page.console_errors == []
