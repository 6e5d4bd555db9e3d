"""Sign-in, lockout, throttle, logout and sessions over HTTP (security.md §7 items 3, 7, 9, 11–23, 25–26)."""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone

import pytest
from litestar.testing import TestClient

from db.tables import AuditEvent, Credential
from tests.auth_helpers import run
from tests.conftest import csrf_token, make_member, sign_in
LOCK_RULE = "3回続けて間違えるとロックされます"


def post(client: TestClient, path: str, data: dict, **headers):
    return client.post(path, data={**data, "_csrf_token": csrf_token(client)}, headers=headers)


def card(client, card_number="1234567890", pin="1234", **headers):
    return post(client, "/login/card", {"card_number": card_number, "pin": pin}, **headers)


def login_id(client, ident="taro2024", password="correct-horse", **headers):
    return post(client, "/login/id", {"login_id": ident, "password": password}, **headers)


def session_cookie(client) -> str | None:
    return client.cookies.get("kaiin")


def test_sign_in_with_card_goes_home_with_a_new_session(settings, client):
    make_member(settings)
    client.cookies.set("kaiin", "attacker-chosen-id", domain="testserver.local")  # item 17: fixation
    response = card(client)
    assert response.status_code == 200 and response.url.path == "/home"
    sid = session_cookie(client)
    assert sid and sid != "attacker-chosen-id"
    assert client.get("/home").status_code == 200


@pytest.mark.parametrize(
    ("card_number", "pin"),
    [
        ("１２３４５６７８９０", "１２３４"),  # item 11: full-width works
        ("1234-5678-90", "1234"),
        ("1234\u22125678\u221290", "1234"),
        ("1234ー5678ー90", "1234"),
    ],
)
def test_card_sign_in_accepts_what_phones_type(settings, client, card_number, pin):
    make_member(settings)
    assert card(client, card_number, pin).url.path == "/home"


def test_sign_in_with_web_id_or_card_number_and_password(settings, client, app):
    make_member(settings)
    assert login_id(client, "ｔａｒｏ２０２４", "correct-horse").url.path == "/home"
    with TestClient(app, base_url="http://testserver.local") as other:
        assert login_id(other, "1234567890", "ｃｏｒｒｅｃｔ－ｈｏｒｓｅ").url.path == "/home"


def test_sign_in_returns_to_the_page_asked_for_but_never_off_site(settings, client):
    make_member(settings)
    response = client.post("/login/card", data={"card_number": "1234567890", "pin": "1234", "next": "//evil.example/",
                                                "_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/home"


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"card_number": "١٢٣٤٥٦٧٨٩٠", "pin": "1234"}, "カード番号は10桁、15桁または16桁"),  # item 12
        ({"card_number": "1234567890", "pin": "١٢٣٤"}, "暗証番号は4桁の数字"),
        ({"card_number": "1234567890", "pin": "1234\u200b"}, "使えない文字"),  # item 13
        ({"card_number": "1234567890", "pin": "12\x0034"}, "使えない文字"),
        ({"card_number": "1234567890", "pin": "1" * 10240}, "暗証番号は4桁の数字"),
        ({"card_number": "1234567890", "pin": "1e3"}, "暗証番号は4桁の数字"),
        ({"card_number": "1234567890", "pin": "-123"}, "暗証番号は4桁の数字"),
        ({"card_number": "123456789", "pin": "1234"}, "カード番号は10桁"),  # item 14
        ({"card_number": "", "pin": "1234"}, "カード番号を入力してください"),
    ],
)
def test_bad_card_input_gets_a_clear_message_and_changes_nothing(settings, client, data, message):
    member_id = make_member(settings)
    response = post(client, "/login/card", data)
    assert response.status_code == 422
    assert message in response.text
    assert "1" * 100 not in response.text, "a 10 KB paste is not echoed"
    row = run(Credential.select(Credential.failed_count).where(Credential.member == member_id).first())
    assert row["failed_count"] == 0


@pytest.mark.parametrize(
    ("ident", "password", "message"),
    [
        ("abc1234", "correct-horse", "ログインIDは8〜32文字"),  # item 15: 7 characters
        ("a" * 33, "correct-horse", "ログインIDは8〜32文字"),
        ("tаro2024", "correct-horse", "ログインIDは8〜32文字"),  # Cyrillic а
        ("taro2024", "short", "パスワードは8〜64文字"),
        ("taro2024", "x" * 65, "パスワードは8〜64文字"),  # item 16: refused, never truncated
    ],
)
def test_bad_id_input_gets_a_clear_message(settings, client, ident, password, message):
    make_member(settings)
    response = login_id(client, ident, password)
    assert response.status_code == 422 and message in response.text


