"""Passkeys over HTTP, with the in-repo software authenticator (security.md §7 items 27–35, 37)."""

from __future__ import annotations

import json
from datetime import datetime, timezone

import pytest
from litestar.testing import TestClient

from db import passkeys
from db.tables import AuditEvent, Credential, Member, OutboxMail, Passkey
from domain.passkeys import PasskeyPolicy
from tests.conftest import _test_login, csrf_token, make_member, run, sign_in
from tests.soft_authenticator import SoftAuthenticator, b64url
from web.app import create_app

ORIGIN = "http://testserver.local"


def query(piccolo_query):
    return run(piccolo_query.run())


def post_json(client: TestClient, url: str, body=None, **kwargs):
    content = body if isinstance(body, (str, bytes)) else json.dumps(body or {})
    return client.post(url, content=content, headers={"x-csrftoken": csrf_token(client), "content-type": "application/json"},
                       **kwargs)


def add_passkey(client: TestClient, device: SoftAuthenticator, name: str = "") -> dict:
    options = post_json(client, "/settings/passkeys/options")
    assert options.status_code == 200, options.text
    response = device.create(options.json()["publicKey"])
    done = post_json(client, "/settings/passkeys", response, params={"name": name} if name else None)
    assert done.status_code == 200, done.text
    assert done.json() == {"redirect": "/settings/passkeys?done=added"}
    return response


def passkey_login(client: TestClient, device: SoftAuthenticator, next_url: str = "", **bend):
    options = post_json(client, "/passkeys/login/options")
    assert options.status_code == 200, options.text
    assertion = device.get(options.json()["publicKey"], **bend)
    return post_json(client, "/passkeys/login", assertion, params={"next": next_url} if next_url else None), assertion


@pytest.fixture
def member(settings) -> int:
    return make_member(settings)


@pytest.fixture
def device() -> SoftAuthenticator:
    return SoftAuthenticator(origin=ORIGIN)


@pytest.fixture
def enrolled(member, device) -> SoftAuthenticator:
    """The member registered a passkey on ``device`` earlier (through the use cases, as the page would)."""
    ctx = passkeys.PasskeyContext(now=datetime(2026, 11, 1, tzinfo=timezone.utc), policy=PasskeyPolicy(),
                                  rp=passkeys.RelyingParty(rp_id="testserver.local", name="カイイン", origin=ORIGIN))
    ceremony = run(passkeys.registration_options(member, ctx))
    response = device.create(json.loads(ceremony.options_json))
    run(passkeys.register(member, ceremony.token, json.dumps(response), name="最初の端末", user_agent="", ctx=ctx))
    return device


def test_sign_in_with_a_passkey_starts_a_new_session(client, member, enrolled):
    post_json(client, "/passkeys/login/options")
    before = client.cookies.get("kaiin")
    assert before  # the pending challenge lives in an anonymous server-side session
    answer, _ = passkey_login(client, enrolled, next_url="/settings/passkeys")
    assert answer.status_code == 200 and answer.json() == {"redirect": "/settings/passkeys"}
    assert client.cookies.get("kaiin") not in (None, before)
    page = client.get("/settings/passkeys")
    assert page.status_code == 200 and "最終利用" in page.text
    assert query(Passkey.select(Passkey.last_used_at).first())["last_used_at"] is not None


def test_next_never_leaves_the_site(client, enrolled):
    answer, _ = passkey_login(client, enrolled, next_url="//evil.example/x")
    assert answer.json() == {"redirect": "/home"}


def test_27_a_replayed_assertion_is_refused(client, app, enrolled):
    answer, assertion = passkey_login(client, enrolled)
    assert answer.status_code == 200
    with TestClient(app, base_url=ORIGIN) as attacker:
        post_json(attacker, "/passkeys/login/options")
        again = post_json(attacker, "/passkeys/login", assertion)
    assert again.status_code == 401 and "パスキーを確認できませんでした" in again.json()["error"]
    same = post_json(client, "/passkeys/login", assertion)
    assert same.status_code == 401


def test_28_a_challenge_issued_to_another_session_is_refused(app, enrolled):
    with TestClient(app, base_url=ORIGIN) as victim, TestClient(app, base_url=ORIGIN) as attacker:
        victim_options = post_json(victim, "/passkeys/login/options").json()["publicKey"]
        post_json(attacker, "/passkeys/login/options")
        stolen = enrolled.get(victim_options)
        answer = post_json(attacker, "/passkeys/login", stolen)
        assert answer.status_code == 401
        assert attacker.get("/home", follow_redirects=False).status_code in (302, 303)
        # and the victim's challenge was not spent by the attacker's try
        assert post_json(victim, "/passkeys/login", stolen).status_code == 200


