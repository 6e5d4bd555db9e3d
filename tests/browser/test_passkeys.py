"""Passkeys in Chromium with the CDP virtual authenticator (security.md §5), at a phone viewport.

The server is a real ``kaiin serve`` on http://localhost:PORT (a secure context, RP ID ``localhost``).
"""

from __future__ import annotations

import base64
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from axe_playwright_python.async_playwright import Axe

from tests.browser.conftest import ARTIFACTS, running_server, screenshot
from tests.browser.test_shell import AXE_OPTIONS
from tests.passkey_seed import cdp_credential, seed_passkey
from tests.soft_authenticator import SoftAuthenticator

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

AUTHENTICATOR = {
    "protocol": "ctap2", "ctap2Version": "ctap2_1", "transport": "internal", "hasResidentKey": True,
    "hasUserVerification": True, "isUserVerified": True, "automaticPresenceSimulation": True,
    "defaultBackupEligibility": True, "defaultBackupState": True,
}
LOGIN_STATUS = '[data-testid="passkey-status"]'


@pytest.fixture(scope="module")
def pk_server(tmp_path_factory):
    """A server of our own: these tests add and remove passkeys, which other tests should not see."""
    with running_server(tmp_path_factory.mktemp("passkeys")) as running:
        yield running


class Authenticator:
    def __init__(self, cdp, authenticator_id: str) -> None:
        self.cdp, self.id = cdp, authenticator_id

    async def credentials(self) -> list[dict]:
        return (await self.cdp.send("WebAuthn.getCredentials", {"authenticatorId": self.id}))["credentials"]

    async def set(self, method: str, **params) -> None:
        await self.cdp.send(f"WebAuthn.{method}", {"authenticatorId": self.id, **params})


@pytest_asyncio.fixture(loop_scope="session")
async def authenticator(page, context):
    cdp = await context.new_cdp_session(page)
    await cdp.send("WebAuthn.enable", {"enableUI": False})
    created = await cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    return Authenticator(cdp, created["authenticatorId"])


def finish(r) -> bool:
    """The request or response that finishes a passkey sign-in (``POST /passkeys/login[?next=…]``)."""
    return urlsplit(r.url).path == "/passkeys/login"


def db(server) -> sqlite3.Connection:
    return sqlite3.connect(Path(server.folder) / "kaiin.sqlite3", timeout=30)


@pytest_asyncio.fixture(loop_scope="session")
async def seeded(pk_server, authenticator) -> dict:
    credential = SoftAuthenticator(origin=pk_server.url).new_credential("localhost")
    seed_passkey(Path(pk_server.folder) / "kaiin.sqlite3", credential, card_number="1234567890")
    await authenticator.set("addCredential", credential=cdp_credential(credential))
    return cdp_credential(credential)


async def sign_in_is_refused(page, server) -> None:
    """The button sign-in gets a 4xx from the server, the page says so and stays on /login."""
    await page.goto(f"{server.url}/login")
    async with page.expect_response(lambda r: finish(r)) as finished:
        await page.get_by_role("button", name="パスキーでログイン").click()
    assert (await finished.value).status == 401
    await page.locator(LOGIN_STATUS).filter(has_text="確認できませんでした").wait_for()
    assert page.url.endswith("/login")


async def test_sign_in_by_button(pk_server, page, seeded):
    await page.goto(f"{pk_server.url}/login")
    button = page.get_by_role("button", name="パスキーでログイン")
    await button.wait_for()
    await screenshot(page, "passkey-login")
    async with page.expect_response(lambda r: finish(r)) as finished:
        await button.click()
    assert (await finished.value).status == 200
    await page.wait_for_url("**/home")
    assert page.console_errors == []


async def test_sign_in_by_autofill(pk_server, page, seeded):
    # The virtual authenticator answers a conditional (autofill) request at once, as a member picking it would.
    async with page.expect_request(lambda r: finish(r) and r.method == "POST") as sent:
        await page.goto(f"{pk_server.url}/login?tab=id")
    assert (await sent.value).post_data_json["response"]["userHandle"]
    await page.wait_for_url("**/home")
    assert page.console_errors == []


async def test_no_matching_passkey_or_cancel_says_so_and_does_not_hang(pk_server, page, authenticator):
    await page.goto(f"{pk_server.url}/login")
    await page.get_by_role("button", name="パスキーでログイン").click()
    status = page.locator(LOGIN_STATUS)
    await status.filter(has_text="見つかりませんでした").wait_for(timeout=15000)
    assert "キャンセル" in await status.inner_text()
    assert await page.get_by_role("button", name="パスキーでログイン").is_enabled()
    await screenshot(page, "passkey-login-none")


