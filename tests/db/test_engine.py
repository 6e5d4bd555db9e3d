"""The engine layer on both engines: migrations, write transactions, atomic conditional updates."""

from __future__ import annotations

import asyncio
from datetime import date, datetime, timedelta, timezone

import asyncpg
import pytest

from db import engine
from db.tables import ALL_TABLES, Contract, Member

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)


async def _member(no: str = "00000001") -> int:
    member = Member(member_no=no, name="テスト", created_at=NOW)
    await member.save()
    return member.id


async def test_migrations_create_every_table(database_url):
    for table in ALL_TABLES:
        assert await table.count() == 0, table._meta.tablename


async def test_money_columns_hold_large_integer_yen_and_aware_times(database_url):
    member_id = await _member()
    contract = Contract(member=member_id, contract_no="C1", opened_on=date(2026, 1, 5), credit_limit=5_000_000,
                        rate=1780, due_day="5", principal=4_999_999_999)
    await contract.save()
    row = await Contract.select().where(Contract.id == contract.id).first()
    assert row["principal"] == 4_999_999_999 and isinstance(row["principal"], int)
    created = (await Member.select(Member.created_at).first())["created_at"]
    assert created == NOW and created.tzinfo is not None


async def test_write_tx_rolls_back_everything_on_error(database_url):
    with pytest.raises(RuntimeError):
        async with engine.write_tx():
            await _member("00000002")
            raise RuntimeError("boom")
    assert await Member.count() == 0


async def test_parallel_conditional_updates_never_overshoot(database_url):
    """Five parallel reservations of 30,000 from 100,000: three succeed, the balance never goes negative."""
    member_id = await _member()
    contract = Contract(member=member_id, contract_no="C1", opened_on=date(2026, 1, 5), credit_limit=100_000,
                        rate=1780, due_day="5", principal=0)
    await contract.save()

    async def reserve() -> bool:
        async with engine.write_tx():
            rows = await Contract.update({Contract.principal: Contract.principal + 30_000}).where(
                (Contract.id == contract.id) & (Contract.principal <= 100_000 - 30_000)
            ).returning(Contract.principal)
            return bool(rows)

    results = await asyncio.gather(*[reserve() for _ in range(5)])
    assert results.count(True) == 3
    assert (await Contract.select(Contract.principal).first())["principal"] == 90_000


async def test_health_ping_reports_a_dead_database_without_raising(database_url):
    assert await engine.ping() is True
    engine.configure("postgresql://nobody@127.0.0.1:1/none")
    assert await engine.ping() is False


async def test_reads_outside_a_transaction_see_every_commit_at_once(database_url, monkeypatch):
    """SQLite reads run on a kept connection (no connection and thread per query); they must still see each
    commit made by other connections, and a transaction must still see its own uncommitted rows."""
    import aiosqlite

    first = await _member("00000011")
    opened = []
    connect = aiosqlite.connect
    monkeypatch.setattr(aiosqlite, "connect", lambda *args, **kwargs: opened.append(1) or connect(*args, **kwargs))
    assert [row["id"] for row in await Member.select(Member.id)] == [first]
    async with engine.write_tx():  # another connection commits
        second = await _member("00000012")
        assert {row["id"] for row in await Member.select(Member.id)} == {first, second}, "own rows in the tx"
    assert {row["id"] for row in await Member.select(Member.id)} == {first, second}
    await Member.delete().where(Member.id == first)  # a write outside a transaction
    assert [row["id"] for row in await Member.select(Member.id)] == [second]
    if not engine.is_postgres():
        before = len(opened)
        for _ in range(20):
            await Member.select(Member.id)
        assert len(opened) == before, "reads outside a transaction open no connection"


