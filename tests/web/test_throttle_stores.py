"""The per-IP throttle counters are shared: database rows on both engines, or Redis when REDIS_URL is set."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest

from tests.auth_helpers import run
from web.throttle import DatabaseThrottle, RedisThrottle

NOW = datetime(2026, 11, 22, 3, 0, 10, tzinfo=timezone.utc)


def _exercise(first, second) -> None:
    """Two stores standing for two processes: they count together, and give back together."""
    async def flow():
        seen = []
        for store in (first, second, first):
            seen.append(await store.hit("login:198.51.100.7", now=NOW, limit=2, window_seconds=60))
        other = await second.hit("login:198.51.100.8", now=NOW, limit=2, window_seconds=60)
        await first.give_back("login:198.51.100.7", now=NOW, window_seconds=60)
        again = await second.hit("login:198.51.100.7", now=NOW, limit=2, window_seconds=60)
        later = await first.hit("login:198.51.100.7", now=NOW + timedelta(seconds=60), limit=2, window_seconds=60)
        return seen, other, again, later

    seen, other, again, later = run(flow())
    assert [d.allowed for d in seen] == [True, True, False]
    assert seen[2].retry_after == 50
    assert other.allowed, "addresses are counted apart"
    assert not again.allowed and again.count == 3, "a give-back returns one attempt"
    assert later.allowed and later.count == 1, "a new window starts from zero"


def test_database_counters_are_shared(database_url):
    _exercise(DatabaseThrottle(), DatabaseThrottle())


@pytest.fixture
def redis_url(tmp_path):
    server = shutil.which("redis-server")
    if not server:
        pytest.skip("redis-server is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen([server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                                "--dir", str(tmp_path)], stdout=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_redis_counters_are_shared(redis_url):
    _exercise(RedisThrottle(redis_url), RedisThrottle(redis_url))
