"""Shared fixtures. Database tests run once per engine: SQLite, and PostgreSQL at KAIIN_TEST_POSTGRES.

Tables come from the real migrations: a migrated SQLite template copied per test, and a PostgreSQL database
migrated once per run and truncated per test.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import sqlite3
from contextlib import closing
from datetime import date, datetime, timezone
from pathlib import Path

os.environ.setdefault("PICCOLO_CONF", "db.piccolo_conf")

import asyncpg
import pytest
from litestar import Request, Response, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.testing import TestClient

from db import accounts, engine, tables
from web.app import create_app, hasher
from web.security import start_session
from web.settings import Settings

ENGINES = [name for name in os.environ.get("KAIIN_TEST_ENGINES", "sqlite,postgres").split(",") if name]
POSTGRES_URL = os.environ.get("KAIIN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")
ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "tests" / "artifacts"
#: The app's clock in tests: a Friday noon in Tokyo, outside every maintenance window, so the suite gives the
#: same answers on any day (a test that needs another moment sets ``app.state.clock``).
TEST_CLOCK = "2026-11-20T12:00:00+09:00"


def run(coro):
    """Run a coroutine from a synchronous test (the app under TestClient runs on its own loop)."""
    return asyncio.run(coro)


async def _migrate(url: str) -> None:
    engine.configure(url, root=ROOT)
    await engine.migrate()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("sqlite") / "template.sqlite3"
    run(_migrate(f"sqlite:///{path}"))
    return path


@pytest.fixture(scope="session")
def postgres_migrated() -> str:
    async def reset() -> None:
        conn = await asyncpg.connect(POSTGRES_URL)
        try:
            await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
        finally:
            await conn.close()
        await _migrate(POSTGRES_URL)

    run(reset())
    return POSTGRES_URL


async def _truncate(url: str) -> None:
    names = ", ".join(f'"{table._meta.tablename}"' for table in tables.ALL_TABLES)
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(f"TRUNCATE {names} RESTART IDENTITY CASCADE")
    finally:
        await conn.close()


@pytest.fixture(params=ENGINES)
def database_url(request, tmp_path) -> str:
    """A fresh, migrated database for this test, on each engine in turn."""
    if request.param == "sqlite":
        target = tmp_path / "kaiin.sqlite3"
        shutil.copy(request.getfixturevalue("sqlite_template"), target)
        with closing(sqlite3.connect(target)) as connection:  # as db.engine.start() leaves it when the app starts
            connection.execute("PRAGMA journal_mode=WAL")
        url = f"sqlite:///{target}"
    else:
        url = request.getfixturevalue("postgres_migrated")
        run(_truncate(url))
    engine.configure(url, root=ROOT)
    return url


@pytest.fixture
def settings(database_url, tmp_path) -> Settings:
    return Settings(
        env="test",
        database_url=database_url,
        data_dir=str(tmp_path / "data"),
        secret_key="test-secret-" + "x" * 32,
        db_pool_max=0,
        allowed_hosts=("testserver.local", "localhost", "127.0.0.1"),
        public_origin="http://testserver.local",
        argon2_time_cost=1,
        argon2_memory_kib=1024,
        clock=TEST_CLOCK,
    )


@post("/_test/login/{member_id:int}", opt={"exclude_from_csrf": True, "maintenance": "exempt"})
async def _test_login(request: Request, member_id: FromPath[int], now: NamedDependency[datetime]) -> Response:
    """Test-only sign-in: starts a session the way real sign-in does (new id, timestamps)."""
    stamp = now.isoformat()
    await start_session(request, {"member_id": member_id, "auth_at": stamp, "seen_at": stamp, "method": "test"})
    return Response(b"", status_code=204)


@pytest.fixture
def app(settings):
    return create_app(settings, extra_route_handlers=[_test_login])


@pytest.fixture
def client(app):
    with TestClient(app, base_url="http://testserver.local") as test_client:
        yield test_client


def csrf_token(client: TestClient) -> str:
    """The CSRF token for ``client``; fetched from the sign-in page when the cookie is not set yet."""
    token = client.cookies.get("csrftoken")
    if not token:
        client.get("/login")
        token = client.cookies.get("csrftoken")
    return token


def make_member(settings: Settings, **changes) -> int:
    """Create a member (defaults: card 1234567890, PIN 1234, ¥500,000 at 17.8%); return the member id."""
    fields = dict(
        name="山田 太郎", card_number="1234567890", pin="1234", web_id="taro2024", password="correct-horse",
        email="taro@example.jp", birth_date=date(1990, 4, 1), credit_limit=500_000, rate=1780, due_day="5",
        opened_on=date(2026, 1, 5),
    )
    fields.update(changes)
    now = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)

    async def create() -> int:
        await accounts.create_member(accounts.NewMember(**fields), hasher=hasher(settings), now=now)
        card = await tables.Card.select(tables.Card.member).where(tables.Card.card_number == fields["card_number"]).first()
        return card["member"]

    return run(create())


def sign_in(client: TestClient, member_id: int) -> None:
    response = client.post(f"/_test/login/{member_id}")
    assert response.status_code == 204
