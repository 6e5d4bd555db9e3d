"""A member repays on a phone (390x844): chooses an amount, sees the split and what it saves, pays, and
opens the 受取証書; then pays off everything and home says 完済. With and without JavaScript."""

from __future__ import annotations

import pytest

from tests.browser.conftest import PHONE, running_server, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

CLOCK = "2026-10-10T12:00:00+09:00"  # ¥100,000 borrowed 2026-09-10 at 17.8%: 30 days of interest = ¥1,463
CARD, PIN = "5555666677", "2468"


@pytest.fixture(scope="module")
def repay_server(tmp_path_factory):
    """A server on a fixed day with one member (id 1) who owes ¥100,000; test sign-in route included."""
    with running_server(tmp_path_factory.mktemp("repay"), {"KAIIN_CLOCK": CLOCK}, demo=False,
                        command=("tests.browser.member_server",)) as server:
        server.kaiin("member", "create", "--card", CARD, "--pin", PIN, "--name", "返済 花子", "--limit", "500000",
                     "--rate", "17.8", "--due-day", "15", "--balance", "100000", "--borrowed-on", "2026-09-10")
        yield server


async def sign_in(page, server):
    await page.context.clear_cookies()
    response = await page.request.post(f"{server.url}/_test/login/1")
    assert response.status == 204


async def figure(page, testid: str) -> str:
    return await page.locator(f'[data-testid="{testid}"]').first.get_attribute("data-value")


async def test_repay_with_a_preview_then_open_the_receipt(repay_server, page):
    await sign_in(page, repay_server)
    await page.goto(f"{repay_server.url}/repayments/new")
    assert await figure(page, "due-now") == "4000"
    await page.get_by_label("金額を指定", exact=True).check()
    await page.get_by_label("金額を指定する場合の金額").fill("30000")
    await page.locator('[data-testid="interest-saved"]').wait_for()  # the live preview answered
    assert int(await figure(page, "interest-saved")) > 0 and int(await figure(page, "months-saved")) > 0
    assert await figure(page, "preview-interest") == "1463"
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    await screenshot(page, "repay-form")

    await page.get_by_role("button", name="確認へ進む").click()
    await page.get_by_role("heading", name="ご返済内容の確認").wait_for()
    assert await figure(page, "preview-balance-after") == str(100_000 - (30_000 - 1_463))
    await screenshot(page, "repay-confirm")
    await page.get_by_role("button", name="返済する").click()
    await page.get_by_role("heading", name="ご返済を受け付けました").wait_for()
    assert page.url.rstrip("/").split("/")[-2] == "repayments"
    await screenshot(page, "repay-done")

    await page.get_by_role("link", name="受取証書を表示").click()
    await page.get_by_role("heading", name="受取証書").wait_for()
    assert await figure(page, "amount") == "30000"
    assert await figure(page, "interest") == "1463"
    assert await figure(page, "principal") == str(30_000 - 1_463)
    assert "上記金額を受領いたしました" in await page.locator("main").inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await screenshot(page, "repay-receipt")
    assert page.console_errors == [], "no CSP violations or script errors"


async def test_pay_off_everything_without_javascript(repay_server, browser):
    plain = await browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = await plain.new_page()
        await sign_in(page, repay_server)
        await page.goto(f"{repay_server.url}/repayments/new")
        await page.get_by_label("全額（完済", exact=False).check()
        await page.get_by_role("button", name="確認へ進む").click()
        await page.get_by_text("このご返済で完済となります").wait_for()
        await page.get_by_role("button", name="返済する").click()
        await page.get_by_text("完済しました").wait_for()
        await page.get_by_role("link", name="受取証書を表示").click()
        assert await figure(page, "balance-after") == "0"
        await page.goto(f"{repay_server.url}/home")
        assert "完済しました" in await page.locator('[data-testid="paid-off"]').inner_text()
        assert await figure(page, "balance") == "0"
        await screenshot(page, "repay-home-paid-off")
    finally:
        await plain.close()
