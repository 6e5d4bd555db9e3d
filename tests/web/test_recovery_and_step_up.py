"""Recovery (/recover), step-up, the developer outbox and the operator commands, over HTTP and the CLI."""

from __future__ import annotations

import re

import pytest
from litestar import get
from litestar.testing import TestClient

from db import mail
from db.tables import AuditEvent
from tests.auth_helpers import last_code, run
from tests.conftest import csrf_token, make_member, sign_in
from web.clock import Clock
from web.guards import requires_step_up


def post(client, path, data=None, **kwargs):
    return client.post(path, data={**(data or {}), "_csrf_token": csrf_token(client)}, **kwargs)


def _normalise(response) -> tuple:
    """Without the CSP nonce and the client's own CSRF token, which differ by design."""
    body = re.sub(r"[0-9a-f]{64,}", "TOKEN", re.sub(r'nonce="[^"]+"', "", response.text))
    return response.status_code, body


def test_recovery_answers_the_same_for_members_and_strangers(settings, app):
    """Item 10."""
    make_member(settings)
    answers = []
    for ident, born in (("taro2024", "1990-04-01"), ("nobody2024", "1990-04-01"), ("taro2024", "1991-01-01"),
                        ("1234567890", "1990-04-01")):
        with TestClient(app, base_url="http://testserver.local") as fresh:
            answers.append(_normalise(post(fresh, "/recover", {"login_id": ident, "birth_date": born})))
    assert len(set(answers)) == 1
    assert answers[0][0] == 200 and "確認コード" in answers[0][1]


def test_recovery_flow_shows_the_web_id_resets_unlocks_and_ends_sessions(settings, client, app):
    member_id = make_member(settings)
    with TestClient(app, base_url="http://testserver.local") as phone:
        sign_in(phone, member_id)
        assert phone.get("/home").status_code == 200
        for n in range(3):
            post(phone, "/login/id", {"login_id": "taro2024", "password": f"wrong-pass-{n}"})
        sign_in(phone, member_id)
        post(client, "/recover", {"login_id": "１２３４－５６７８－９０", "birth_date": "1990/4/1"})
        shown = post(client, "/recover/code", {"code": last_code()})
        assert shown.status_code == 200
        assert 'data-testid="web-id">taro2024<' in shown.text
        done = post(client, "/recover/password", {"password": "ｎｅｗ－ｐａｓｓｗｏｒｄ"})
        assert done.status_code == 200 and 'data-testid="recover-done"' in done.text
        assert phone.get("/home", follow_redirects=False).status_code in (302, 303), "other sessions ended"
    signed = post(client, "/login/id", {"login_id": "taro2024", "password": "new-password"})
    assert signed.url.path == "/home"
    kinds = [m.kind for m in run(mail.newest())]
    assert "password_changed" in kinds


def test_recovery_password_step_needs_a_verified_code(settings, client):
    make_member(settings)
    response = post(client, "/recover/password", {"password": "new-password"})
    assert response.status_code == 422 and "最初からやり直して" in response.text


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"login_id": "abc", "birth_date": "1990-04-01"}, "ログインIDは8〜32文字"),
        ({"login_id": "taro2024", "birth_date": "1990-02-30"}, "生年月日は"),
        ({"login_id": "taro2024", "birth_date": ""}, "生年月日を入力してください"),
        ({"login_id": "taro2024\x00", "birth_date": "1990-04-01"}, "使えない文字"),
    ],
)
def test_recovery_bad_input(settings, client, data, message):
    response = post(client, "/recover", data)
    assert response.status_code == 422 and message in response.text


def test_wrong_recovery_codes_get_one_message(settings, client):
    make_member(settings)
    post(client, "/recover", {"login_id": "taro2024", "birth_date": "1990-04-01"})
    code = last_code()
    wrong = post(client, "/recover/code", {"code": f"{(int(code) + 1) % 10**6:06d}"})
    assert wrong.status_code == 422 and "正しくないか、有効期限が切れています" in wrong.text
    bad = post(client, "/recover/code", {"code": "١٢٣٤٥٦"})
    assert bad.status_code == 422 and "6桁の数字" in bad.text


