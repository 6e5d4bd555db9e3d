"""The maintenance gate over HTTP: 503 + Retry-After in a window, htmx sent to /maintenance, banner before."""

from __future__ import annotations

import os
import re
import time
from datetime import datetime

import pytest
from litestar import get, post
from litestar.routes import HTTPRoute
from litestar.testing import TestClient

from db import engine
from db import maintenance as stored
from domain.maintenance import JST
from tests.conftest import csrf_token, make_member, run, sign_in
from web.app import create_app
from web.assets import asset
from web.clock import Clock
from web.guards import requires_member

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
MONDAY_3AM = "2026-11-23T03:00:00+09:00"  # inside the weekly window, 4 hours before it ends


def at(app, moment: str) -> None:
    app.state.clock = Clock(moment)


def operator_change(coro):
    """Run an operator's change; on PostgreSQL wait (at most 2 s) until this process's listener has heard the
    trigger's notification, which arrives on its own connection just after the commit."""
    heard = engine.notifications_heard()
    result = run(coro)
    deadline = time.monotonic() + 2
    while engine.is_postgres() and engine.notifications_heard() == heard and time.monotonic() < deadline:
        time.sleep(0.005)
    return result


@pytest.fixture
def member_client(app, client, settings):
    """A signed-in member (signed in outside any window)."""
    sign_in(client, make_member(settings))
    assert client.get("/home").status_code == 200
    return client


def _concrete(path: str) -> str:
    path = re.sub(r"\{[^}]*:path\}", "app.css", path)
    return re.sub(r"\{[^}]*\}", "1", path)


def _exempt(handler) -> bool:
    return handler.opt.get("maintenance") == "exempt"


def test_every_route_but_the_exempt_pages_answers_503_in_a_window(app, member_client):
    """Walks the app's real route table, so a route added later is checked without touching this test."""
    at(app, MONDAY_3AM)
    checked = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            for method in sorted(handler.http_methods - {"OPTIONS"}):
                response = member_client.request(method, _concrete(route.path), follow_redirects=False)
                safe_exempt = _exempt(handler) and method in ("GET", "HEAD") and requires_member not in handler.resolve_guards()
                if safe_exempt:
                    assert response.status_code != 503, (method, route.path)
                else:
                    assert response.status_code == 503, (method, route.path)
                    assert response.headers["retry-after"] == str(4 * 3600), (method, route.path)
                checked.append((method, route.path))
    assert ("GET", "/home") in checked and ("GET", "/login") in checked and ("GET", "/") in checked
    assert ("GET", "/maintenance") in checked and ("GET", "/healthz") in checked


def test_the_503_page_says_when_service_resumes(app, client):
    at(app, MONDAY_3AM)
    response = client.get("/login")
    assert response.status_code == 503
    assert response.headers["retry-after"] == "14400"
    assert response.text.startswith("<!doctype html>") and '<html lang="ja">' in response.text
    assert "ただいまメンテナンス中です" in response.text
    assert "2026年11月23日(月) 7:00" in response.text and "に再開する予定です" in response.text
    assert 'data-seconds="14400"' in response.text and "あと4時間0分" in response.text
    assert "定期メンテナンス" in response.text
    csp = response.headers["content-security-policy"]
    assert "nonce-" in csp and "unsafe-inline" not in csp
    assert " style=" not in response.text and re.search(r"<script(?![^>]*\bsrc=)", response.text) is None
    assert "no-store" in response.headers["cache-control"]


def test_a_post_never_reaches_its_handler_in_a_window_whatever_its_opt(app, member_client):
    """Money routes added later are covered by default: even a POST marked exempt is gated."""
    calls = []

    @post("/_test/money", opt={"maintenance": "exempt"})
    async def money() -> str:
        calls.append("moved")
        return "moved"

    @get("/_test/member-exempt", opt={"maintenance": "exempt"}, guards=[requires_member])
    async def member_page() -> str:
        calls.append("shown")
        return "member"

    app.register(money)
    app.register(member_page)
    token = csrf_token(member_client)
    assert member_client.post("/_test/money", data={"_csrf_token": token}).status_code == 201
    calls.clear()
    at(app, MONDAY_3AM)
    response = member_client.post("/_test/money", data={"_csrf_token": token})
    assert response.status_code == 503 and response.headers["retry-after"] == "14400"
    response = member_client.post("/_test/money", headers={"x-csrftoken": token, **HTMX})
    assert response.status_code == 503 and response.headers["hx-redirect"] == "/maintenance"
    assert member_client.get("/_test/member-exempt").status_code == 503
    assert calls == []