def test_finishing_without_options_is_refused(client, enrolled):
    answer = post_json(client, "/passkeys/login", enrolled.get({"challenge": "AAAA", "rpId": "testserver.local"}))
    assert answer.status_code == 401


@pytest.mark.parametrize("body", [
    "", "not json", "[]", "{}", '{"id": "x", "rawId": "x", "type": "public-key", "response": {}}', "\x00" * 10,
    b"\xff\xfe\xfd", "x" * 20_000,
])
def test_32_malformed_bodies_get_a_4xx_json_answer(client, enrolled, body):
    post_json(client, "/passkeys/login/options")
    answer = post_json(client, "/passkeys/login", body)
    assert 400 <= answer.status_code < 500
    assert answer.json()["error"]


@pytest.mark.parametrize("bend", [{"bogus_signature": True}, {"uv": False}, {"origin": "https://evil.example"},
                                  {"rp_id": "evil.example"}, {"user_handle": None}, {"sign_count": 0}],
                         ids=["bogus-signature", "no-uv", "origin", "rp-id", "no-user-handle", "count-back"])
def test_bad_assertions_get_401_and_no_session(client, enrolled, bend):
    for _ in range(2):
        assert passkey_login(client, enrolled)[0].status_code == 200
        client.cookies.clear()
    answer, _ = passkey_login(client, enrolled, **bend)
    assert answer.status_code == 401
    assert client.get("/home", follow_redirects=False).status_code in (302, 303)


def test_a_suspended_member_is_told_only_after_a_valid_passkey(client, member, enrolled):
    query(Member.update({Member.status: "suspended"}).where(Member.id == member))
    answer, _ = passkey_login(client, enrolled)
    assert answer.status_code == 403 and "お電話ください" in answer.json()["error"]
    assert client.get("/home", follow_redirects=False).status_code in (302, 303)
    stranger = SoftAuthenticator(origin=ORIGIN)
    stranger.create({"rp": {"id": "testserver.local"}, "user": {"id": "eHh4"}, "challenge": "AAAA"})
    assert passkey_login(client, stranger)[0].status_code == 401


def test_a_passkey_works_while_pin_and_password_are_locked(client, member, enrolled):
    locked_at = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)
    query(Credential.update({Credential.failed_count: 3, Credential.locked_at: locked_at}).where(
        Credential.member == member))
    answer, _ = passkey_login(client, enrolled)
    assert answer.status_code == 200
    assert client.get("/home").status_code == 200


def test_csrf_is_required_on_every_passkey_post(client, member, enrolled):
    for url in ("/passkeys/login/options", "/passkeys/login"):
        assert client.post(url, content="{}").status_code == 403
    sign_in(client, member)
    for url in ("/settings/passkeys/options", "/settings/passkeys", "/settings/passkeys/1/name",
                "/settings/passkeys/1/delete"):
        assert client.post(url, content="{}").status_code == 403


def test_member_routes_need_a_signed_in_member(client):
    assert client.get("/settings/passkeys", follow_redirects=False).status_code in (302, 303)
    answer = post_json(client, "/settings/passkeys/options")
    assert answer.status_code in (200, 302, 303, 401) and "publicKey" not in answer.text


def test_adding_and_removing_need_a_step_up(client, member, enrolled):
    sign_in(client, member)  # a session that was never stepped up
    page = client.get("/settings/passkeys")
    assert page.status_code == 200 and "本人確認へ進む" in page.text and "data-passkey-register" not in page.text
    for answer in (post_json(client, "/settings/passkeys/options", follow_redirects=False),
                   post_json(client, "/settings/passkeys", {"id": "x"}, follow_redirects=False),
                   client.post(f"/settings/passkeys/{query(Passkey.select(Passkey.id).first())['id']}/delete",
                               data={"_csrf_token": csrf_token(client)}, follow_redirects=False)):
        assert answer.status_code == 303 and answer.headers["location"].startswith("/step-up?next=")
    assert query(Passkey.count()) == 1


