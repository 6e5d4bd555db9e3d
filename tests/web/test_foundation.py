"""The HTTP surface every page relies on: full page vs partial, headers, CSRF, sessions, PWA files."""

from __future__ import annotations

import json
import re
from datetime import timedelta

from litestar import get, post

from tests.conftest import csrf_token, make_member, sign_in
from web.clock import Clock

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}


def test_login_page_is_a_full_japanese_page(client):
    response = client.get("/login")
    assert response.status_code == 200
    assert response.text.startswith("<!doctype html>")
    assert '<html lang="ja">' in response.text
    assert "カード番号" in response.text and "暗証番号" in response.text
    assert "HX-Request" in response.headers["vary"]


def test_targeted_htmx_request_gets_only_the_fragment(client):
    response = client.get("/login?tab=id", headers=HTMX)
    assert response.status_code == 200
    assert "<html" not in response.text and "<head" not in response.text
    assert 'id="id-form"' in response.text
    assert "HX-Request" in response.headers["vary"]


def test_boosted_navigation_and_history_restore_get_the_full_page(client):
    for extra in ({"HX-Boosted": "true"}, {"HX-History-Restore-Request": "true"}, {"HX-Request-Type": "full"}):
        response = client.get("/login", headers={"HX-Request": "true", **extra})
        assert response.text.startswith("<!doctype html>"), extra


def _assert_security_headers(response):
    csp = response.headers["content-security-policy"]
    assert re.search(r"script-src 'self' 'nonce-[A-Za-z0-9_-]{16,}'", csp)
    for directive in ("object-src 'none'", "base-uri 'none'", "frame-ancestors 'none'"):
        assert directive in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"]


@post("/_test/change", opt={"maintenance": "exempt"})
async def change() -> str:
    return "changed"


def test_security_headers_on_every_status(app, client):
    @get("/_test/boom", opt={"maintenance": "exempt"})
    async def boom() -> None:
        raise RuntimeError("secret internal detail")

    app.register(boom)
    app.register(change)
    responses = {
        200: client.get("/login"),
        403: client.post("/_test/change", data={"x": "1"}),
        404: client.get("/no-such-page"),
        500: client.get("/_test/boom"),
    }
    for status, response in responses.items():
        assert response.status_code == status
        _assert_security_headers(response)
        assert "Traceback" not in response.text and "secret internal detail" not in response.text
    assert "ページが見つかりません" in responses[404].text
    assert "時間をおいてから" in responses[500].text
    nonces = {r.headers["content-security-policy"] for r in responses.values()}
    assert len(nonces) == len(responses), "the nonce differs per response"


def test_nonce_in_page_matches_header(client):
    response = client.get("/login")
    csp = response.headers["content-security-policy"]
    nonce = re.search(r"'nonce-([^']+)'", csp).group(1)
    scripts = re.findall(r"<script\b[^>]*>", response.text)
    # htmx, app.js and (on the sign-in page) passkey.js: each one carries this response's nonce and a src
    assert len(scripts) == 3, scripts
    for tag in scripts:
        assert f' nonce="{nonce}"' in tag and re.search(r'\bsrc="/static/', tag), tag
    assert response.text.count("nonce=") == len(scripts), "a nonce only on the scripts"
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    assert "<style" not in response.text and " style=" not in response.text
    assert re.search(r"<script(?![^>]*\bsrc=)", response.text) is None, "no inline scripts"


def test_hsts_only_in_prod(settings):
    from litestar.testing import TestClient

    from web.app import create_app

    prod = settings.replace(env="prod", secret_key="p" * 40, public_origin="https://testserver.local")
    with TestClient(create_app(prod), base_url="https://testserver.local") as client:
        response = client.get("/login")
        assert "max-age=31536000" in response.headers["strict-transport-security"]
        cookie = response.headers["set-cookie"]
        assert "__Host-csrftoken=" in cookie and "Secure" in cookie
    with TestClient(create_app(settings), base_url="http://testserver.local") as client:
        assert "strict-transport-security" not in client.get("/login").headers


