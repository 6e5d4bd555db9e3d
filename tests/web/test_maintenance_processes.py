"""Two app processes on one database agree on maintenance the moment an operator adds or removes a window."""

from __future__ import annotations

import urllib.error
import urllib.request

import pytest

from tests.browser.conftest import running_server

pytestmark = pytest.mark.slow


def _get(server, path: str) -> tuple[int, str | None]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.port}{path}", timeout=10) as response:
            return response.status, response.headers.get("Retry-After")
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Retry-After")


def test_two_processes_agree(database_url, tmp_path):
    env = {"DATABASE_URL": database_url}  # the test clock: Friday 2026-11-20 12:00 JST, outside the calendar
    with running_server(tmp_path / "a", env, demo=False) as a, running_server(tmp_path / "b", env, demo=False) as b:
        assert [_get(server, "/login") for server in (a, b)] == [(200, None), (200, None)]
        out = a.kaiin("maintenance", "add", "--start", "2026-11-20T11:30", "--end", "2026-11-20T13:00",
                      "--reason", "緊急メンテナンス")
        assert "ID 1" in out
        assert [_get(server, "/login") for server in (a, b)] == [(503, "3600"), (503, "3600")]
        assert [_get(server, "/healthz")[0] for server in (a, b)] == [200, 200]
        b.kaiin("maintenance", "remove", "1")
        assert [_get(server, "/login") for server in (a, b)] == [(200, None), (200, None)]