def test_password_differing_only_at_the_end_fails(settings, client):
    make_member(settings, password="p" * 63 + "a")
    assert login_id(client, "taro2024", "p" * 63 + "b").status_code == 401
    assert login_id(client, "taro2024", "p" * 63 + "a").url.path == "/home"


def test_failure_page_states_the_rule_and_the_ways_out(settings, client):
    make_member(settings)
    response = card(client, pin="9999")
    assert response.status_code == 401
    assert LOCK_RULE in response.text
    for way_out in ("ログインID・パスワードをお忘れの方", "暗証番号は再発行", "パスキー"):
        assert way_out in response.text
    assert 'value="1234567890"' in response.text, "the card number stays filled in"
    assert 'name="pin" value' not in response.text, "the PIN is never echoed"


def _normalise(response) -> tuple:
    """Status, body and headers without the parts that differ per response or per client by design:
    the CSP nonce and the client's own CSRF token."""
    body = re.sub(r'nonce="[^"]+"', 'nonce=""', response.text)
    body = re.sub(r"[0-9a-f]{64,}", "TOKEN", body)
    headers = {k: v for k, v in response.headers.items() if k not in ("content-security-policy", "date", "server-timing")}
    return response.status_code, body, headers


def test_unknown_wrong_locked_and_suspended_look_identical(settings, app):
    """Item 9: same status, body, headers and cookies; latency within a tolerance."""
    make_member(settings)
    make_member(settings, card_number="2222333344", web_id="jiro20240", email="jiro@example.jp", status="suspended")
    make_member(settings, card_number="5555666677", web_id="saburo2024", email="saburo@example.jp")
    with TestClient(app, base_url="http://testserver.local") as locker:
        for pin in ("0000", "1111", "2222"):
            card(locker, "5555666677", pin)
    cases = {
        "unknown": ("9999999999", "1234"),
        "wrong": ("1234567890", "9999"),
        "locked": ("5555666677", "1234"),  # the right PIN of a locked card
        "suspended-wrong": ("2222333344", "9999"),
    }
    seen, timings = {}, {name: [] for name in cases}
    for _ in range(5):
        for name, (number, pin) in cases.items():
            with TestClient(app, base_url="http://testserver.local") as fresh:
                token = csrf_token(fresh)
                started = time.perf_counter()
                response = fresh.post("/login/card", data={"card_number": number, "pin": pin, "_csrf_token": token})
                timings[name].append(time.perf_counter() - started)
                seen.setdefault(name, _normalise(response))
    reference = seen["wrong"]
    for name, observed in seen.items():
        assert observed[0] == reference[0] == 401, name
        assert observed[2] == reference[2], name
    bodies = {name: re.sub(r'value="[0-9]+"', 'value=""', o[1]) for name, o in seen.items()}
    assert len(set(bodies.values())) == 1, "only the echoed card number differs"
    # The fastest of five runs: load spikes on a shared machine only ever add time.
    fastest = {name: min(t) for name, t in timings.items()}
    spread = max(fastest.values()) - min(fastest.values())
    assert spread < 0.05 + 0.5 * fastest["wrong"], fastest


def test_suspended_member_is_told_only_with_the_right_pin(settings, client):
    make_member(settings, status="suspended")
    wrong = card(client, pin="9999")
    assert wrong.status_code == 401 and "停止" not in wrong.text
    right = card(client)
    assert right.status_code == 403 and "ご利用を停止" in right.text
    assert client.get("/home", follow_redirects=False).status_code in (302, 303, 307)


def test_locked_pin_right_pin_gets_the_wrong_pin_answer(settings, client):
    """Item 3 over HTTP: byte-identical apart from the CSP nonce."""
    make_member(settings)
    for pin in ("0000", "1111", "2222"):
        card(client, pin=pin)
    wrong = _normalise(card(client, pin="3333"))
    right = _normalise(card(client, pin="1234"))
    assert wrong == right
    assert client.get("/home", follow_redirects=False).status_code != 200


