"""Maintenance on a phone: the 503 page with its countdown, htmx sent to /maintenance, the banner before."""

from __future__ import annotations

import re

import pytest
import pytest_asyncio
from axe_playwright_python.async_playwright import Axe

from tests.browser.conftest import PHONE, running_server, screenshot
from tests.browser.test_shell import AXE_OPTIONS

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

IN_WINDOW = "2026-11-23T03:00:00+09:00"  # Monday 03:00 JST: the weekly window, 4 hours before it ends
SUNDAY_2330 = "2026-11-22T23:30:00+09:00"  # 30 minutes before it


def _seconds(text: str) -> int:
    """'あと3時間59分58秒' → 14398 (the countdown as JavaScript writes it)."""
    match = re.fullmatch(r"あと(?:(\d+)日)?(?:(\d+)時間)?(\d+)分(\d+)秒", text)
    assert match, text
    days, hours, minutes, seconds = (int(part or 0) for part in match.groups())
    return ((days * 24 + hours) * 60 + minutes) * 60 + seconds


@pytest.fixture(scope="module")
def in_window(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("in-window"), {"KAIIN_CLOCK": IN_WINDOW}, demo=False) as server:
        yield server


@pytest.fixture(scope="module")
def before_window(tmp_path_factory):
    with running_server(tmp_path_factory.mktemp("before-window"), {"KAIIN_CLOCK": SUNDAY_2330}) as server:
        yield server


async def test_the_503_page_on_a_phone_says_when_service_resumes_and_counts_down(in_window, page):
    response = await page.goto(f"{in_window.url}/home")
    assert response.status == 503
    assert response.headers["retry-after"] == "14400"
    await page.get_by_role("heading", name="ただいまメンテナンス中です").wait_for()
    assert "2026年11月23日(月) 7:00" in await page.locator(".resume").inner_text()
    timer = page.get_by_role("timer")
    first = _seconds(await timer.inner_text())
    await page.wait_for_timeout(2200)
    second = _seconds(await timer.inner_text())
    assert 4 * 3600 - 5 <= second < first <= 4 * 3600, (first, second)
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    results = await Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    await screenshot(page, "maintenance-503")
    others = [e for e in page.console_errors if "status of 503" not in e]  # the page's own status is logged
    assert others == [], "no CSP violations or script errors"


async def test_an_htmx_navigation_in_a_window_takes_the_whole_page_to_maintenance(in_window, page):
    await page.goto(f"{in_window.url}/offline")  # exempt, so it loads; its button is a boosted link to /home
    async with page.expect_response(lambda r: r.url.endswith("/home")) as info:
        await page.get_by_role("link", name="再読み込み").click()
    home = await info.value
    assert home.status == 503 and home.headers["hx-redirect"] == "/maintenance"
    assert home.request.headers.get("hx-request") == "true"
    await page.wait_for_url(re.compile(r"/maintenance$"))
    await page.get_by_role("heading", name="ただいまメンテナンス中です").wait_for()
    await screenshot(page, "maintenance-page")


async def test_without_javascript_the_503_page_still_tells_everything(in_window, browser):
    no_js = await browser.new_context(**PHONE, java_script_enabled=False)
    try:
        page = await no_js.new_page()
        response = await page.goto(f"{in_window.url}/login")
        assert response.status == 503
        text = await page.locator("main").inner_text()
        assert "2026年11月23日(月) 7:00" in text and "あと4時間0分" in text
    finally:
        await no_js.close()


async def test_banner_on_sunday_2330(before_window, page):
    await page.goto(f"{before_window.url}/login")
    banner = page.get_by_role("status").filter(has_text="メンテナンスのお知らせ")
    await banner.wait_for()
    assert "2026年11月23日(月) 0:00〜7:00" in await banner.inner_text()
    results = await Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    await screenshot(page, "maintenance-banner")


async def test_maintenance_page_outside_a_window_on_a_phone(before_window, page):
    response = await page.goto(f"{before_window.url}/maintenance")
    assert response.status == 200
    await page.get_by_role("heading", name="メンテナンスのお知らせ").wait_for()
    assert "2026年11月23日(月) 0:00〜7:00" in await page.locator("main").inner_text()
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390
    results = await Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    await screenshot(page, "maintenance-schedule")
