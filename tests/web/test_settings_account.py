"""Sensitive settings over HTTP on both engines: email (code to the new address, notice to the old),
Web-ID (verified email first; unique whatever the case) and password (current one, strength, other
sessions end), each behind step-up and each sending a notice."""

from __future__ import annotations

from datetime import timedelta

import pytest
from litestar.testing import TestClient

from db import mail
from db.tables import EmailChange, Member
from tests.auth_helpers import last_code, run, step_up
from tests.conftest import csrf_token, make_member, sign_in


def post(client, path, data=None, **kwargs):
    return client.post(path, data={**(data or {}), "_csrf_token": csrf_token(client)}, follow_redirects=False, **kwargs)


def member_row(member_id: int) -> dict:
    return run(Member.select().where(Member.id == member_id).first())


def mails_to(address: str) -> list:
    return run(mail.newest(limit=50, to_addr=address))


@pytest.fixture
def member(settings, client):
    member_id = make_member(settings)
    sign_in(client, member_id)
    return member_id


@pytest.mark.parametrize("path", ["/settings/email", "/settings/web-id", "/settings/password"])
def test_sensitive_pages_need_step_up(client, member, path):
    response = client.get(path, follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/step-up?next=")
    response = post(client, path, {"email": "new@example.jp", "web_id": "Another01", "new_password": "x" * 20})
    assert response.status_code == 303 and response.headers["location"].startswith("/step-up")
    assert member_row(member)["email"] == "taro@example.jp" and member_row(member)["web_id"] == "taro2024"


# --- email --------------------------------------------------------------------------------------


def test_email_change_round_trip(client, member):
    step_up(client, "/settings")
    sent = post(client, "/settings/email", {"email": "ｈａｎａ＠Ｅｘａｍｐｌｅ．ｊｐ"})
    assert sent.status_code == 303 and sent.headers["location"] == "/settings/email/verify"
    assert "hana@example.jp" in client.get("/settings/email/verify").text
    assert member_row(member)["email"] == "taro@example.jp", "nothing changes before the code"
    code = last_code()
    assert mails_to("hana@example.jp")[0].kind == "code_email"
    done = post(client, "/settings/email/verify", {"code": code})
    assert done.status_code == 303 and done.headers["location"] == "/settings?saved=email"
    row = member_row(member)
    assert row["email"] == "hana@example.jp" and row["email_verified"]
    notice = mails_to("taro@example.jp")[0]
    assert notice.kind == "email_changed" and "h***@example.jp" in notice.body
    assert 'data-testid="setting-email" data-value="hana@example.jp"' in client.get("/settings").text


def advance(client, seconds: int) -> None:
    """Move the app's (frozen) test clock forward."""
    clock = client.app.state.clock
    if clock._fixed is not None:
        clock._fixed += timedelta(seconds=seconds)
    else:
        clock._shift += timedelta(seconds=seconds)


def test_email_code_wrong_reused_expired(client, member, settings):
    step_up(client, "/settings")
    post(client, "/settings/email", {"email": "hana@example.jp"})
    code = last_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    response = post(client, "/settings/email/verify", {"code": wrong})
    assert response.status_code == 422 and "確認コードが違います" in response.text and "あと4回" in response.text
    response = post(client, "/settings/email/verify", {"code": "12345"})
    assert response.status_code == 422 and "6桁" in response.text
    assert member_row(member)["email"] == "taro@example.jp"
    assert post(client, "/settings/email/verify", {"code": code}).status_code == 303
    reused = post(client, "/settings/email/verify", {"code": code})
    assert reused.status_code == 422 and "すでに使われています" in reused.text
    # expired: a new change, then the code's minutes pass
    step_up(client, "/settings")
    post(client, "/settings/email", {"email": "third@example.jp"})
    code = last_code()
    advance(client, settings.code_ttl_seconds + 1)
    expired = post(client, "/settings/email/verify", {"code": code})
    assert expired.status_code == 422 and "有効期限" in expired.text
    assert member_row(member)["email"] == "hana@example.jp"


def test_email_code_tries_run_out(client, member, settings):
    step_up(client, "/settings")
    post(client, "/settings/email", {"email": "hana@example.jp"})
    code = last_code()
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(settings.code_max_tries):
        response = post(client, "/settings/email/verify", {"code": wrong})
    assert "使えなくなりました" in response.text
    assert "使えなくなりました" in post(client, "/settings/email/verify", {"code": code}).text
    assert member_row(member)["email"] == "taro@example.jp"
    resent = post(client, "/settings/email/resend")
    assert resent.status_code == 200 and "新しい確認コード" in resent.text
    assert post(client, "/settings/email/verify", {"code": last_code()}).status_code == 303
    assert member_row(member)["email"] == "hana@example.jp"


@pytest.mark.parametrize("email, message", [
    ("", "メールアドレスを入力"), ("taro@", "正しく入力"), ("たろう@example.jp", "正しく入力"),
    ("taro@example.jp", "同じです"), ("a" * 10_000, "長すぎ"), ("taro\x00@example.jp", "使えない文字"),
])
def test_email_bad_input(client, member, email, message):
    step_up(client, "/settings")
    before = len(run(mail.newest(limit=100)))
    response = post(client, "/settings/email", {"email": email})
    assert response.status_code == 422 and message in response.text
    assert len(run(mail.newest(limit=100))) == before, "no code sent"


# --- Web-ID -------------------------------------------------------------------------------------


def test_web_id_change_round_trip(client, member):
    step_up(client, "/settings")
    response = post(client, "/settings/web-id", {"web_id": "Ｔａｒｏ２０２６ｘ"})
    assert response.status_code == 303 and response.headers["location"] == "/settings?saved=web_id"
    assert member_row(member)["web_id"] == "Taro2026x"
    assert mails_to("taro@example.jp")[0].kind == "web_id_changed"
    assert 'data-testid="setting-web-id" data-value="Taro2026x"' in client.get("/settings").text


@pytest.mark.parametrize("web_id, message", [
    ("abcdefg", "8〜32文字"), ("a" * 33, "8〜32文字"), ("HANAKO2024", "すでに使われています"),
    ("hanako2024", "すでに使われています"), ("tarо2024x", "8〜32文字"), ("1234567890", "カード番号"), ("", "入力してください"),
])
def test_web_id_bad_input(settings, client, member, web_id, message):
    make_member(settings, card_number="2234567890", web_id="Hanako2024", email="hana@example.jp")
    step_up(client, "/settings")
    response = post(client, "/settings/web-id", {"web_id": web_id})
    assert response.status_code == 422 and message in response.text
    assert member_row(member)["web_id"] == "taro2024"


def test_sign_in_stays_case_sensitive_after_a_change(client, member):
    step_up(client, "/settings")
    post(client, "/settings/web-id", {"web_id": "TaroYamada1"})
    post(client, "/logout")
    wrong_case = post(client, "/login/id", {"login_id": "taroyamada1", "password": "correct-horse"})
    assert wrong_case.status_code == 401
    right = post(client, "/login/id", {"login_id": "TaroYamada1", "password": "correct-horse"})
    assert right.status_code == 303


# --- password -----------------------------------------------------------------------------------


def test_password_change_ends_other_sessions_and_keeps_this_one(settings, app, client, member):
    with TestClient(app, base_url="http://testserver.local") as other:
        sign_in(other, member)
        assert other.get("/settings").status_code == 200
        step_up(client, "/settings")
        response = post(client, "/settings/password", {"current_password": "correct-horse",
                                                       "new_password": "kumo tsuki hana umi"})
        assert response.status_code == 303 and response.headers["location"] == "/settings?saved=password"
        assert client.get("/settings").status_code == 200, "this session goes on"
        gone = other.get("/settings", follow_redirects=False)
        assert gone.status_code == 303 and "/login" in gone.headers["location"], "the other session ended"
    assert mails_to("taro@example.jp")[0].kind == "password_changed"
    post(client, "/logout")
    assert post(client, "/login/id", {"login_id": "taro2024", "password": "kumo tsuki hana umi"}).status_code == 303


@pytest.mark.parametrize("current, new, message, field", [
    ("wrong-horse", "kumo tsuki hana umi", "現在のパスワードが正しくありません", "current_password"),
    ("correct-horse", "short", "8〜64文字", "new_password"),
    ("correct-horse", "password", "推測されやすい", "new_password"),
    ("correct-horse", "taro2024taro", "ログインID", "new_password"),
    ("correct-horse", "x" * 65, "8〜64文字", "new_password"),
])
def test_password_bad_input(client, member, current, new, message, field):
    step_up(client, "/settings")
    response = post(client, "/settings/password", {"current_password": current, "new_password": new})
    assert response.status_code == 422 and message in response.text
    assert f'id="{field}"' in response.text
    assert post(client, "/logout").status_code in (200, 303)
    assert post(client, "/login/id", {"login_id": "taro2024", "password": "correct-horse"}).status_code == 303


def test_password_strength_feedback(client, member):
    weak = post(client, "/settings/password/strength", {"new_password": "kumo-tsuki"}, headers={"HX-Request": "true"})
    assert weak.status_code == 200 and 'data-level="1"' in weak.text and "弱め" in weak.text
    strong = post(client, "/settings/password/strength", {"new_password": "kumo tsuki hana umi"})
    assert 'data-level="3"' in strong.text
    blocked = post(client, "/settings/password/strength", {"new_password": "12345678"})
    assert 'data-level="0"' in blocked.text


def test_wrong_current_password_counts_toward_the_lockout(settings, client, member):
    step_up(client, "/settings")
    for _ in range(settings.lockout_threshold):
        response = post(client, "/settings/password", {"current_password": "wrong-horse", "new_password": "kumo tsuki hana umi"})
        assert response.status_code == 422
    locked = post(client, "/settings/password", {"current_password": "correct-horse", "new_password": "kumo tsuki hana umi"})
    assert locked.status_code == 422 and "現在のパスワードが正しくありません" in locked.text, "locked: same answer, no oracle"
    assert mails_to("taro@example.jp")[0].kind == "locked"


def test_a_member_without_email_registers_one_without_step_up(settings, client):
    member_id = make_member(settings, email=None, web_id=None, password=None)
    sign_in(client, member_id)
    assert "メールアドレスを登録してください" in client.get("/settings/web-id").text
    assert post(client, "/settings/web-id", {"web_id": "Newcomer01"}).headers["location"].startswith("/step-up")
    assert client.get("/settings/email").status_code == 200
    assert post(client, "/settings/email", {"email": "new@example.jp"}).status_code == 303
    assert post(client, "/settings/email/verify", {"code": last_code()}).status_code == 303
    row = member_row(member_id)
    assert row["email"] == "new@example.jp" and row["email_verified"]
    assert mails_to("new@example.jp")[0].kind == "email_registered"