def test_borrowing_stopped_member_sees_status_after_sign_in(settings, client):
    make_member(settings, status="borrowing_stopped", status_reason="総量規制の上限に達しています")
    home = card(client)
    assert home.url.path == "/home"
    assert "総量規制の上限に達しています" in home.text
    assert 'data-testid="status" data-value="borrowing_stopped"' in home.text


# --- item 7: per-IP throttle ------------------------------------------------------------------


def test_per_ip_throttle_answers_429_with_retry_after(settings, client):
    make_member(settings)
    limit = settings.login_throttle_max
    for n in range(limit):
        assert card(client, pin=f"{n:04d}").status_code in (401, 422)
    over = card(client)  # even the right PIN is not looked at
    assert over.status_code == 429
    assert int(over.headers["retry-after"]) > 0
    assert "秒ほど待って" in over.text
    spoofed = card(client, **{"X-Forwarded-For": "203.0.113.99"})
    assert spoofed.status_code == 429, "a spoofed X-Forwarded-For does not reset the count"
    throttled = run(AuditEvent.count().where(AuditEvent.outcome == "ok"))
    assert throttled == 0


def test_successful_sign_ins_do_not_use_up_the_allowance(settings, app):
    make_member(settings)
    for _ in range(settings.login_throttle_max + 3):
        with TestClient(app, base_url="http://testserver.local") as fresh:
            assert card(fresh).url.path == "/home"


def test_forwarded_for_is_believed_only_from_a_trusted_proxy(settings):
    from web.app import create_app

    make_member(settings)
    proxied = settings.replace(trusted_proxies=("testclient", "127.0.0.1/32"), login_throttle_max=2)
    with TestClient(create_app(proxied), base_url="http://testserver.local") as client:
        client_ip = {"X-Forwarded-For": "198.51.100.1"}
        for pin in ("0000", "1111"):
            card(client, pin=pin, **client_ip)
        assert card(client, pin="2222", **client_ip).status_code == 429
        assert card(client, pin="2222", **{"X-Forwarded-For": "198.51.100.2"}).status_code == 401


# --- items 19, 22: logout and ending sessions -------------------------------------------------