async def test_rows_read_back_with_their_types(database_url):
    """Integers, dates and aware times come back as such on both engines (SQLite returns integers natively and
    reads dates and times with converters of our own, faster than Piccolo's), and a number written as text to
    an INTEGER column reads as an integer (the column's affinity stores it as one)."""
    member_id = await _member("00000021")
    contract = Contract(member=member_id, contract_no="C21", opened_on=date(2028, 2, 29), credit_limit=500_000,
                        rate=1780, due_day="5", principal=0)
    await contract.save()
    row = (await Contract.raw("SELECT member, opened_on, credit_limit FROM contract WHERE id = {}", contract.id))[0]
    assert row == {"member": member_id, "opened_on": date(2028, 2, 29), "credit_limit": 500_000}
    assert type(row["member"]) is int
    created = (await Member.select(Member.created_at).where(Member.id == member_id).first())["created_at"]
    assert created == NOW and created.utcoffset() == timedelta(0)
    if not engine.is_postgres():
        await Member.raw("UPDATE member SET session_epoch = '3.0' WHERE id = {}", member_id)
        assert (await Member.select(Member.session_epoch).where(Member.id == member_id).first()) == {"session_epoch": 3}


async def _two_members() -> tuple[int, int]:
    return await _member("00000031"), await _member("00000032")


@pytest.mark.parametrize("pooled", [False, True], ids=["no pool", "pool"])
async def test_fetch_reads_what_table_raw_reads(database_url, pooled):
    """The per-request read path gives Piccolo's rows (as dicts, or tuples in select-list order), with or
    without a PostgreSQL pool, and ``{}`` placeholders in the same places."""
    if pooled:
        engine.configure(database_url, pool_max=2)
        await engine.start()
    try:
        first, second = await _two_members()
        sql = "SELECT id, member_no, created_at FROM member WHERE id >= {} AND id <= {} ORDER BY id"
        expected = await Member.raw(sql, first, second)
        assert await engine.fetch(sql, first, second) == expected
        assert await engine.fetch(sql, first, second, tuples=True) == [tuple(row.values()) for row in expected]
        assert await engine.fetch("SELECT id FROM member WHERE id = {}", 0) == []
        with pytest.raises(ValueError):
            await engine.fetch("DELETE FROM member WHERE id = {}", first)
        assert len(await engine.fetch(sql, first, second)) == 2
    finally:
        if pooled:
            await engine.stop()


async def test_fetch_inside_a_transaction_reads_on_its_connection(database_url):
    """Inside ``write_tx()`` a read sees the transaction's own uncommitted rows (it runs on its connection)."""
    async with engine.write_tx():
        member_id = await _member("00000033")
        rows = await engine.fetch("SELECT member_no FROM member WHERE id = {}", member_id)
        assert rows == [{"member_no": "00000033"}]
        assert await engine.fetch("SELECT member_no FROM member WHERE id = {}", member_id, tuples=True) == [("00000033",)]


async def test_the_change_token_moves_when_maintenance_windows_change(database_url):
    """SQLite: any commit by another connection moves ``PRAGMA data_version``. PostgreSQL: the windows table's
    trigger notifies this process's listener (started with the engine). Without a listener: None."""
    from db import maintenance

    if engine.is_postgres():
        assert engine.change_token() is None, "no listener before start(): the gate must read every time"
        await engine.start()
    try:
        before = engine.change_token()
        assert before is not None and engine.change_token() == before, "nothing written: the token holds"
        await maintenance.add_window(NOW + timedelta(days=1), NOW + timedelta(days=1, hours=1), "点検", now=NOW)
        for _ in range(200):  # PostgreSQL: the notification arrives on the listener's connection after commit
            if engine.change_token() != before:
                break
            await asyncio.sleep(0.01)
        assert engine.change_token() != before
    finally:
        if engine.is_postgres():
            await engine.stop()
    if engine.is_postgres():
        assert engine.change_token() is None


async def test_the_member_read_is_remembered_only_while_nothing_is_committed(database_url):
    """``member_by_id``: on SQLite the row is given again without its statement while ``PRAGMA data_version``
    (read at each call) says nothing was committed, as a dict of the caller's own; after any commit, and inside a
    transaction (its own uncommitted rows), it is read. On PostgreSQL every call reads."""
    from db import accounts

    member_id = await _member("00000041")
    statements: list[str] = []
    reader = None if engine.is_postgres() else engine.engine()._reader()
    if reader is not None:
        reader.set_trace_callback(statements.append)

    def member_reads() -> list[str]:
        reads = [s for s in statements if "FROM member" in s]
        statements.clear()
        return reads

    try:
        first = await accounts.member_by_id(member_id)
        member_reads()
        again = await accounts.member_by_id(member_id)
        assert again == first and again is not first
        assert reader is None or not member_reads(), "nothing committed: no statement"
        again["status"] = "changed by the caller"
        assert await accounts.member_by_id(member_id) == first, "a caller's change never reaches the memo"
        await Member.update({Member.status: "suspended"}).where(Member.id == member_id)  # another connection commits
        member_reads()
        assert (await accounts.member_by_id(member_id))["status"] == "suspended", "the very next call sees it"
        assert reader is None or member_reads(), "read again after the commit"
        async with engine.write_tx():
            await Member.update({Member.status: "active"}).where(Member.id == member_id)
            assert (await accounts.member_by_id(member_id))["status"] == "active", "the transaction's own row"
        assert (await accounts.member_by_id(member_id))["status"] == "active"
    finally:
        if reader is not None:
            reader.set_trace_callback(None)


