"""/settings over HTTP on both engines: the hub shows every setting; each form round-trips, works
without JavaScript (plain POST + 303) and with htmx, and bad input gets a Japanese message and changes nothing."""

from __future__ import annotations

import pytest

from db import member_settings as ms
from tests.conftest import csrf_token, make_member, run, sign_in


def _post(client, url, data, **headers):
    return client.post(url, data={**data, "_csrf_token": csrf_token(client)}, headers=headers, follow_redirects=False)


@pytest.fixture
def member(settings, client):
    member_id = make_member(settings)
    sign_in(client, member_id)
    return member_id


def test_hub_lists_every_setting_with_its_value(client, member):
    page = client.get("/settings")
    assert page.status_code == 200 and page.headers["cache-control"].startswith("no-store")
    text = page.text
    for testid, value in [("email", "taro@example.jp"), ("web-id", "taro2024"), ("due-day", "5"),
                          ("reminder", "on:3:9"), ("address", ""), ("workplace", "")]:
        assert f'data-testid="setting-{testid}" data-value="{value}"' in text, testid
    assert "毎月5日" in text and "未登録" in text


def test_hub_needs_sign_in(client):
    response = client.get("/settings", follow_redirects=False)
    assert response.status_code in (302, 303) and "/login" in response.headers["location"]


def test_profile_round_trip_without_js(client, member):
    response = _post(client, "/settings/profile", {
        "postcode": "１００－０００１", "address": "東京都千代田区丸の内１－１", "workplace_name": "カイイン商事",
        "workplace_phone": "03ー1234ー5678"})
    assert response.status_code == 303 and response.headers["location"] == "/settings?saved=profile"
    hub = client.get("/settings?saved=profile").text
    assert "住所・勤務先を変更しました" in hub
    assert 'data-value="1000001">〒100-0001 東京都千代田区丸の内1-1' in hub
    assert "カイイン商事（0312345678）" in hub
    form = client.get("/settings/profile").text
    assert 'value="100-0001"' in form and 'value="カイイン商事"' in form


def test_profile_with_htmx_redirects_the_page(client, member):
    response = _post(client, "/settings/profile", {"postcode": "100-0001", "address": "東京都"}, **{"HX-Request": "true"})
    assert response.status_code == 200 and response.headers["hx-redirect"] == "/settings?saved=profile"


@pytest.mark.parametrize("data, message, field", [
    ({"postcode": "100-000", "address": "東京都"}, "郵便番号は7桁", "postcode"),
    ({"postcode": "١٠٠٠٠٠١", "address": "東京都"}, "郵便番号は7桁", "postcode"),
    ({"postcode": "100-0001", "address": ""}, "住所を入力", "address"),
    ({"postcode": "100-0001", "address": "東京都\x00"}, "使えない文字", "address"),
    ({"postcode": "100-0001", "address": "あ" * 10_000}, "長すぎます", "address"),
    ({"postcode": "100-0001", "address": "東京都", "workplace_name": "商事"}, "勤務先電話番号も", "workplace_phone"),
    ({"postcode": "100-0001", "address": "東京都", "workplace_name": "商事", "workplace_phone": "12345"}, "0から始まる", "workplace_phone"),
    ({}, "郵便番号を入力", "postcode"),
])
def test_profile_bad_input(client, member, data, message, field):
    response = _post(client, "/settings/profile", data)
    assert response.status_code == 422 and message in response.text
    assert f'id="{field}"' in response.text and 'aria-invalid="true"' in response.text
    assert run(ms.profile_of(member)) is None


def test_reminder_round_trip(client, member):
    response = _post(client, "/settings/reminder", {"enabled": "on", "days_before": "7", "hour": "21"})
    assert response.status_code == 303
    assert 'data-testid="setting-reminder" data-value="on:7:21"' in client.get("/settings").text
    form = client.get("/settings/reminder").text
    assert '<option value="7" selected>' in form and '<option value="21" selected>' in form
    _post(client, "/settings/reminder", {"enabled": "off", "days_before": "7", "hour": "21"})
    assert "受け取らない" in client.get("/settings").text


@pytest.mark.parametrize("data, message", [
    ({"enabled": "on", "days_before": "8", "hour": "9"}, "1〜7日前"),
    ({"enabled": "on", "days_before": "0", "hour": "9"}, "1〜7日前"),
    ({"enabled": "on", "days_before": "3", "hour": "24"}, "0時〜23時"),
    ({"enabled": "maybe", "days_before": "3", "hour": "9"}, "受け取る"),
    ({"enabled": "on", "days_before": "1e3", "hour": "9"}, "1〜7日前"),
])
def test_reminder_bad_input(client, member, data, message):
    response = _post(client, "/settings/reminder", data)
    assert response.status_code == 422 and message in response.text
    assert run(ms.reminder_of(member, client.app.state.settings.reminder_policy())) is None


def test_forms_need_csrf(client, member):
    response = client.post("/settings/profile", data={"postcode": "100-0001", "address": "東京都"})
    assert response.status_code == 403
    assert run(ms.profile_of(member)) is None


def test_due_day_round_trip(settings, client):
    from datetime import date

    member_id = make_member(settings, balance=100_000, borrowed_on=date(2026, 11, 2), opened_on=date(2026, 11, 2))
    sign_in(client, member_id)
    form = client.get("/settings/due-day").text
    assert 'data-testid="applies-from-25" data-value="2027-01-25"' in form
    assert 'data-testid="next-due-date" data-value="2026-12-07"' in form
    done = _post(client, "/settings/due-day", {"due_day": "25"})
    assert done.status_code == 200 and "2027年1月25日の返済期日から" in done.text
    assert 'data-testid="setting-due-day" data-value="25"' in client.get("/settings").text


@pytest.mark.parametrize("value, message", [("10", "5日・15日・25日・末日"), ("", "5日・15日・25日・末日"), ("5", "すでに毎月5日")])
def test_due_day_bad_input(settings, client, value, message):
    member_id = make_member(settings)
    sign_in(client, member_id)
    response = _post(client, "/settings/due-day", {"due_day": value})
    assert response.status_code == 422 and message in response.text
    assert 'data-value="5"' in client.get("/settings").text