def test_a_passkey_session_is_stepped_up_and_can_add_another(client, member, enrolled):
    assert passkey_login(client, enrolled)[0].status_code == 200
    page = client.get("/settings/passkeys")
    assert "data-passkey-register" in page.text and "本人確認へ進む" not in page.text
    second = SoftAuthenticator(origin=ORIGIN)
    options = post_json(client, "/settings/passkeys/options").json()["publicKey"]
    assert [c["id"] for c in options["excludeCredentials"]] == [b64url(next(iter(enrolled.credentials)))]
    response = second.create(options)
    done = post_json(client, "/settings/passkeys", response, params={"name": "タブレット"})
    assert done.json() == {"redirect": "/settings/passkeys?done=added"}
    assert "タブレット" in client.get("/settings/passkeys?done=added").text
    client.cookies.clear()
    assert passkey_login(client, second)[0].status_code == 200


def test_a_step_up_ends_after_its_window(app, settings, member, enrolled):
    later = TestClient(create_app(settings.replace(clock="2026-11-20T12:11:00+09:00"),
                                  extra_route_handlers=[_test_login]), base_url=ORIGIN)
    with TestClient(create_app(settings.replace(clock="2026-11-20T12:00:00+09:00"),
                               extra_route_handlers=[_test_login]), base_url=ORIGIN) as early, later:
        assert passkey_login(early, enrolled)[0].status_code == 200
        assert post_json(early, "/settings/passkeys/options").status_code == 200
        later.cookies.update(early.cookies)
        assert later.get("/settings/passkeys").status_code == 200  # still signed in (idle 11 min < 15)
        assert post_json(later, "/settings/passkeys/options", follow_redirects=False).status_code in (403, 303)


def test_list_rename_and_remove(client, member, enrolled):
    assert passkey_login(client, enrolled)[0].status_code == 200
    add_passkey(client, SoftAuthenticator(origin=ORIGIN), name="仕事用スマホ")
    page = client.get("/settings/passkeys", headers={"user-agent": "Mozilla/5.0 (iPhone; CPU iPhone OS 18_0) Safari/604.1"})
    assert page.status_code == 200
    assert page.text.count('data-testid="passkey"') == 2 and "仕事用スマホ" in page.text and "最初の端末" in page.text
    assert "まだ使われていません" in page.text
    ids = [row["id"] for row in query(Passkey.select(Passkey.id).order_by(Passkey.id))]
    token = csrf_token(client)
    renamed = client.post(f"/settings/passkeys/{ids[1]}/name", data={"name": "私物の<b>iPhone</b>", "_csrf_token": token})
    assert renamed.status_code == 200 and "パスキーの名前を変更しました" in renamed.text
    assert "私物の&lt;b&gt;iPhone&lt;/b&gt;" in renamed.text
    bad = client.post(f"/settings/passkeys/{ids[1]}/name", data={"name": "x" * 10_000, "_csrf_token": token})
    assert bad.status_code == 422 and "40文字以内" in bad.text
    removed = client.post(f"/settings/passkeys/{ids[0]}/delete", data={"_csrf_token": token})
    assert removed.status_code == 200 and "パスキーを削除しました" in removed.text
    assert [row["id"] for row in query(Passkey.select(Passkey.id))] == [ids[1]]
    client.cookies.clear()
    assert passkey_login(client, enrolled)[0].status_code == 401  # item 37: the removed passkey no longer works


def test_another_members_passkey_cannot_be_touched(app, client, settings, member, enrolled):
    passkey_id = query(Passkey.select(Passkey.id).first())["id"]
    other = make_member(settings, card_number="9876543210", web_id="hanako2024")
    intruder_device = SoftAuthenticator(origin=ORIGIN)
    ctx = passkeys.PasskeyContext(now=datetime(2026, 11, 1, tzinfo=timezone.utc), policy=PasskeyPolicy(),
                                  rp=passkeys.RelyingParty(rp_id="testserver.local", name="カイイン", origin=ORIGIN))
    ceremony = run(passkeys.registration_options(other, ctx))
    run(passkeys.register(other, ceremony.token, json.dumps(intruder_device.create(json.loads(ceremony.options_json))),
                          name="", user_agent="", ctx=ctx))
    with TestClient(app, base_url=ORIGIN) as intruder:
        assert passkey_login(intruder, intruder_device)[0].status_code == 200
        token = csrf_token(intruder)
        assert intruder.post(f"/settings/passkeys/{passkey_id}/name", data={"name": "x", "_csrf_token": token}).status_code == 422
        assert intruder.post(f"/settings/passkeys/{passkey_id}/delete", data={"_csrf_token": token}).status_code == 409
        assert intruder.post("/settings/passkeys/abc/delete", data={"_csrf_token": token}).status_code in (400, 404)
        for no_row in ("2147483648", "99999999999999"):  # beyond a 32-bit id: no row's, never a 500 (PostgreSQL)
            renamed = intruder.post(f"/settings/passkeys/{no_row}/name", data={"name": "x", "_csrf_token": token})
            assert renamed.status_code == 422 and "見つかりません" in renamed.text, no_row
            assert intruder.post(f"/settings/passkeys/{no_row}/delete", data={"_csrf_token": token}).status_code == 409
    assert query(Passkey.count()) == 2