def test_recovery_is_throttled_per_ip(settings, client):
    for _ in range(settings.recover_throttle_max):
        post(client, "/recover", {"login_id": "taro2024", "birth_date": "1990-04-01"})
    over = post(client, "/recover", {"login_id": "taro2024", "birth_date": "1990-04-01"})
    assert over.status_code == 429 and int(over.headers["retry-after"]) > 0


# --- step-up: item 18 -------------------------------------------------------------------------


@get("/_test/sensitive", guards=[requires_step_up])
async def sensitive() -> str:
    return "sensitive-ok"


@pytest.fixture
def step_up_app(settings):
    from tests.conftest import _test_login
    from web.app import create_app

    return create_app(settings, extra_route_handlers=[_test_login, sensitive])


def test_step_up_guard_asks_for_a_code_then_rotates_the_session(settings, step_up_app):
    member_id = make_member(settings)
    with TestClient(step_up_app, base_url="http://testserver.local") as client:
        sign_in(client, member_id)
        asked = client.get("/_test/sensitive", follow_redirects=False)
        assert asked.status_code == 303 and asked.headers["location"] == "/step-up?next=/_test/sensitive"
        page = client.get(asked.headers["location"])
        assert "確認コードをメールで受け取る" in page.text
        post(client, "/step-up/send", {"next": "/_test/sensitive"})
        before = client.cookies.get("kaiin")
        done = post(client, "/step-up/verify", {"code": last_code(), "next": "/_test/sensitive"})
        assert done.url.path == "/_test/sensitive" and done.text == "sensitive-ok"
        after = client.cookies.get("kaiin")
        assert after != before, "a new session id at step-up"
        assert run(client.app.stores.get("sessions").get(before)) is None, "the old id is dead"
    assert run(AuditEvent.count().where((AuditEvent.action == "step_up") & (AuditEvent.outcome == "ok"))) == 1


def test_step_up_expires_after_its_minutes(settings, step_up_app):
    from datetime import timedelta

    member_id = make_member(settings)
    with TestClient(step_up_app, base_url="http://testserver.local") as client:
        sign_in(client, member_id)
        post(client, "/step-up/send", {"next": "/home"})
        post(client, "/step-up/verify", {"code": last_code(), "next": "/home"})
        assert client.get("/_test/sensitive").text == "sensitive-ok"
        later = client.app.state.clock.now() + timedelta(seconds=settings.step_up_seconds + 1)
        client.app.state.clock = Clock(later.isoformat())  # still inside the 15-minute idle timeout
        assert client.get("/_test/sensitive", follow_redirects=False).status_code == 303


def test_step_up_wrong_code_is_refused(settings, step_up_app):
    member_id = make_member(settings)
    with TestClient(step_up_app, base_url="http://testserver.local") as client:
        sign_in(client, member_id)
        post(client, "/step-up/send", {"next": "/home"})
        wrong = post(client, "/step-up/verify", {"code": f"{(int(last_code()) + 1) % 10**6:06d}", "next": "/home"})
        assert wrong.status_code == 422 and "正しくないか" in wrong.text
        assert client.get("/_test/sensitive", follow_redirects=False).status_code == 303


# --- developer outbox -------------------------------------------------------------------------


def test_dev_outbox_only_in_dev(settings):
    from web.app import create_app

    make_member(settings)
    with TestClient(create_app(settings.replace(env="dev")), base_url="http://testserver.local") as dev:
        post(dev, "/recover", {"login_id": "taro2024", "birth_date": "1990-04-01"})
        page = dev.get("/dev/outbox")
        assert page.status_code == 200 and "確認コード" in page.text
    with TestClient(create_app(settings), base_url="http://testserver.local") as test_env:
        assert test_env.get("/dev/outbox").status_code == 404