async def test_user_verification_missing_is_refused(pk_server, page, seeded, authenticator):
    await authenticator.set("setResponseOverrideBits", isBadUV=True)
    await sign_in_is_refused(page, pk_server)


async def test_bogus_signature_gets_a_4xx(pk_server, page, seeded, authenticator):
    await authenticator.set("setResponseOverrideBits", isBogusSignature=True)
    await sign_in_is_refused(page, pk_server)
    await screenshot(page, "passkey-login-refused")


async def test_a_replayed_assertion_is_refused(pk_server, page, seeded, context):
    await page.goto(f"{pk_server.url}/login")
    async with page.expect_request(lambda r: finish(r) and r.method == "POST") as sent:
        await page.get_by_role("button", name="パスキーでログイン").click()
    captured = (await sent.value).post_data
    await page.wait_for_url("**/home")
    await context.clear_cookies()
    await page.goto(f"{pk_server.url}/login")
    status = await page.evaluate("""async (body) => {
        const token = JSON.parse(document.body.getAttribute("hx-headers:inherited"))["x-csrftoken"];
        const headers = {"content-type": "application/json", "x-csrftoken": token};
        await fetch("/passkeys/login/options", {method: "POST", headers, body: "{}"});
        const answer = await fetch("/passkeys/login", {method: "POST", headers, body});
        return answer.status;
    }""", captured)
    assert status == 401
    assert (await page.goto(f"{pk_server.url}/home")).url.endswith("/login?next=/home") or page.url.endswith("/login?next=%2Fhome")


async def test_a_removed_passkey_is_refused(pk_server, page, seeded):
    with db(pk_server) as conn:
        conn.execute("DELETE FROM passkey WHERE credential_id = ?",
                     (base64.urlsafe_b64encode(base64.b64decode(seeded["credentialId"])).rstrip(b"=").decode(),))
    await sign_in_is_refused(page, pk_server)


async def test_a_browser_without_passkeys_gets_a_clear_message(pk_server, page):
    await page.add_init_script("delete window.PublicKeyCredential;")
    await page.goto(f"{pk_server.url}/login")
    await page.get_by_role("button", name="パスキーでログイン").click()
    await page.locator(LOGIN_STATUS).filter(has_text="対応していません").wait_for()
    assert page.console_errors == []


async def test_register_a_passkey_then_sign_in_with_it(pk_server, page, context, seeded, authenticator):
    # Signed in with an earlier passkey (so stepped up), on a phone whose authenticator is then replaced.
    await page.goto(f"{pk_server.url}/login")
    await page.get_by_role("button", name="パスキーでログイン").click()
    await page.wait_for_url("**/home")
    await authenticator.set("removeVirtualAuthenticator")
    created = await authenticator.cdp.send("WebAuthn.addVirtualAuthenticator", {"options": AUTHENTICATOR})
    phone = Authenticator(authenticator.cdp, created["authenticatorId"])

    await page.goto(f"{pk_server.url}/settings/passkeys")
    await page.get_by_label("名前（省略すると").fill("私のスマホ")
    await screenshot(page, "passkey-settings-before")
    await page.get_by_role("button", name="この端末にパスキーを追加").click()
    await page.wait_for_url("**/settings/passkeys?done=added")
    await page.get_by_text("パスキーを追加しました").wait_for()
    names = await page.get_by_test_id("passkey-name").all_inner_texts()
    assert "私のスマホ" in names
    stored = await phone.credentials()
    assert len(stored) == 1 and stored[0]["isResidentCredential"] and stored[0]["rpId"] == "localhost"
    await screenshot(page, "passkey-settings-added")

    # The same authenticator again: excludeCredentials makes the browser refuse, and the page says why.
    await page.get_by_role("button", name="この端末にパスキーを追加").click()
    await page.locator('#passkey-register [data-passkey-status]').filter(has_text="すでに登録されています").wait_for()
    assert len(await phone.credentials()) == 1

    await context.clear_cookies()
    await page.goto(f"{pk_server.url}/login")
    await page.get_by_role("button", name="パスキーでログイン").click()
    await page.wait_for_url("**/home")
    assert page.console_errors == []