def test_the_settings_hub_has_a_passkey_row(client, member, enrolled):
    sign_in(client, member)
    hub = client.get("/settings")
    assert hub.status_code == 200
    assert 'data-testid="setting-passkeys" data-value="1"' in hub.text and "1個 登録済み" in hub.text
    assert 'href="/settings/passkeys"' in hub.text


# --- with sign-in, step-up, mail and audit (auth) ----------------------------------------------------------------

def card_sign_in(client: TestClient, pin: str):
    return client.post("/login/card", data={"card_number": "1234567890", "pin": pin, "_csrf_token": csrf_token(client)})


def mails(kind: str) -> list[dict]:
    return query(OutboxMail.select().where(OutboxMail.kind == kind))


def test_35_a_sign_count_going_back_is_refused_and_audited(client, member, enrolled):
    for _ in range(3):
        assert passkey_login(client, enrolled)[0].status_code == 200
        client.cookies.clear()
    assert passkey_login(client, enrolled, sign_count=1)[0].status_code == 401
    events = query(AuditEvent.select().where(AuditEvent.action == "login_passkey").order_by(AuditEvent.id))
    assert [e["outcome"] for e in events] == ["ok", "ok", "ok", "denied"]
    assert events[-1]["member"] == member and "sign count 1 after 3" in events[-1]["detail"]


def test_failed_passkey_sign_ins_are_audited_without_secrets(client, member, enrolled):
    answer, assertion = passkey_login(client, enrolled, bogus_signature=True)
    assert answer.status_code == 401
    event = query(AuditEvent.select().where(AuditEvent.action == "login_passkey").first())
    assert event["outcome"] == "failed" and event["member"] == member
    assert assertion["response"]["signature"] not in event["detail"]


def test_a_new_browser_gets_the_new_device_notice(client, member, enrolled):
    assert passkey_login(client, enrolled)[0].status_code == 200
    notice = mails("new_device")
    assert len(notice) == 1 and "パスキー" in notice[0]["body"]


def test_adding_and_removing_send_notices(client, member, enrolled):
    assert passkey_login(client, enrolled)[0].status_code == 200
    add_passkey(client, SoftAuthenticator(origin=ORIGIN), name="タブレット")
    added = [m for m in mails("passkey_added") if "タブレット" in m["body"]]
    assert len(added) == 1 and added[0]["to_addr"] == "taro@example.jp"
    passkey_id = query(Passkey.select(Passkey.id).where(Passkey.name == "タブレット").first())["id"]
    client.post(f"/settings/passkeys/{passkey_id}/delete", data={"_csrf_token": csrf_token(client)})
    removed = mails("passkey_removed")
    assert len(removed) == 1 and "タブレット" in removed[0]["body"]
    actions = [e["action"] for e in query(AuditEvent.select(AuditEvent.action))]
    assert "passkey_added" in actions and "passkey_removed" in actions


def test_step_up_with_a_passkey(client, member, enrolled):
    sign_in(client, member)
    page = client.get("/step-up?next=/settings/passkeys")
    assert "パスキーで確認" in page.text
    before = client.cookies.get("kaiin")
    options = post_json(client, "/passkeys/step-up/options").json()["publicKey"]
    assert options["allowCredentials"]
    done = post_json(client, "/passkeys/step-up", enrolled.get(options), params={"next": "/settings/passkeys"})
    assert done.json() == {"redirect": "/settings/passkeys"}
    assert client.cookies.get("kaiin") != before
    assert post_json(client, "/settings/passkeys/options").status_code == 200