def test_bad_host_is_refused(client):
    response = client.get("/login", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert "ホスト名" in response.text
    _assert_security_headers(response)


def test_state_change_without_csrf_token_is_refused(app, client):
    app.register(change)
    response = client.post("/_test/change", data={"x": "1"})
    assert response.status_code == 403
    assert "ページを読み込み直して" in response.text
    token = csrf_token(client)
    assert client.post("/_test/change", data={"_csrf_token": token}).status_code == 201
    assert client.post("/_test/change", headers={"x-csrftoken": token}).status_code == 201


def test_tampered_foreign_or_cookie_only_csrf_token_is_refused(client, app):
    app.register(change)
    token = csrf_token(client)
    tampered = token[:-4] + ("0000" if not token.endswith("0000") else "1111")
    assert client.post("/_test/change", data={"_csrf_token": tampered}).status_code == 403
    assert client.post("/_test/change", data={"x": "cookie only"}).status_code == 403
    from litestar.testing import TestClient

    with TestClient(app, base_url="http://testserver.local") as other:
        foreign = csrf_token(other)
    assert client.post("/_test/change", data={"_csrf_token": foreign}).status_code == 403


def test_cross_site_post_is_refused_even_with_a_token(app, client):
    app.register(change)
    token = csrf_token(client)
    assert client.post("/_test/change", data={"_csrf_token": token}, headers={"Origin": "http://testserver.local"}).status_code == 201
    for headers in ({"Origin": "https://evil.example"}, {"Sec-Fetch-Site": "cross-site"}, {"Origin": "null"}):
        response = client.post("/_test/change", data={"_csrf_token": token}, headers=headers)
        assert response.status_code == 403, headers


def test_member_pages_need_a_session(client):
    response = client.get("/home", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")
    response = client.get("/home", headers=HTMX, follow_redirects=False)
    assert response.headers["hx-redirect"].startswith("/login")


def _set_session_cookie(client, value):
    client.cookies.delete("kaiin")
    client.cookies.set("kaiin", value, domain="testserver.local")


def test_session_id_changes_at_sign_in_and_the_old_one_dies(client, settings):
    member_id = make_member(settings)
    _set_session_cookie(client, "attacker-chosen-id")
    sign_in(client, member_id)
    first = client.cookies.get("kaiin")
    assert first and first != "attacker-chosen-id"
    assert client.get("/home").status_code == 200
    sign_in(client, member_id)
    second = client.cookies.get("kaiin")
    assert second != first
    _set_session_cookie(client, first)
    assert client.get("/home", follow_redirects=False).status_code == 303, "the pre-login id is dead"
    _set_session_cookie(client, "attacker-chosen-id")
    assert client.get("/home", follow_redirects=False).status_code == 303, "the attacker's id holds nothing"


def test_unknown_session_id_is_not_adopted(client):
    _set_session_cookie(client, "f" * 64)
    response = client.get("/login")
    assert "kaiin=f" not in response.headers.get("set-cookie", "")


def test_anonymous_visits_store_no_session(client, settings):
    client.get("/login")
    assert "kaiin" not in client.cookies
    sessions = settings.data_path / "sessions"
    assert not sessions.exists() or not any(sessions.iterdir())


def test_signed_in_pages_are_not_stored_by_caches(client, settings):
    sign_in(client, make_member(settings))
    response = client.get("/home")
    assert response.status_code == 200
    assert "no-store" in response.headers["cache-control"] and "private" in response.headers["cache-control"]
    assert "山田 太郎" in response.text
    for label in ("ホーム", "借入", "返済", "履歴", "設定"):
        assert f"<span>{label}</span>" in response.text


def test_idle_and_absolute_timeouts_are_enforced_on_the_server(app, client, settings):
    member_id = make_member(settings)
    start = app.state.clock.now()

    def at(moment):
        app.state.clock = Clock(moment.isoformat())

    at(start)
    sign_in(client, member_id)
    at(start + timedelta(minutes=14))
    assert client.get("/home").status_code == 200, "activity slides the idle timeout"
    at(start + timedelta(minutes=14 + 16))
    response = client.get("/home", follow_redirects=False)
    assert response.status_code == 303 and "expired=1" in response.headers["location"]
    assert client.get("/home", follow_redirects=False).status_code == 303

    at(start)
    sign_in(client, member_id)
    moment = start
    while moment <= start + timedelta(hours=8):
        moment += timedelta(minutes=10)
        at(moment)
        response = client.get("/home", follow_redirects=False)
    assert response.status_code == 303, "the absolute timeout ends even an active session"


def test_health_checks_the_database(client):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_manifest_makes_the_app_installable(client):
    response = client.get("/manifest.webmanifest")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/manifest+json")
    manifest = json.loads(response.text)
    for key in ("id", "name", "short_name", "start_url", "scope", "theme_color", "background_color"):
        assert manifest[key]
    assert manifest["lang"] == "ja" and manifest["display"] == "standalone"
    purposes = {(icon["sizes"], icon["purpose"]) for icon in manifest["icons"]}
    assert {("192x192", "any"), ("512x512", "any"), ("512x512", "maskable")} <= purposes
    assert manifest["screenshots"][0]["form_factor"] == "narrow"
    for url in [icon["src"] for icon in manifest["icons"]] + [manifest["screenshots"][0]["src"]]:
        assert client.get(url).status_code == 200


def test_service_worker_precaches_hashed_assets_and_offline_only(client):
    response = client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/javascript")
    assert response.headers["service-worker-allowed"] == "/"
    precache = json.loads(re.search(r"const PRECACHE = (\[.*?\]);", response.text).group(1))
    assert "/offline" in precache
    assert all(url.startswith("/static/") and "?v=" in url for url in precache if url != "/offline")
    assert "/home" not in precache and "/history" not in precache
    for url in precache:
        assert client.get(url).status_code == 200


def test_static_assets_are_immutable(client):
    page = client.get("/login").text
    css = re.search(r'href="(/static/app\.css\?v=[0-9a-f]+)"', page).group(1)
    response = client.get(css)
    assert response.status_code == 200
    assert "immutable" in response.headers["cache-control"] and "max-age=31536000" in response.headers["cache-control"]
    assert "set-cookie" not in response.headers


def test_offline_page_holds_no_member_data(client, settings):
    sign_in(client, make_member(settings))
    response = client.get("/offline")
    assert response.status_code == 200
    assert "インターネットに接続されていません" in response.text
    assert "山田" not in response.text


def test_static_files_are_compressed_and_pages_are_not(client):
    page = client.get("/login", headers={"Accept-Encoding": "gzip"})
    assert "content-encoding" not in page.headers, "no compression next to the CSRF token (BREACH)"
    htmx = re.search(r'src="(/static/htmx-[^"]+)"', page.text).group(1)
    response = client.get(htmx, headers={"Accept-Encoding": "gzip"})
    assert response.headers["content-encoding"] == "gzip"


def test_sessions_live_in_redis_when_configured(settings):
    import redis
    from litestar.stores.redis import RedisStore
    from litestar.testing import TestClient

    from web.app import create_app

    try:
        redis.Redis.from_url("redis://127.0.0.1:6379/0").ping()
    except redis.ConnectionError:
        import pytest

        pytest.skip("no Redis at 127.0.0.1:6379")
    app = create_app(settings.replace(redis_url="redis://127.0.0.1:6379/0"))
    assert isinstance(app.stores.get("sessions"), RedisStore)
    with TestClient(app, base_url="http://testserver.local") as client:
        from tests.conftest import _test_login

        app.register(_test_login)
        sign_in(client, make_member(settings))
        sid = client.cookies.get("kaiin")
        assert redis.Redis.from_url("redis://127.0.0.1:6379/0").keys(f"*{sid}*"), "the session is in Redis"
        assert client.get("/home").status_code == 200


def test_an_unchanged_session_is_not_written_again(app, client, settings):
    """Most requests change nothing in the session: the store is written only when the idle clock moves by
    ``session_seen_refresh_seconds`` (and the idle timeout still slides)."""
    member_id = make_member(settings)
    start = app.state.clock.now()
    app.state.clock = Clock(start.isoformat())
    sign_in(client, member_id)
    stored = next((settings.data_path / "sessions").iterdir())
    written = stored.stat().st_mtime_ns
    for seconds in (1, settings.session_seen_refresh_seconds - 1):
        app.state.clock = Clock((start + timedelta(seconds=seconds)).isoformat())
        assert client.get("/home").status_code == 200
        assert stored.stat().st_mtime_ns == written, "nothing changed, nothing written"
    app.state.clock = Clock((start + timedelta(seconds=settings.session_seen_refresh_seconds)).isoformat())
    assert client.get("/home").status_code == 200
    assert stored.stat().st_mtime_ns != written, "the idle clock moved"