def test_logout_deletes_the_session_and_clears_site_data(settings, client):
    make_member(settings)
    card(client)
    old = session_cookie(client)
    response = client.post("/logout", data={"_csrf_token": csrf_token(client)}, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["clear-site-data"] == '"cache", "cookies"'
    store = client.app.stores.get("sessions")
    assert run(store.get(old)) is None, "the server-side entry is gone"
    client.cookies.set("kaiin", old, domain="testserver.local")
    assert client.get("/home", follow_redirects=False).status_code in (302, 303)


def test_suspension_ends_every_session_at_once(settings, client):
    from db import auth
    from web.app import hasher

    member_id = make_member(settings)
    card(client)
    assert client.get("/home").status_code == 200
    member_no = run(auth.member_by_card("1234567890")).member_no
    ctx = auth.AuthContext(now=datetime.now(timezone.utc), policy=settings.auth_policy(), hasher=hasher(settings), code_key=b"k",
                           app_name="x", support_phone="0")
    run(auth.set_status(member_no, "suspended", "調査中", ctx=ctx, operator="t"))
    response = client.get("/home", follow_redirects=False)
    assert response.status_code in (302, 303) and member_id


def test_a_suspension_committed_while_a_request_arrives_refuses_that_request(settings, app, client):
    """Committed after the request began (here while its form body arrives, before CSRF and the guard have read
    it) and before the guard looks: the guard sees it. The member row is remembered per process on SQLite; it
    must never be the row of an earlier moment than the guard's own."""
    from db.tables import Member

    member_id = make_member(settings)
    sign_in(client, member_id)
    token = csrf_token(client)
    assert client.get("/home").status_code == 200  # the row is read (and remembered) before the suspension
    inner, suspended = app.asgi_handler, []

    async def body_after_a_suspension(scope, receive, send):
        async def receive_body():
            message = await receive()
            if message["type"] == "http.request" and not suspended:
                suspended.append(await Member.update({Member.status: "suspended"}).where(Member.id == member_id))
            return message
        await inner(scope, receive_body, send)

    app.asgi_handler = body_after_a_suspension
    response = client.post("/settings/password/strength", data={"_csrf_token": token, "new_password": "abc"},
                           follow_redirects=False)
    assert suspended and response.status_code in (302, 303, 401), response.status_code


# --- item 23/24/26: CSRF on every auth route --------------------------------------------------

AUTH_POSTS = ["/login/card", "/login/id", "/logout", "/recover", "/recover/code", "/recover/password",
              "/step-up/send", "/step-up/verify"]


@pytest.mark.parametrize("path", AUTH_POSTS)
def test_auth_posts_need_a_csrf_token(settings, client, app, path):
    sign_in(client, make_member(settings))  # so that member routes reach their checks
    token = csrf_token(client)
    assert client.post(path, data={}).status_code == 403, "no token"
    tampered = token[:-2] + ("00" if not token.endswith("00") else "11")  # a token may end in 00 (1 in 256)
    assert client.post(path, data={"_csrf_token": tampered}).status_code == 403, "tampered"
    with TestClient(app, base_url="http://testserver.local") as other:
        foreign = csrf_token(other)
    assert client.post(path, data={"_csrf_token": foreign}).status_code == 403, "another client's"
    assert client.post(path, data={"_csrf_token": token},
                       headers={"Sec-Fetch-Site": "cross-site"}).status_code == 403, "cross-site"
    assert client.post(path, data={"_csrf_token": token},
                       headers={"Origin": "https://evil.example"}).status_code == 403, "foreign origin"
    bare = TestClient(app, base_url="http://testserver.local")
    with bare:
        assert bare.post(path, headers={"x-csrftoken": token}).status_code == 403, "header only, no cookie"


def test_no_route_is_exempt_from_csrf(app):
    """Item 26: the only exemption is the test harness's own login helper."""
    exempt = [
        route.path for route in app.routes for handler in route.route_handlers
        if handler.opt.get("exclude_from_csrf")
    ]
    assert exempt == ["/_test/login/{member_id:int}"]


# --- item 8: lockout DoS drill ----------------------------------------------------------------


def test_one_address_cannot_lock_many_members_fast_and_is_recorded(settings, client):
    """A script walking sequential card numbers: the throttle stops it after a few locks, and says so."""
    cards = [f"{1000000000 + n:010d}" for n in range(10)]
    for n, number in enumerate(cards):
        make_member(settings, card_number=number, web_id=f"member{n:04d}", email=f"m{n}@example.jp")
    statuses = [card(client, number, f"{k:04d}").status_code for number in cards for k in range(3)]
    assert statuses.count(429) == len(statuses) - settings.login_throttle_max
    locked = run(Credential.count().where(Credential.locked_at.is_not_null()))
    assert locked <= settings.login_throttle_max // settings.lockout_threshold
    alerts = run(AuditEvent.select(AuditEvent.ip).where(AuditEvent.action == "throttle_login"))
    assert len(alerts) == 1, "one alert per address and window, not one row per refused request"
    assert run(AuditEvent.count().where(AuditEvent.action == "lockout_pin")) == locked, "each owner is mailed"


# --- item 21: cookie attributes ---------------------------------------------------------------


def test_session_cookie_attributes_in_production(settings):
    from web.app import create_app

    make_member(settings)
    prod = settings.replace(env="prod", secret_key="p" * 40, public_origin="https://testserver.local")
    with TestClient(create_app(prod), base_url="https://testserver.local") as client:
        client.get("/login")
        token = client.cookies.get("__Host-csrftoken")
        response = client.post("/login/card", data={"card_number": "1234567890", "pin": "1234", "_csrf_token": token},
                               follow_redirects=False)
        assert response.status_code == 303
        cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("__Host-kaiin="))
        attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")[1:]}
        assert {"httponly", "secure", "path", "samesite"} <= attributes
        assert "domain" not in attributes
        assert "Path=/" in cookie and "SameSite=lax" in cookie.replace("Lax", "lax")


# --- item 25: GET routes change nothing -------------------------------------------------------


def _snapshot() -> dict:
    from db.tables import ALL_TABLES

    return {table._meta.tablename: run(table.select().order_by(table.id)) for table in ALL_TABLES}


def test_get_routes_change_no_state(settings, client, app):
    member_id = make_member(settings)
    card(client)
    before = _snapshot()
    paths = sorted({route.path for route in app.routes if "GET" in getattr(route, "methods", set())
                    and "{" not in route.path and not route.path.startswith(("/static", "/_test"))})
    assert {"/login", "/home", "/recover", "/step-up"} <= set(paths)
    for path in paths:
        assert client.get(path).status_code < 500, path
    assert _snapshot() == before
    assert member_id