def test_a_passkey_works_while_the_pin_is_locked_and_can_set_a_new_pin(client, member, enrolled):
    for pin in ("0000", "1111", "2222"):
        card_sign_in(client, pin)
    assert card_sign_in(client, "1234").status_code == 401  # locked: the right PIN looks wrong
    assert passkey_login(client, enrolled)[0].status_code == 200
    page = client.get("/settings/pin")
    assert "新しい暗証番号" in page.text
    token = csrf_token(client)
    mismatch = client.post("/settings/pin", data={"pin": "9876", "pin_again": "9875", "_csrf_token": token})
    assert mismatch.status_code == 422 and "一致しません" in mismatch.text
    for bad in ("12", "١٢٣٤", "12a4", "1" * 10_000):
        assert client.post("/settings/pin", data={"pin": bad, "pin_again": bad, "_csrf_token": token}).status_code == 422
    done = client.post("/settings/pin", data={"pin": "９８７６", "pin_again": "9876", "_csrf_token": token})
    assert done.status_code == 200 and "新しい暗証番号を設定しました" in done.text
    assert client.get("/home").status_code == 200  # this session goes on
    notice = mails("pin_changed")  # the lock's own mail ("locked") does not count
    assert len(notice) == 1 and notice[0]["to_addr"] == "taro@example.jp" and "暗証番号が変更されました" in notice[0]["subject"]
    assert query(AuditEvent.count().where(AuditEvent.action == "pin_set_passkey")) == 1
    client.cookies.clear()
    assert card_sign_in(client, "9876").url.path == "/home"


def test_only_a_passkey_session_may_set_a_pin_without_the_old_one(client, member, enrolled):
    sign_in(client, member)
    page = client.get("/settings/pin")
    assert page.status_code == 200 and "パスキーでログインしているとき" in page.text and 'name="pin"' not in page.text
    answer = client.post("/settings/pin", data={"pin": "9876", "pin_again": "9876", "_csrf_token": csrf_token(client)},
                         follow_redirects=False)
    assert answer.status_code in (303, 422)
    assert card_sign_in(client, "1234").url.path == "/home"


def test_maintenance_gates_passkey_sign_in(settings, enrolled):
    monday = create_app(settings.replace(clock="2026-11-23T01:00:00+09:00"), extra_route_handlers=[_test_login])
    with TestClient(monday, base_url=ORIGIN) as client:
        client.get("/maintenance")
        for url in ("/passkeys/login/options", "/passkeys/login"):
            answer = client.post(url, content="{}", headers={"x-csrftoken": client.cookies.get("csrftoken") or "x"})
            assert answer.status_code == 503 and answer.headers.get("retry-after")


def test_passkey_sign_in_is_throttled_per_ip(settings, enrolled):
    tight = create_app(settings.replace(login_throttle_max=3), extra_route_handlers=[_test_login])
    with TestClient(tight, base_url=ORIGIN) as client:
        statuses = [passkey_login(client, enrolled, bogus_signature=True)[0].status_code for _ in range(3)]
        assert statuses == [401, 401, 401]
        post_json(client, "/passkeys/login/options")
        assert post_json(client, "/passkeys/login", {}).status_code == 429


PASSKEY_JS = "/static/passkey.js?v="


def test_passkey_js_loads_only_on_the_pages_that_use_it(client, member, enrolled):
    assert PASSKEY_JS in client.get("/login").text and PASSKEY_JS in client.get("/login?tab=id").text
    sign_in(client, member)  # not stepped up
    for path in ("/home", "/settings", "/history", "/settings/pin", "/settings/passkeys"):
        page = client.get(path)
        assert page.status_code == 200 and PASSKEY_JS not in page.text, path
    assert PASSKEY_JS in client.get("/step-up?next=/settings/passkeys").text  # パスキーで確認
    client.cookies.clear()
    assert passkey_login(client, enrolled)[0].status_code == 200  # stepped up: the page can add one
    page = client.get("/settings/passkeys")
    assert "data-passkey-register" in page.text and page.text.count(PASSKEY_JS) == 1
    assert PASSKEY_JS not in client.get("/home").text


def test_a_flood_of_passkey_challenges_from_one_address_gets_429(client, settings):
    """Each options answer stores a challenge and starts a session: one address gets a window's worth."""
    from db.tables import PasskeyChallenge

    limit = settings.passkey_options_throttle_max
    for _ in range(limit):
        assert post_json(client, "/passkeys/login/options").status_code == 200
    refused = post_json(client, "/passkeys/login/options")
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) > 0
    assert query(PasskeyChallenge.count()) == limit