async def test_locked_pin_passkey_sign_in_then_a_new_pin(pk_server, page, context, seeded):
    async def card_sign_in(pin: str) -> None:
        await page.goto(f"{pk_server.url}/login")
        await page.get_by_label("カード番号").fill("1234567890")
        await page.get_by_label("暗証番号（4桁）").fill(pin)
        # Wait for htmx to swap the answer in: a click on the old page while the form is still in flight races
        # with the swap (and the server-side session the card answer writes back).
        async with page.expect_response(lambda r: urlsplit(r.url).path == "/login/card") as answered:
            await page.get_by_role("button", name="ログイン", exact=True).click()
        if (await answered.value).status == 401:
            await page.get_by_role("alert").filter(has_text="3回続けて間違えると").wait_for()
        else:
            await page.wait_for_url("**/home")

    for pin in ("0000", "1111", "2222"):
        await card_sign_in(pin)
    await card_sign_in("1234")
    assert "/home" not in page.url  # the PIN is locked
    started: list[str] = []
    page.on("request", lambda r: started.append(r.url) if urlsplit(r.url).path == "/passkeys/login/options" else None)
    await page.get_by_role("button", name="パスキーでログイン").click()
    await page.wait_for_url("**/home")
    assert len(started) == 1, "the page swapped in by htmx wires its button once: one tap, one sign-in"
    page.console_errors.clear()  # the refused card sign-ins above were 401 pages, as designed
    await page.goto(f"{pk_server.url}/settings")
    await page.get_by_test_id("setting-passkeys").wait_for()
    await screenshot(page, "passkey-settings-hub")
    await page.goto(f"{pk_server.url}/settings/pin")
    await page.get_by_label("新しい暗証番号").fill("9876")
    await page.get_by_label("もう一度入力").fill("9876")
    await page.get_by_role("button", name="この暗証番号にする").click()
    await page.get_by_test_id("pin-done").wait_for()
    await screenshot(page, "passkey-new-pin")
    await context.clear_cookies()
    await card_sign_in("9876")
    await page.wait_for_url("**/home")
    assert page.console_errors == []


async def test_cancelling_the_prompt_says_so_and_sends_nothing(pk_server, page, seeded, authenticator):
    # The member fails or dismisses the face/fingerprint prompt: the browser rejects (NotAllowedError), as on cancel.
    await authenticator.set("setUserVerified", isUserVerified=False)
    finishing: list[str] = []
    page.on("request", lambda r: finishing.append(r.url) if finish(r) else None)
    await page.goto(f"{pk_server.url}/login")
    await page.get_by_role("button", name="パスキーでログイン").click()
    await page.locator(LOGIN_STATUS).filter(has_text="キャンセルされた").wait_for(timeout=15000)
    assert finishing == [] and page.url.endswith("/login")
    assert await page.get_by_role("button", name="パスキーでログイン").is_enabled()


async def test_passkey_script_comes_with_boosted_navigation_only_where_needed(pk_server, page, seeded):
    scripts: list[str] = []
    page.on("request", lambda r: scripts.append(urlsplit(r.url).path) if "passkey.js" in r.url else None)
    await page.goto(f"{pk_server.url}/login")
    await page.get_by_role("button", name="パスキーでログイン").click()
    await page.wait_for_url("**/home")
    await page.evaluate("window.__sameDocument = true")
    await page.get_by_role("link", name="設定").click()
    await page.wait_for_url("**/settings")
    await page.locator('a[href="/settings/passkeys"]').first.click()
    await page.wait_for_url("**/settings/passkeys")
    # passkey.js ran in this document (it was not in /home's): the add button it reveals is there
    await page.get_by_role("button", name="この端末にパスキーを追加").wait_for()
    assert await page.evaluate("window.__sameDocument === true"), "boosted, no full reload"
    assert await page.evaluate("typeof window.kaiinPasskey.init") == "function"
    await page.screenshot(path=ARTIFACTS / "passkey-settings-phone.png")  # what the phone shows, 390x844
    results = await Axe().run(page, options=AXE_OPTIONS)
    assert results.violations_count == 0, results.generate_report()
    await page.get_by_role("button", name="ログアウト").click()
    await page.get_by_role("button", name="パスキーでログイン").wait_for()
    await page.screenshot(path=ARTIFACTS / "passkey-login-phone.png")
    assert page.console_errors == []
    page_loads = len(scripts)
    await page.goto(f"{pk_server.url}/offline")
    assert len(scripts) == page_loads, "pages without passkeys do not load it"
