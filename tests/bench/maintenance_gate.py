"""What the maintenance gate costs: ``uv run python -m tests.bench.maintenance_gate`` (results: docs/benchmarks.md).

1. In process, per engine: ``web.maintenance.status_at`` (everything afresh: one indexed read of the operator
   windows not yet ended, plus the calendar) and ``GateMemo.status`` (what the gate runs: the windows kept until
   the database says they changed, the calendar laid out per stretch), with an empty table and with 10,000
   ended windows.
2. Over HTTP, per engine, one ``kaiin serve`` process (tests/bench/common.py: pinned, wrk): ``/_bench/gated``
   (a trivial route behind the gate) against ``/_bench/floor`` (the same route, exempt), side by side;
   requests per second, and the p50/p95 of ``Server-Timing`` over sequential requests.
PostgreSQL: ``KAIIN_BENCH_POSTGRES`` (default postgresql://postgres@127.0.0.1:5432/kaiin_bench, reset each run).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import asyncpg

from db import engine
from db.tables import MaintenanceWindow
from tests.bench.common import bench_server, row, server_timing, wrk
from web.maintenance import GateMemo, status_at
from web.settings import ROOT, Settings

POSTGRES = os.environ.get("KAIIN_BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432/kaiin_bench")
NOW = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)  # Friday noon JST
CALLS = 2000


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
            await engine.engine().run_ddl("ANALYZE maintenance_window")  # as autovacuum would, after a bulk load
            memo = GateMemo(settings.maintenance_policy())
            for name, call in (("status_at", lambda: status_at(NOW, settings)), ("GateMemo.status", lambda: memo.status(NOW))):
                for _ in range(50):
                    await call()
                samples = []
                for _ in range(CALLS):
                    began = time.perf_counter()
                    await call()
                    samples.append(time.perf_counter() - began)
                results[f"{name}, {label}"] = statistics.median(samples) * 1e6
    finally:
        await engine.stop()
    return results


def _over_http(url: str, folder: Path) -> list[str]:
    rows = []
    with bench_server(folder, {"DATABASE_URL": url, "KAIIN_DB_POOL_MAX": "4"}, demo=False) as server:
        floor_url, gated_url = f"{server.url}/_bench/floor", f"{server.url}/_bench/gated"
        wrk(gated_url, seconds=2)  # warm up
        floor, gated = wrk(floor_url), wrk(gated_url)
        timing_floor, timing_gated = server_timing(floor_url), server_timing(gated_url)
        rows.append(row("`/_bench/floor` (exempt: no gate)", floor, floor)
                    + f" {timing_floor['p50']:.2f} / {timing_floor['p95']:.2f} |")
        rows.append(row("`/_bench/gated` (same route behind the gate)", gated, floor)
                    + f" {timing_gated['p50']:.2f} / {timing_gated['p95']:.2f} |")
    return rows


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = f"sqlite:///{Path(tmp) / 'bench.sqlite3'}"
        asyncio.run(_reset_postgres())
        for name, url in (("SQLite", sqlite), ("PostgreSQL", POSTGRES)):
            for label, micros in asyncio.run(_in_process(url)).items():
                print(f"{name}: {label}: {micros:.1f} µs per request (median of {CALLS})")
        asyncio.run(_reset_postgres())
        print("| engine, route | req/s | of floor | wrk p50 ms | wrk p99 ms | server p50 / p95 ms |")
        print("|---|---|---|---|---|---|")
        for name, url in (("SQLite", f"sqlite:///{Path(tmp) / 'http.sqlite3'}"), ("PostgreSQL", POSTGRES)):
            for line in _over_http(url, Path(tmp) / name):
                print(line.replace("| `", f"| {name}, `", 1))

if __name__ == "__main__":
    main()
