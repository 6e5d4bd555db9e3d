"""What the maintenance gate costs: ``uv run python -m tests.bench.maintenance_gate`` (results: docs/benchmarks.md).

1. In process, per engine: ``web.maintenance.status_at`` (the gate's whole work: one indexed read of the
   operator windows not yet ended, plus the calendar) with an empty table and with 10,000 ended windows.
2. Over HTTP, per engine, one ``kaiin serve`` process: ``/_bench/gated`` (a trivial route behind the gate)
   against ``/_bench/floor`` (the same route, exempt), side by side, interleaved; requests per second and the
   p50/p95 of ``Server-Timing``.
PostgreSQL: ``KAIIN_BENCH_POSTGRES`` (default postgresql://postgres@127.0.0.1:5432/kaiin_bench, reset each run).
"""

from __future__ import annotations

import asyncio
import http.client
import os
import statistics
import tempfile
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg

from db import engine
from db.tables import MaintenanceWindow
from tests.browser.conftest import running_server
from web.maintenance import status_at
from web.settings import ROOT, Settings

POSTGRES = os.environ.get("KAIIN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/kaiin_bench")
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)  # Friday noon JST
CALLS = 2000
SECONDS = 5
CLIENTS = 4


async def _reset_postgres() -> None:
    base, name = POSTGRES.rsplit("/", 1)
    admin = await asyncpg.connect(f"{base}/postgres")
    try:
        if not await admin.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name):
            await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    conn = await asyncpg.connect(POSTGRES)
    try:
        await conn.execute("DROP SCHEMA public CASCADE; CREATE SCHEMA public;")
    finally:
        await conn.close()


async def _in_process(url: str) -> dict[str, float]:
    engine.configure(url, root=ROOT, pool_max=4)
    await engine.migrate()
    await engine.start()
    settings = Settings(database_url=url)
    results = {}
    try:
        for label, past in (("empty table", 0), ("10,000 ended windows", 10_000)):
            rows = [MaintenanceWindow(starts_at=NOW - timedelta(days=i + 1, hours=2), ends_at=NOW - timedelta(days=i + 1),
                                      reason="過去", created_at=NOW) for i in range(past)]
            for start in range(0, len(rows), 1000):
                await MaintenanceWindow.insert(*rows[start:start + 1000])
            for _ in range(50):
                await status_at(NOW, settings)
            samples = []
            for _ in range(CALLS):
                began = time.perf_counter()
                await status_at(NOW, settings)
                samples.append(time.perf_counter() - began)
            results[label] = statistics.median(samples) * 1e6
    finally:
        await engine.stop()
    return results


def _load(port: int, path: str, seconds: float) -> tuple[int, list[float]]:
    count, timings, lock, stop = [0], [], threading.Lock(), time.monotonic() + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        done, mine = 0, []
        while time.monotonic() < stop:
            conn.request("GET", path)
            response = conn.getresponse()
            response.read()
            assert response.status == 200, response.status
            mine.append(float(response.headers["Server-Timing"].split("dur=")[1]))
            done += 1
        with lock:
            count[0] += done
            timings.extend(mine)
        conn.close()

    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return count[0], timings


def _over_http(url: str, folder: Path) -> dict[str, tuple[float, float, float]]:
    env = {"DATABASE_URL": url, "KAIIN_BENCH_ROUTES": "1", "KAIIN_DB_POOL_MAX": "4"}
    totals: dict[str, list] = {"/_bench/floor": [0, []], "/_bench/gated": [0, []]}
    with running_server(folder, env, demo=False) as server:
        _load(server.port, "/_bench/gated", 1)  # warm up
        for _ in range(2):
            for path in totals:
                count, timings = _load(server.port, path, SECONDS)
                totals[path][0] += count
                totals[path][1] += timings
    out = {}
    for path, (count, timings) in totals.items():
        timings.sort()
        out[path] = (count / (2 * SECONDS), timings[len(timings) // 2], timings[int(len(timings) * 0.95)])
    return out


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        asyncio.run(_reset_postgres())
        for name, url in (("SQLite", sqlite), ("PostgreSQL", POSTGRES)):
            for label, micros in asyncio.run(_in_process(url)).items():
                print(f"{name}: status_at, {label}: {micros:.0f} µs per request (median of {CALLS})")
        asyncio.run(_reset_postgres())
        for name, url in (("SQLite", f"sqlite:///{Path(tmp) / 'http.sqlite3'}"), ("PostgreSQL", POSTGRES)):
            results = _over_http(url, Path(tmp) / name)
            floor, gated = results["/_bench/floor"], results["/_bench/gated"]
            print(f"{name}: floor {floor[0]:.0f} req/s (p50 {floor[1]:.2f} ms, p95 {floor[2]:.2f} ms); "
                  f"gated {gated[0]:.0f} req/s (p50 {gated[1]:.2f} ms, p95 {gated[2]:.2f} ms); "
                  f"gated/floor = {gated[0] / floor[0]:.2f}")


if __name__ == "__main__":
    main()
