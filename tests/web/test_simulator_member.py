"""The member's own simulator (/simulator/mine) over HTTP, from the real ledger, on both engines."""

from __future__ import annotations

import re

import pytest
from litestar.testing import TestClient

from domain.simulator import simulate_position
from tests.conftest import _test_login, csrf_token, sign_in
from tests.db.loan_fixtures import NOW, account, load_demo
from web.app import create_app

LIVE = {"HX-Request": "true", "HX-Request-Type": "partial", "HX-Target": "section#sim-result"}


@pytest.fixture
def demo(settings):
    ids = load_demo()
    app = create_app(settings.replace(clock=NOW.isoformat()), extra_route_handlers=[_test_login])
    with TestClient(app, base_url="http://testserver.local") as client:
        yield client, ids, settings


def figure(html: str, testid: str) -> int:
    match = re.search(rf'data-testid="{testid}" data-value="(\d+)"', html)
    assert match, f"{testid} missing"
    return int(match.group(1))


def test_member_page_starts_from_the_members_own_position(demo):
    client, ids, settings = demo
    sign_in(client, ids["on_time"])
    position = account(ids["on_time"]).position
    response = client.get("/simulator/mine")
    assert response.status_code == 200 and response.text.startswith("<!doctype html>")
    html = response.text
    assert figure(html, "sim-balance") == position.balance > 0 and figure(html, "sim-rate") == position.rate
    assert 'name="amount"' not in html and 'name="rate"' not in html  # their own loan: nothing to type there
    expected = simulate_position({"mode": "payment", "payment": "50000"}, position, settings.simulator_limits())
    live = client.get("/simulator/mine", params={"mode": "payment", "payment": "５００００"}, headers=LIVE)
    assert live.status_code == 200 and "<html" not in live.text
    assert figure(live.text, "months") == expected.schedule.months
    assert figure(live.text, "total-interest") == expected.schedule.total_interest
    assert figure(live.text, "total-paid") == position.balance + expected.schedule.total_interest
    assert 'id="err-amount"' not in live.text  # only the fields this page has
    assert "<table" not in live.text and 'hx-get="/simulator/mine/schedule?mode=payment&amp;payment=50000"' in live.text
    table = client.get("/simulator/mine/schedule", params={"mode": "payment", "payment": "50000"},
                       headers={**LIVE, "HX-Target": "div#sim-schedule"})
    assert table.status_code == 200 and table.text.startswith("<table>")
    assert table.text.count("<tr>") == expected.schedule.months + 1
    assert f"<td>{expected.schedule.rows[0].payment:,}</td><td>{expected.schedule.rows[0].interest:,}</td>" in table.text
    page = client.get("/simulator/mine/schedule", params={"mode": "payment", "payment": "50000"})
    assert page.text.startswith("<!doctype html>") and '<details class="schedule" open>' in page.text
    assert 'hx-get="/simulator/mine/schedule' not in page.text and page.text.count("<tr>") == expected.schedule.months + 1


def test_member_months_mode_and_the_no_js_post(demo):
    client, ids, settings = demo
    sign_in(client, ids["on_time"])
    position = account(ids["on_time"]).position
    expected = simulate_position({"mode": "months", "months": "12"}, position, settings.simulator_limits())
    response = client.post("/simulator/mine", data={"mode": "months", "months": "12",
                                                    "_csrf_token": csrf_token(client)})
    assert response.status_code == 200 and response.text.startswith("<!doctype html>")
    assert figure(response.text, "monthly-payment") == expected.schedule.payment
    assert figure(response.text, "months") <= 12


@pytest.mark.parametrize("who, message", [
    ("overdue", "未払い分をご返済ください"),
    ("paid_off", "お借入れはありません"),
])
def test_members_who_cannot_simulate_are_told_why(demo, who, message):
    client, ids, _ = demo
    sign_in(client, ids[who])
    response = client.get("/simulator/mine")
    assert response.status_code == 422 and message in response.text


@pytest.mark.parametrize("form, message", [
    ({"mode": "payment", "payment": "abc"}, "半角または全角の数字"),
    ({"mode": "payment", "payment": "100"}, "以上"),
    ({"mode": "months", "months": "0"}, "1以上の整数"),
    ({"mode": "months", "months": "999"}, "120回まで"),
    ({"mode": "x", "payment": "10000"}, "計算方法を選んでください"),
])
def test_member_bad_input_is_explained(demo, form, message):
    client, ids, _ = demo
    sign_in(client, ids["on_time"])
    response = client.get("/simulator/mine", params=form, headers=LIVE)
    assert response.status_code == 422 and message in response.text


def test_member_simulator_needs_sign_in_and_home_links_to_it(demo):
    client, ids, _ = demo
    for path in ("/simulator/mine", "/simulator/mine/schedule?mode=payment&payment=50000"):
        response = client.get(path, follow_redirects=False)
        assert response.status_code in (302, 303) and "/login" in response.headers["location"]
    sign_in(client, ids["on_time"])
    assert 'href="/simulator/mine"' in client.get("/home").text
    assert "no-store" in client.get("/simulator/mine").headers["cache-control"]