def test_htmx_requests_are_sent_whole_page_to_the_maintenance_page(app, member_client):
    at(app, MONDAY_3AM)
    for headers in (HTMX, {"HX-Request": "true", "HX-Boosted": "true", "HX-Request-Type": "full"}):
        response = member_client.get("/home", headers=headers, follow_redirects=False)
        assert response.status_code == 503
        assert response.headers["hx-redirect"] == "/maintenance"
        assert response.headers["retry-after"] == "14400"
    page = member_client.get("/maintenance")
    assert page.status_code == 200 and "ただいまメンテナンス中です" in page.text


def test_json_callers_get_json_in_a_window(app, client):
    @post("/_test/passkey/options")
    async def options() -> dict:
        return {"challenge": "x"}

    app.register(options)
    at(app, MONDAY_3AM)
    response = client.post("/_test/passkey/options", headers={"Accept": "application/json"})
    assert response.status_code == 503 and response.headers["retry-after"] == "14400"
    assert response.json() == {
        "detail": "ただいまメンテナンス中です。2026年11月23日(月) 7:00 に再開する予定です。",
        "resume_at": "2026-11-22T22:00:00+00:00",
    }


def test_exempt_pages_stay_up_in_a_window(app, client):
    at(app, MONDAY_3AM)
    for path in (asset("app.css"), asset("app.js"), "/manifest.webmanifest", "/sw.js", "/offline", "/maintenance"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "retry-after" not in response.headers, path
    assert client.get("/healthz").json() == {"status": "ok"}


@pytest.mark.parametrize(
    ("moment", "status", "retry_after"),
    [
        ("2026-11-22T23:59:59+09:00", 200, None),  # just before
        ("2026-11-23T00:00:00+09:00", 503, "25200"),  # at the start
        ("2026-11-23T06:59:59+09:00", 503, "1"),  # inside, last second
        ("2026-11-23T07:00:00+09:00", 200, None),  # just after
        ("2026-12-31T23:59:59+09:00", 200, None),
        ("2027-01-01T00:00:00+09:00", 503, str(31 * 3600)),  # New Year
        ("2027-01-02T07:00:00+09:00", 200, None),
        ("2029-01-01T07:00:00+09:00", 503, str(24 * 3600)),  # the Monday that is January 1 runs on
        ("2029-01-02T07:00:00+09:00", 200, None),
        ("2026-11-22T18:00:00Z", 503, str(4 * 3600)),  # KAIIN_CLOCK in UTC: Monday 03:00 JST
    ],
)
def test_window_edges_at_the_gate(app, client, moment, status, retry_after):
    at(app, moment)
    response = client.get("/login")
    assert response.status_code == status
    assert response.headers.get("retry-after") == retry_after


@pytest.mark.parametrize("tz", ["UTC", "America/Los_Angeles"])
def test_the_process_time_zone_changes_nothing(app, client, tz):
    before = os.environ.get("TZ")
    os.environ["TZ"] = tz
    time.tzset()
    try:
        at(app, MONDAY_3AM)
        response = client.get("/login")
        assert response.status_code == 503 and response.headers["retry-after"] == "14400"
        assert "2026年11月23日(月) 7:00" in response.text
        at(app, "2026-11-22T23:30:00+09:00")
        assert "2026年11月23日(月) 0:00〜7:00" in client.get("/login").text
    finally:
        os.environ.pop("TZ") if before is None else os.environ.update(TZ=before)
        time.tzset()


def test_banner_from_sixty_minutes_before(app, member_client):
    at(app, "2026-11-22T23:30:00+09:00")  # Sunday 23:30
    for path in ("/login", "/home"):
        response = member_client.get(path)
        assert response.status_code == 200
        assert 'id="maintenance-banner"' in response.text, path
        assert "2026年11月23日(月) 0:00〜7:00" in response.text, path
    banner = re.search(r'data-testid="maintenance-banner" data-value="([^"]+)"', response.text).group(1)
    assert datetime.fromisoformat(banner) == datetime(2026, 11, 23, tzinfo=JST)
    at(app, "2026-11-22T22:59:59+09:00")
    assert 'id="maintenance-banner"' not in member_client.get("/home").text
    at(app, "2026-11-22T23:00:00+09:00")
    assert 'id="maintenance-banner"' in member_client.get("/home").text
    fragment = member_client.get("/login?tab=id", headers=HTMX)
    assert "maintenance-banner" not in fragment.text, "the banner belongs to whole pages"


def test_an_operator_window_takes_effect_on_the_next_request(app, client, settings):
    at(app, "2026-11-25T14:10:00+09:00")
    assert client.get("/login").status_code == 200
    now = datetime(2026, 11, 25, 14, 10, tzinfo=JST)
    added = operator_change(stored.add_window(datetime(2026, 11, 25, 14, 0, tzinfo=JST),
                                              datetime(2026, 11, 25, 15, 30, tzinfo=JST), "回線工事", now=now))
    response = client.get("/login")
    assert response.status_code == 503 and response.headers["retry-after"] == str(80 * 60)
    assert "回線工事" in response.text and "2026年11月25日(水) 15:30" in response.text
    operator_change(stored.remove_window(added.id))
    assert client.get("/login").status_code == 200


@pytest.fixture
def window_reads(monkeypatch) -> list:
    """Every read of the operator windows the app makes (the gate's memo reads through this function)."""
    reads = []
    real = stored.operator_windows

    async def counted(now):
        reads.append(now)
        return await real(now)

    monkeypatch.setattr(stored, "operator_windows", counted)
    return reads


def test_the_gate_reads_the_operator_windows_again_only_when_they_changed(app, client, window_reads):
    for _ in range(5):
        assert client.get("/login").status_code == 200
    assert len(window_reads) == 1, "nothing changed: the windows read at the first request still hold"
    added = operator_change(stored.add_window(datetime(2026, 11, 20, 11, 0, tzinfo=JST),
                                              datetime(2026, 11, 20, 13, 0, tzinfo=JST), "緊急メンテナンス",
                                              now=datetime(2026, 11, 20, 11, 0, tzinfo=JST)))
    assert client.get("/login").status_code == 503 and len(window_reads) == 2
    assert client.get("/login").status_code == 503 and len(window_reads) == 2
    operator_change(stored.remove_window(added.id))
    assert client.get("/login").status_code == 200 and len(window_reads) == 3


def test_the_gate_reads_again_when_the_clock_is_before_its_last_read(app, client, window_reads):
    """Windows that had ended by the last read were not read: a clock set back must not miss them."""
    operator_change(stored.add_window(datetime(2026, 11, 20, 11, 0, tzinfo=JST),
                                      datetime(2026, 11, 20, 13, 0, tzinfo=JST), "緊急メンテナンス",
                                      now=datetime(2026, 11, 20, 11, 0, tzinfo=JST)))
    at(app, "2026-11-20T14:00:00+09:00")
    assert client.get("/login").status_code == 200
    at(app, "2026-11-20T12:30:00+09:00")
    assert client.get("/login").status_code == 503 and len(window_reads) == 2


def test_the_calendar_window_moves_in_as_time_passes_without_a_read(app, client, window_reads):
    """The weekly window starts at Monday 0:00 with nothing written: the laid-out calendar follows the clock."""
    at(app, "2026-11-22T23:59:59+09:00")
    assert client.get("/login").status_code == 200
    at(app, MONDAY_3AM)
    assert client.get("/login").status_code == 503 and len(window_reads) == 1


def test_without_a_change_signal_the_gate_reads_on_every_request(app, client, window_reads, monkeypatch):
    """PostgreSQL with its listener gone (or never connected): nothing says whether the windows changed."""
    monkeypatch.setattr(stored, "change_token", lambda: None)
    for _ in range(3):
        assert client.get("/login").status_code == 200
    assert len(window_reads) == 3


def test_an_operator_window_adjoining_the_weekly_one_extends_it(app, client):
    now = datetime(2026, 11, 23, 3, 0, tzinfo=JST)
    run(stored.add_window(datetime(2026, 11, 23, 7, 0, tzinfo=JST), datetime(2026, 11, 23, 9, 0, tzinfo=JST),
                          "システム更新", now=now))
    at(app, MONDAY_3AM)
    response = client.get("/login")
    assert response.headers["retry-after"] == str(6 * 3600)
    assert "2026年11月23日(月) 9:00" in response.text
    assert "定期メンテナンス・システム更新" in response.text


def test_maintenance_page_outside_a_window_lists_the_windows_ahead(app, client):
    response = client.get("/maintenance")  # Friday noon
    assert response.status_code == 200
    assert "現在、メンテナンスは行っていません" in response.text
    ahead = re.findall(r'data-testid="maintenance-ahead" data-value="([^"]+)"', response.text)
    assert [datetime.fromisoformat(value) for value in ahead] == [datetime(2026, 11, 23, tzinfo=JST)]
    assert "毎週月曜日 0:00〜7:00" in response.text


def test_login_page_states_the_schedule_from_the_settings(app, client, settings):
    at(app, "2026-11-24T12:00:00+09:00")
    assert "毎週月曜日 0:00〜7:00" in client.get("/login").text
    sunday = settings.replace(maintenance_weekday=6, maintenance_end_hour=5, clock="2026-11-22T03:00:00+09:00")
    with TestClient(create_app(sunday), base_url="http://testserver.local") as other:
        assert other.get("/login").status_code == 503, "Sunday 03:00 is now in the window"
        at(other.app, MONDAY_3AM)
        response = other.get("/login")
        assert response.status_code == 200 and "毎週日曜日 0:00〜5:00" in response.text
