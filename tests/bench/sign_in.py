"""Sign-in latency, each way in, with and without one address hammering /login/card with wrong PINs.

Run: ``.venv/bin/python -m tests.bench.sign_in`` (a few minutes on 2 cores; also part of ``make bench``). It
starts real ``kaiin serve`` processes on 127.0.0.1 pinned to CPU 0 (SQLite, production Argon2id parameters),
behind a pretend proxy so that each request can carry its own client address in ``X-Forwarded-For``
(``KAIIN_TRUSTED_PROXIES=127.0.0.1``); this client runs on CPU 1. Every loop is bounded. Latency is measured
by the client around the sign-in POST; server time is the app's ``Server-Timing``. Prints Markdown rows.
"""

from __future__ import annotations

import asyncio
import os
import re
import statistics
import tempfile
import time
from pathlib import Path

import httpx

from tests.bench.common import bench_server

SIGN_INS = 20  #: legitimate sign-ins measured per row
ATTACKERS = 8  #: concurrent connections of the one hammering address
ATTACK_LIMIT = 5000  #: hard cap on attack requests per row


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


async def _form(client: httpx.AsyncClient, path: str, data: dict, ip: str) -> httpx.Response:
    return await client.post(path, data={**data, "_csrf_token": client.cookies["csrftoken"]},
                             headers={"X-Forwarded-For": ip})


async def _legit(base: str, way: str, n: int) -> tuple[list[float], list[float]]:
    """Sign in ``n`` times, each from its own address and browser: client seconds and server ms per POST."""
    timings, server_ms = [], []
    for i in range(n):
        ip = f"198.51.100.{i % 250 + 1}"
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            await client.get("/login", headers={"X-Forwarded-For": ip})
            if way == "card":
                path, data = "/login/card", {"card_number": "1234567890", "pin": "1234"}
            else:
                path, data = "/login/id", {"login_id": "taro2024", "password": "kaiin-demo-pass"}
            started = time.perf_counter()
            response = await _form(client, path, data, ip)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 303, (way, response.status_code)
            server_ms.append(float(re.search(r"app;dur=([0-9.]+)", response.headers["server-timing"]).group(1)))
    return timings, server_ms


async def _hammer(base: str, stop: asyncio.Event) -> dict[int, int]:
    """One address posting wrong PINs for sequential card numbers until ``stop`` (or the cap)."""
    statuses: dict[int, int] = {}
    sent = 0

    async def worker(k: int) -> None:
        nonlocal sent
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:
            await client.get("/login", headers={"X-Forwarded-For": "203.0.113.66"})
            while not stop.is_set() and sent < ATTACK_LIMIT:
                sent += 1
                card = f"{9000000000 + sent:010d}"  # not the measured member's card: locking it is another test
                response = await _form(client, "/login/card", {"card_number": card, "pin": f"{sent % 10000:04d}"},
                                       "203.0.113.66")
                statuses[response.status_code] = statuses.get(response.status_code, 0) + 1

    await asyncio.gather(*(worker(k) for k in range(ATTACKERS)))
    return statuses


async def _row(base: str, way: str, attack: bool) -> tuple[tuple[list[float], list[float]], dict[int, int]]:
    if not attack:
        return await _legit(base, way, SIGN_INS), {}
    stop = asyncio.Event()
    hammer = asyncio.create_task(_hammer(base, stop))
    await asyncio.sleep(1.0)  # let the attack reach its steady state
    measured = await _legit(base, way, SIGN_INS)
    stop.set()
    return measured, await hammer


def _line(label: str, measured: tuple[list[float], list[float]], statuses: dict[int, int]) -> str:
    timings, server_ms = measured
    median, p95 = statistics.median(timings) * 1000, _percentile(timings, 0.95) * 1000
    attack = ", ".join(f"{code}×{count}" for code, count in sorted(statuses.items())) or "—"
    server = f"{statistics.median(server_ms):.0f} / {_percentile(server_ms, 0.95):.0f} ms"
    return f"| {label} | {len(timings)} | {median:.0f} ms | {p95:.0f} ms | {server} | {attack} |"


async def _measure(base: str, throttled: bool) -> list[str]:
    lines = []
    suffix = "" if throttled else " (throttle off)"
    if throttled:
        for way in ("card", "id"):
            measured, _ = await _row(base, way, attack=False)
            lines.append(_line(f"sign-in, {way}, no attack", measured, {}))
    for way in ("card",):
        measured, statuses = await _row(base, way, attack=True)
        lines.append(_line(f"sign-in, {way}, one IP hammering /login/card{suffix}", measured, statuses))
    return lines


def main() -> None:
    env = {
        "KAIIN_ENV": "test", "KAIIN_TRUSTED_PROXIES": "127.0.0.1",
        "KAIIN_ARGON2_TIME_COST": "3", "KAIIN_ARGON2_MEMORY_KIB": "65536",  # production parameters
    }
    rows = []
    if hasattr(os, "sched_setaffinity") and os.cpu_count() and os.cpu_count() > 1:
        os.sched_setaffinity(0, {1})  # the server has CPU 0
    with tempfile.TemporaryDirectory() as tmp:
        with bench_server(Path(tmp) / "throttled", env) as server:
            rows += asyncio.run(_measure(f"http://127.0.0.1:{server.port}", throttled=True))
        with bench_server(Path(tmp) / "open", {**env, "KAIIN_LOGIN_THROTTLE_MAX": "1000000"}) as server:
            rows += asyncio.run(_measure(f"http://127.0.0.1:{server.port}", throttled=False))
    print("| what | sign-ins | median | p95 | server median / p95 | attack responses |")
    print("|---|---|---|---|---|---|")
    print("\n".join(rows))


if __name__ == "__main__":
    main()
