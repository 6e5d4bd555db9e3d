"""Home and history partials: throughput against the framework floor, server time, and history with
100 vs 100,000 ledger rows (keyset paging must stay flat).

Run: ``.venv/bin/python -m tests.bench.home_history [postgresql://…/db]`` (SQLite part of ``make bench``). Prints markdown for
docs/benchmarks.md. Uses the demo members (the many-rows member with 100,000 rows) plus one member with
100 rows written the same way, signed in through the test-only sign-in route.
"""

from __future__ import annotations

import asyncio
import json
import statistics
import subprocess
import sys
import tempfile
import urllib.request
from pathlib import Path

from tests.bench.common import ROOT, bench_server, server_timing, wrk

HTMX = {"HX-Request": "true", "HX-Request-Type": "partial"}
SMALL_CARD = "6789012345"


async def _add_small_member(rows: int) -> int:
    """A member whose ledger has ``rows`` rows, written by the demo's bulk writer; returns the member id."""
    from datetime import datetime, timezone

    from db import accounts, demo_loans, engine, loans
    from db.engine import write_tx
    from db.hashing import SecretHasher
    from db.holidays import business_calendar
    from db.tables import Card, Contract, Member
    from web.clock import Clock
    from web.settings import ROOT as APP_ROOT, Settings

    settings = Settings.from_env()
    engine.configure(settings.database_url, root=APP_ROOT)
    now = Clock(settings.clock).now() if settings.clock else datetime.now(timezone.utc)
    policy = settings.loan_policy()
    hasher = SecretHasher(time_cost=1, memory_kib=1024, parallelism=1)
    new = accounts.NewMember(name="小林 百件", card_number=SMALL_CARD, pin="6789", credit_limit=1_000_000, rate=1500,
                             due_day="15", opened_on=now.date())
    await accounts.create_member(new, hasher=hasher, now=now)
    member_id = (await Card.select(Card.member).where(Card.card_number == SMALL_CARD).first())["member"]
    async with write_tx():
        contract = await Contract.select().where(Contract.member == member_id).first()
        member = await Member.select().where(Member.id == member_id).first()
        terms = loans.terms(contract, member, policy)
        built = demo_loans.heavy(terms, now.date(), policy, business_calendar(policy), rows=rows)
        await demo_loans.write(contract["id"], built, now)
    return member_id


def _member_ids(env: dict[str, str], rows: int) -> dict[str, int]:
    code = f"import asyncio, json; from tests.bench.home_history import _add_small_member; print(json.dumps(asyncio.run(_add_small_member({rows}))))"
    small = json.loads(subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                                      check=True).stdout)
    return {"on_time": 1, "heavy": 5, "small": small}  # demo members are created in order (db/demo.py)


def _session_cookie(base: str, member_id: int) -> str:
    """The cookies a signed-in browser sends: the session, and the CSRF cookie it got with the sign-in page
    (without it every response would mint and set a new CSRF cookie, which no browser makes the server do)."""
    cookies = []
    for method, path in (("GET", "/login"), ("POST", f"/_test/login/{member_id}")):
        with urllib.request.urlopen(urllib.request.Request(f"{base}{path}", method=method)) as response:
            cookies += [c.split(";", 1)[0] for c in response.headers.get_all("Set-Cookie") or []]
    return "; ".join(cookies)


def _first_id(base: str, headers: dict[str, str], query: str) -> int:
    request = urllib.request.Request(f"{base}/history/rows?{query}", headers=headers)
    with urllib.request.urlopen(request) as response:
        text = response.read().decode()
    return int(text.split('data-testid="history-row" data-value="', 1)[1].split('"', 1)[0])


async def _query_times(database_url: str, ids: dict[str, int], deep: int, count: int = 200) -> dict[str, float]:
    """Median milliseconds of each history query in-process (no HTTP): 100 vs 100,000 rows."""
    import time

    from db import engine, history
    from web.settings import ROOT as APP_ROOT

    engine.configure(database_url, root=APP_ROOT, pool_max=2)  # PostgreSQL: pooled, as the server reads
    await engine.start()
    oldest = (await history.months(ids["heavy"]))[-1]  # a month long past: every later row is newer
    cases = {
        "newest page, 100 rows": lambda: history.page(ids["small"]),
        "newest page, 100,000 rows": lambda: history.page(ids["heavy"]),
        "page half-way down, 100,000 rows": lambda: history.page(ids["heavy"], before=deep),
        "kind filter, 100,000 rows": lambda: history.page(ids["heavy"], kind="repayment"),
        "kind filter of rare kinds (corrections), 100,000 rows": lambda: history.page(ids["heavy"], kind="correction"),
        "oldest month, 100,000 rows": lambda: history.page(ids["heavy"], month=oldest),
        "month list, 100 rows": lambda: history.months(ids["small"]),
        "month list, 100,000 rows": lambda: history.months(ids["heavy"]),
    }
    out = {}
    for name, call in cases.items():
        samples = []
        for _ in range(count):
            start = time.perf_counter()
            await call()
            samples.append((time.perf_counter() - start) * 1000)
        out[name] = statistics.median(samples)
    await engine.stop()
    return out


