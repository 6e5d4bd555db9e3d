"""A member changes the due day on a phone (390x844), with htmx and without JavaScript."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import PHONE, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


#: the first demo member (db/demo.py): borrowing, due day 5
MEMBER = 1


async def sign_in(page, url: str) -> None:
    await page.context.clear_cookies()
    response = await page.request.post(f"{url}/_test/login/{MEMBER}")
    assert response.status == 204


async def test_change_the_due_day_on_a_phone(server, page, browser):
    # the shared server's first demo member; its due day is put back to 5 at the end (the cycle under way
    # keeps its date either way, so the other tests' figures do not move)
    try:
        await sign_in(page, server.url)
        await page.goto(f"{server.url}/settings")
        assert await page.get_by_test_id("setting-due-day").get_attribute("data-value") == "5"
        await screenshot(page, "settings-hub")
        await page.get_by_role("link", name=re.compile("返済日 毎月5日")).click()
        await page.wait_for_url(re.compile(r"/settings/due-day$"))
        applies = await page.get_by_test_id("applies-from-25").get_attribute("data-value")
        await page.get_by_label(re.compile("毎月25日")).check()
        assert await page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
        await screenshot(page, "settings-due-day-form")
        await page.get_by_role("button", name="この返済日に変更する").click()
        done = page.get_by_test_id("settings-done")
        await done.wait_for()
        text = await done.inner_text()
        y, m, d = (int(part) for part in applies.split("-"))
        assert "毎月25日" in text and f"{y}年{m}月{d}日の返済期日から" in text
        await screenshot(page, "settings-due-day-done")
        await page.goto(f"{server.url}/settings")
        assert await page.get_by_test_id("setting-due-day").get_attribute("data-value") == "25"
        assert page.console_errors == []

        plain_context = await browser.new_context(**PHONE, java_script_enabled=False)
        try:
            plain = await plain_context.new_page()
            await sign_in(plain, server.url)
            await plain.goto(f"{server.url}/settings/due-day")
            await plain.get_by_label(re.compile("毎月末日")).check()
            await plain.get_by_role("button", name="この返済日に変更する").click()
            assert "毎月末日" in await plain.get_by_test_id("settings-done").inner_text()
            await plain.goto(f"{server.url}/settings")
            assert await plain.get_by_test_id("setting-due-day").get_attribute("data-value") == "end"
        finally:
            await plain_context.close()
    finally:
        await sign_in(page, server.url)
        await page.goto(f"{server.url}/settings/due-day")
        if await page.get_by_label(re.compile("毎月5日")).count():
            await page.get_by_label(re.compile("毎月5日")).check()
            await page.get_by_role("button", name="この返済日に変更する").click()
            await page.get_by_test_id("settings-done").wait_for()
