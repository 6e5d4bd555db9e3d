"""The shell every member sees: Japanese pages on a phone, installable, accessible, offline, light."""

from __future__ import annotations

import pytest
from axe_playwright_python.async_playwright import Axe

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS, PHONE, running_server, screenshot

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

AXE_OPTIONS = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}}


async def test_sign_in_page_renders_in_japanese_at_phone_size(server, page):
    await page.goto(f"{server.url}/login")
    assert await page.evaluate("document.documentElement.lang") == "ja"
    assert "ログイン" in await page.title()
    await page.get_by_label("カード番号").wait_for()
    assert await page.get_by_label("暗証番号（4桁）").get_attribute("inputmode") == "numeric"
    assert await page.evaluate("document.documentElement.scrollWidth") <= 390, "no sideways scrolling"
    await screenshot(page, "login-card")
    assert page.console_errors == [], "no CSP violations or script errors"


async def test_tabs_navigate_with_htmx_and_without_javascript(server, page, browser):
    await page.goto(f"{server.url}/login")
    await page.evaluate("window.__sameDocument = true")
    async with page.expect_request(lambda r: r.url.endswith("/login?tab=id")) as info:
        await page.get_by_role("link", name="ログインID", exact=True).click()
    assert (await info.value).headers.get("hx-request") == "true", "htmx boosted the link"
    await page.get_by_label("パスワード").wait_for()
    assert page.url.endswith("/login?tab=id")
    assert await page.evaluate("window.__sameDocument === true"), "no full reload"
    await screenshot(page, "login-id")

    no_js = await browser.new_context(**PHONE, java_script_enabled=False)
    try:
        plain = await no_js.new_page()
        await plain.goto(f"{server.url}/login")
        await plain.get_by_role("link", name="ログインID", exact=True).click()
        await plain.get_by_label("パスワード").wait_for()
        assert plain.url.endswith("/login?tab=id")
    finally:
        await no_js.close()


@pytest.mark.parametrize("path", ["/login", "/login?tab=id", "/offline", "/no-such-page"])
async def test_public_pages_have_no_accessibility_violations(server, page, path):
    await page.goto(f"{server.url}{path}")
    results = await Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()


async def test_dark_mode_keeps_contrast(server, browser):
    dark = await browser.new_context(**PHONE, color_scheme="dark")
    try:
        page = await dark.new_page()
        await page.goto(f"{server.url}/login?tab=id")
        results = await Axe().run(page, options=AXE_OPTIONS)
        assert results.violations_count == 0, results.generate_report()
        await screenshot(page, "login-id-dark")
    finally:
        await dark.close()


async def test_first_load_stays_within_the_budget(server, browser):
    ctx = await browser.new_context(**PHONE)
    try:
        page = await ctx.new_page()
        cdp = await ctx.new_cdp_session(page)
        await cdp.send("Network.enable")
        await cdp.send("Network.setCacheDisabled", {"cacheDisabled": True})
        sizes: dict[str, int] = {}
        urls: dict[str, str] = {}
        cdp.on("Network.requestWillBeSent", lambda e: urls.__setitem__(e["requestId"], e["request"]["url"]))
        cdp.on("Network.loadingFinished", lambda e: sizes.__setitem__(e["requestId"], e["encodedDataLength"]))
        await page.goto(f"{server.url}/login", wait_until="networkidle")
        total = sum(sizes.values())
        scripts = sum(size for rid, size in sizes.items() if urls.get(rid, "").split("?")[0].endswith(".js"))
        assert len(sizes) <= 10, sorted(urls.values())
        assert total <= 100_000, f"{total} bytes"
        assert scripts <= 25_000, f"{scripts} bytes of JavaScript"
        assert not any("font" in url for url in urls.values()), "no web fonts"
    finally:
        await ctx.close()


async def test_app_is_installable(server, playwright, tmp_path):
    ctx = await playwright.chromium.launch_persistent_context(
        str(tmp_path / "profile"), executable_path=CHROMIUM, args=CHROMIUM_ARGS, **PHONE
    )
    try:
        page = ctx.pages[0] if ctx.pages else await ctx.new_page()
        await page.goto(f"{server.url}/login")
        cdp = await ctx.new_cdp_session(page)
        manifest = await cdp.send("Page.getAppManifest")
        assert manifest["errors"] == [], manifest["errors"]
        installability = await cdp.send("Page.getInstallabilityErrors")
        assert installability["installabilityErrors"] == []
        assert (await cdp.send("Page.getAppId"))["appId"].endswith("/")
    finally:
        await ctx.close()


async def test_service_worker_serves_the_offline_page_when_the_server_is_down(browser, tmp_path):
    with running_server(tmp_path / "offline", demo=False) as server:
        ctx = await browser.new_context(**PHONE)
        try:
            page = await ctx.new_page()
            await page.goto(f"{server.url}/login")
            await page.evaluate("navigator.serviceWorker.ready.then(() => true)")
            await page.reload()
            assert await page.evaluate("navigator.serviceWorker.controller !== null")
            cached = await page.evaluate("caches.keys().then(keys => Promise.all(keys.map(k => caches.open(k).then(c => c.keys())))).then(all => all.flat().map(r => new URL(r.url).pathname))")
            assert "/offline" in cached and not any(path.startswith(("/home", "/history")) for path in cached)
            server.stop()
            await page.goto(f"{server.url}/home")
            await page.get_by_role("heading", name="インターネットに接続されていません").wait_for()
            await screenshot(page, "offline")
        finally:
            await ctx.close()