def _in_turns(url: str, first: dict[str, str], second: dict[str, str], turns: int = 10) -> tuple[float, float]:
    """Server time p50 of ``url`` with two members' headers, taken in turns of 20 requests each (so that a slow
    stretch of the machine falls on both alike)."""
    samples: tuple[list[float], list[float]] = ([], [])
    for _ in range(turns):
        for out, headers in zip(samples, (first, second)):
            out.append(server_timing(url, count=20, headers=headers)["p50"])
    return statistics.median(samples[0]), statistics.median(samples[1])


def _median_run(runs: list[dict]) -> dict:
    return sorted(runs, key=lambda run: run["rps"])[len(runs) // 2]


def main(rounds: int = 5, seconds: int = 3) -> None:
    env = {"KAIIN_DEMO_BULK_ROWS": "100000", "KAIIN_ENV": "test"}  # test: templates not re-read per render
    if len(sys.argv) > 1:  # a PostgreSQL URL (its database is emptied first): the same runs on the pooled engine
        subprocess.run(["psql", sys.argv[1], "-qc", "DROP SCHEMA public CASCADE; CREATE SCHEMA public;"], check=True)
        env |= {"DATABASE_URL": sys.argv[1], "KAIIN_DB_POOL_MAX": "8"}
    with tempfile.TemporaryDirectory() as folder, bench_server(Path(folder), env,
                                                               command=("tests.browser.member_server",)) as server:
        ids = _member_ids(server.env, 100)
        base = f"http://127.0.0.1:{server.port}"
        cookie = {name: {"Cookie": _session_cookie(base, member_id), **HTMX} for name, member_id in ids.items()}
        deep = _first_id(base, cookie["heavy"], "") - 50_000  # a cursor half-way down 100,000 rows
        routes = [
            ("`/_bench/member` (member floor: gate, session, guard; constant body)", "/_bench/member",
             cookie["on_time"]),
            ("`/home/summary` (home partial)", "/home/summary", cookie["on_time"]),
            ("`/history/rows` (history partial, 100 rows)", "/history/rows", cookie["small"]),
            ("`/history/rows` (history partial, 100,000 rows)", "/history/rows", cookie["heavy"]),
            ("`/history/rows?before=…` (100,000 rows, half-way down)", f"/history/rows?before={deep}", cookie["heavy"]),
            ("`/history/rows?kind=repayment` (100,000 rows)", "/history/rows?kind=repayment", cookie["heavy"]),
        ]
        wrk(f"{base}/_bench/floor", seconds=2)  # warm-up
        shares: dict[str, list[float]] = {name: [] for name, _, _ in routes}
        runs: dict[str, list[dict]] = {name: [] for name, _, _ in routes}
        floors = []
        for _ in range(rounds):  # each route right after a floor run of its own: a load that comes and goes
            for name, path, headers in routes:  # on the machine (it does, by ±20% over seconds) hits both alike
                floors.append(wrk(f"{base}/_bench/floor", seconds=seconds))
                runs[name].append(wrk(f"{base}{path}", headers=headers, seconds=seconds))
                shares[name].append(runs[name][-1]["rps"] / floors[-1]["rps"] * 100)
        results = [(name, _median_run(runs[name]), server_timing(f"{base}{path}", headers=headers))
                   for name, path, headers in routes]
        floor = _median_run(floors)
        small, heavy = _in_turns(f"{base}/history/rows", cookie["small"], cookie["heavy"])
        queries = asyncio.run(_query_times(server.env["DATABASE_URL"], ids, deep))
    print(f"Share of the floor: the median of {rounds} rounds, each route's {seconds} s run against the floor's "
          f"{seconds} s run just before it (range in brackets); req/s and latencies: the median run.\n")
    print("| route | req/s | of floor | p50 ms | p99 ms | server p50 ms | server p95 ms |\n|---|---|---|---|---|---|---|")
    print(f"| `/_bench/floor` (trivial route) | {floor['rps']:,.0f} | 100% | {floor['latency_ms'].get('50', 0):.1f} "
          f"| {floor['latency_ms'].get('99', 0):.1f} | | |")
    for name, result, timing in results:
        assert all(run["errors"] == 0 for run in runs[name]), (name, runs[name])
        share = shares[name]
        lat = result["latency_ms"]
        print(f"| {name} | {result['rps']:,.0f} | {statistics.median(share):.0f}% ({min(share):.0f}–{max(share):.0f}) "
              f"| {lat.get('50', 0):.1f} | {lat.get('99', 0):.1f} | {timing['p50']:.2f} | {timing['p95']:.2f} |")
    print(f"\nhistory partial, server time p50 (in turns of 20 requests, 200 each): 100,000 rows "
          f"{heavy:.3f} ms / 100 rows {small:.3f} ms = {heavy / small:.2f}× (budget ≤ 1.5×)")
    print("\n| history query, in-process | median ms |\n|---|---|")
    for name, ms in queries.items():
        print(f"| {name} | {ms:.2f} |")
    ratio = queries["newest page, 100,000 rows"] / queries["newest page, 100 rows"]
    print(f"\nnewest page, 100,000 rows / 100 rows (in-process) = {ratio:.2f}×")


if __name__ == "__main__":
    main()
