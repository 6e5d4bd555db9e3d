"""Item 1 across processes: two real ``kaiin serve`` processes sharing one PostgreSQL database.

Twenty wrong PINs, ten at each process, all at once: the reserve-then-verify counter lets at most three
reach the verifier (each verified attempt is audited as ``failed``, the others as ``locked``), and the PIN
ends locked. Then the right PIN, at either process, gets the wrong-PIN answer.
"""

from __future__ import annotations

import asyncio
import os

import asyncpg
import httpx
import pytest

from tests.browser.conftest import Server

pytestmark = pytest.mark.slow

BASE = os.environ.get("KAIIN_TEST_POSTGRES", "postgresql://postgres@127.0.0.1:5432/test")


async def _fresh_database(url: str) -> None:
    admin_url, name = url.rsplit("/", 1)
    conn = await asyncpg.connect(f"{admin_url}/postgres")
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


@pytest.fixture
def two_servers(tmp_path):
    if "postgres" not in os.environ.get("KAIIN_TEST_ENGINES", "sqlite,postgres"):
        pytest.skip("PostgreSQL is not among KAIIN_TEST_ENGINES")
    url = f"{BASE}_two_processes"
    asyncio.run(_fresh_database(url))
    shared = {
        "DATABASE_URL": url, "KAIIN_DATA_DIR": str(tmp_path / "shared-data"), "KAIIN_ENV": "test",
        "KAIIN_SECRET_KEY": "two-processes-" + "s" * 40, "KAIIN_DB_POOL_MAX": "12",
        "KAIIN_LOGIN_THROTTLE_MAX": "1000",  # the per-IP throttle is not what is under test here
    }
    servers = [Server(tmp_path / f"server-{n}", shared, demo=False) for n in (1, 2)]
    try:
        for server in servers:
            server.start()
        servers[0].kaiin("member", "create", "--card", "1234567890", "--pin", "1234", "--email", "taro@example.jp")
        yield servers, url
    finally:
        for server in servers:
            server.stop()


async def _client(server: Server) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=f"http://127.0.0.1:{server.port}", timeout=60)
    await client.get("/login")
    return client


async def _attack(servers: list[Server]) -> tuple[list[int], int]:
    clients = [await _client(server) for server in servers]
    try:
        async def guess(client: httpx.AsyncClient, pin: str) -> int:
            token = client.cookies["csrftoken"]
            response = await client.post("/login/card", data={"card_number": "1234567890", "pin": pin,
                                                               "_csrf_token": token})
            return response.status_code

        guesses = [guess(clients[n % 2], f"{5000 + n:04d}") for n in range(20)]
        statuses = await asyncio.gather(*guesses)
        right = [await guess(client, "1234") for client in clients]
        return list(statuses) + right, len(statuses)
    finally:
        for client in clients:
            await client.aclose()


async def _counts(url: str) -> tuple[int, int, dict]:
    conn = await asyncpg.connect(url)
    try:
        verified = await conn.fetchval(
            "SELECT count(*) FROM audit_event WHERE action = 'login_card' AND outcome = 'failed'")
        refused = await conn.fetchval(
            "SELECT count(*) FROM audit_event WHERE action = 'login_card' AND outcome = 'locked'")
        pin = await conn.fetchrow("SELECT failed_count, locked_at FROM credential WHERE kind = 'pin'")
        return verified, refused, dict(pin)
    finally:
        await conn.close()


def test_twenty_parallel_wrong_pins_across_two_processes_verify_at_most_three(two_servers):
    servers, url = two_servers
    statuses, _ = asyncio.run(_attack(servers))
    assert statuses == [401] * 22, "every guess, and then the right PIN, gets the same answer"
    verified, refused, pin = asyncio.run(_counts(url))
    assert verified == 3, "three attempts reached the verifier, across both processes"
    assert refused == 19, "seventeen guesses and the two right PINs were refused without verification"
    assert pin["failed_count"] == 3 and pin["locked_at"] is not None
