"""The simulator in Chromium at 390x844: typing updates the result in place, focus stays, no JS works too."""

from __future__ import annotations

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import expect

from tests.browser.conftest import PHONE, screenshot
from tests.browser.test_home_history import ON_TIME, no_violations, sign_in
from tests.browser.test_shell import AXE_OPTIONS

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


async def figure(page, testid: str) -> int:
    return int(await page.get_attribute(f"[data-testid={testid}]", "data-value"))


def not_a_status(errors: list[str]) -> list[str]:
    """Console errors other than Chromium's note that an explained input came back as 422."""
    return [e for e in errors if "status of 422" not in e]


async def test_typing_updates_the_result_and_keeps_focus(server, page):
    await page.goto(f"{server.url}/simulator")
    assert await figure(page, "months") > 0
    slow = await figure(page, "months")
    await page.evaluate("window.__sameDocument = true")
    payment = page.get_by_label("毎月のご返済額")
    await payment.click()
    await payment.press("End")
    async with page.expect_response(lambda r: "/simulator?" in r.url) as info:
        await payment.press_sequentially("0", delay=60)  # 4000 → 40000, a key at a time
    response = await info.value
    assert response.request.headers.get("hx-request") == "true" and response.status == 200
    assert "payment=40000" in response.url and "_csrf_token" not in response.url
    await expect(page.get_by_test_id("months")).not_to_have_attribute("data-value", str(slow))
    assert await figure(page, "months") < slow
    assert await page.evaluate("document.activeElement.id") == "payment", "focus never left the field"
    assert await page.evaluate("window.__sameDocument === true"), "no reload: only the result was swapped"
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    await screenshot(page, "simulator-typed")

    await payment.fill("")
    await payment.press_sequentially("500", delay=40)
    await page.get_by_text("払いきれず", exact=False).first.wait_for()
    assert await payment.get_attribute("aria-invalid") == "true"
    assert await figure(page, "minimum-payment") == 4_000
    assert await page.evaluate("document.activeElement.id") == "payment"
    await screenshot(page, "simulator-impossible")
    assert not_a_status(page.console_errors) == [], "no CSP violations or script errors"


async def test_months_mode_and_the_schedule(server, page):
    await page.goto(f"{server.url}/simulator")
    await page.get_by_text("返済回数から").click()
    months = page.get_by_label("返済回数", exact=True)
    await months.wait_for(state="visible")
    assert not await page.get_by_label("毎月のご返済額").is_visible()
    await months.fill("12")
    await page.locator("[data-testid=monthly-payment]").wait_for()
    assert await figure(page, "monthly-payment") == 10_000
    details = page.locator("details.schedule")
    assert await details.get_attribute("open") is None, "the schedule starts collapsed"
    assert await page.locator("details.schedule table").count() == 0, "a keystroke does not send the table"
    summary = page.locator("details.schedule summary")
    fetched = []
    page.on("request", lambda request: fetched.append(request.url) if "/simulator/schedule?" in request.url else None)
    async with page.expect_response(lambda r: "/simulator/schedule?" in r.url) as info:
        await summary.click()  # opening it fetches the table, once
    assert (await info.value).status == 200 and "payment=10000" in (await info.value).url
    await expect(page.locator("details.schedule tbody tr")).to_have_count(await figure(page, "months"))
    assert await details.get_attribute("open") is not None
    await summary.click()  # closed and opened again: the table is kept, not fetched again
    await summary.click()
    await expect(page.locator("details.schedule tbody tr")).to_have_count(await figure(page, "months"))
    assert len(fetched) == 1
    await screenshot(page, "simulator-schedule")
    results = await Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


async def test_without_javascript_the_button_posts_the_whole_page(server, browser):
    context = await browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = await context.new_page()
        await page.goto(f"{server.url}/simulator")
        await page.get_by_label("お借入額").fill("３０万")
        await page.get_by_label("毎月のご返済額").fill("11000")
        await page.get_by_role("button", name="計算する").click()
        await page.locator("[data-testid=months]").wait_for()
        assert await figure(page, "months") == 36
        assert await page.get_by_label("お借入額").input_value() == "３０万"
        await page.locator("details.schedule summary").click()  # the schedule is in the page itself
        await expect(page.locator("details.schedule tbody tr")).to_have_count(36)
        await screenshot(page, "simulator-no-js")
    finally:
        await context.close()


async def test_member_types_a_monthly_payment_from_home(server, page):
    await sign_in(page, server, ON_TIME)
    await page.goto(f"{server.url}/home")
    await page.get_by_test_id("simulator-link").click()
    await page.wait_for_url("**/simulator/mine")
    balance = await figure(page, "sim-balance")
    assert balance > 0 and await figure(page, "months") > 0
    before = await figure(page, "months")
    payment = page.get_by_label("毎月のご返済額")
    await payment.fill("")
    await payment.press_sequentially("60000", delay=40)
    await expect(page.get_by_test_id("months")).not_to_have_attribute("data-value", str(before))
    assert await figure(page, "months") < before
    assert await figure(page, "total-paid") > balance
    assert await page.evaluate("document.activeElement.id") == "payment"
    await screenshot(page, "simulator-member")
    await no_violations(page)
    assert not_a_status(page.console_errors) == []