def _readers() -> "engine._Readers":
    """This loop's ``fetch`` connections (PostgreSQL)."""
    return engine._readers[asyncio.get_running_loop()]


async def _readers_open() -> int:
    """How many of this loop's ``fetch`` connections are open or being opened."""
    return _readers().places


async def test_pooled_reads_share_a_few_connections_and_survive_errors_cancels_and_losses(database_url):
    """PostgreSQL: ``fetch`` outside a transaction reads on connections of its own, at most ``pool_max`` at a time.
    More readers than that wait their turn (and all get their rows); an error from the server keeps the
    connection; a read cancelled while reading or while waiting gives its place back; a connection lost while
    idle is replaced; a read still under way when the engine stops closes its connection."""
    if not engine.is_postgres():
        pytest.skip("SQLite reads on one kept connection per thread")
    engine.configure(database_url, pool_max=2)
    await engine.start()
    try:
        slow = "SELECT {}::int AS n, pg_sleep(0.05)::text AS slept"
        rows = await asyncio.gather(*(engine.fetch(slow, n) for n in range(7)))
        assert [r[0]["n"] for r in rows] == list(range(7))
        assert await _readers_open() == 2
        backends = await engine.fetch("SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
                                      " AND query LIKE {}", "%pg_sleep(0.05)%")
        assert backends[0]["n"] <= 2, "seven reads, two connections"

        kept = list(_readers().idle)
        for _ in range(3):  # the server's errors (a value out of range, a division by zero) keep the connection
            with pytest.raises(asyncpg.PostgresError):
                await engine.fetch("SELECT 1 / {}::int AS n", 0)
            with pytest.raises(asyncpg.PostgresError):
                await engine.fetch("SELECT id FROM ledger_entry WHERE id < {}", 2**31)
        assert await engine.fetch("SELECT 1 / {}::int AS n", 1) == [{"n": 1}]
        assert sorted(map(id, _readers().idle)) == sorted(map(id, kept)) and await _readers_open() == 2

        long = asyncio.create_task(engine.fetch("SELECT pg_sleep(5)::text AS slept, {}::int AS n", 1))
        other = asyncio.create_task(engine.fetch("SELECT pg_sleep(5)::text AS slept, {}::int AS n", 2))
        waiting = asyncio.create_task(engine.fetch("SELECT {}::int AS n", 3))  # no place left: it waits
        await asyncio.sleep(0.2)
        assert not waiting.done()
        waiting.cancel()
        long.cancel()
        other.cancel()
        for task in (long, other, waiting):
            with pytest.raises(asyncio.CancelledError):
                await task
        assert await _readers_open() == 0, "cancelled reads closed their connections and gave their places back"
        assert await asyncio.wait_for(engine.fetch("SELECT {}::int AS n", 4), 5) == [{"n": 4}]

        idle = _readers().idle
        assert len(idle) == 1
        idle[0].terminate()  # lost while idle (a server restart, say)
        assert await engine.fetch("SELECT {}::int AS n", 5) == [{"n": 5}]
        assert await _readers_open() == 1

        readers = _readers()
        under_way = asyncio.create_task(engine.fetch("SELECT pg_sleep(0.3)::text AS slept, {}::int AS n", 6))
        await asyncio.sleep(0.1)
    finally:
        await engine.stop()
    assert (await under_way)[0]["n"] == 6, "a read under way at the stop still gets its rows"
    assert readers.idle == [] and readers.places == 0, "and its connection is closed, not kept"
