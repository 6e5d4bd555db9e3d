"""Each shape of history page is found by the index made for it, whatever the ledger's length: the unfiltered
page and a kind's page walk an index in id order and stop after a page; a month's page, or a filter of several
rare kinds, reads those rows by its own index and sorts them; each from the index alone (it carries every listed
column). Ledgers of 8,000 rows each. SQLite keeps no statistics here, so its plans are fixed: they are checked.
PostgreSQL plans by its statistics (a plan that reads little either way may differ): what each page reads is."""

from __future__ import annotations

import json
import sqlite3
from contextlib import closing
from datetime import datetime, timedelta, timezone

import asyncpg

from db import engine, history, loans
from db.tables import Contract
from tests.conftest import make_member, run

LISTED = "ledger_entry_contract_id_listed"
BY_KIND = "ledger_entry_contract_kind_id_listed"
BY_DATE = "ledger_entry_contract_date_id_listed"
#: (month, kind, before) → the index that serves it, and whether the rows are then sorted
SHAPES = {
    (None, None, None): (LISTED, False),
    (None, None, 20_000): (LISTED, False),
    (None, "repayment", None): (BY_KIND, False),
    (None, "borrowing", 20_000): (BY_KIND, False),
    (None, "point_use", None): (BY_KIND, False),
    (None, "correction", None): (BY_KIND, True),  # reversal and adjustment: rare
    ((2020, 3), None, None): (BY_DATE, True),  # a month long past: about 7,400 of the member's rows are newer
    ((2020, 3), "repayment", 39_000): (BY_DATE, True),
}


MOST_BLOCKS = 40  #: of 8 KiB that a read here may take on PostgreSQL (a month's page included)
ROWS, MEMBERS = 8_000, 5  #: rows each member's ledger has, written in turns (as members borrow and repay)


async def _write_ledgers(database_url: str, contract_ids: list[int], rows: int = ROWS) -> None:
    """``ROWS`` ledger rows for each contract over two years and a bit (about 300 a month): borrowings and
    repayments in turn, an interest charge every 40th row, no point use and no correction. PostgreSQL then
    gathers its statistics and marks the pages visible, as autovacuum does."""
    start = datetime(2020, 1, 1, tzinfo=timezone.utc)
    written = [(contract_id, "interest_charge" if i % 40 == 39 else ("borrowing", "repayment")[i % 2],
             start + timedelta(days=i // 10), (start + timedelta(days=i // 10)).date(),
             1000, 1000 if i % 2 == 0 else -1000, 0, 0, 0, 100_000, "", "")
            for i in range(rows) for contract_id in contract_ids]
    columns = "contract, kind, occurred_at, value_date, amount, principal, interest, late_charge, points, " \
              "principal_after, reference, reverses"
    if engine.is_postgres():
        connection = await asyncpg.connect(database_url)
        try:
            await connection.copy_records_to_table("ledger_entry", records=written, columns=columns.split(", "))
            await connection.execute("VACUUM ANALYZE ledger_entry")
        finally:
            await connection.close()
        return
    with closing(sqlite3.connect(database_url.removeprefix("sqlite:///"))) as connection, connection:
        connection.executemany(f"INSERT INTO ledger_entry ({columns}) VALUES ({', '.join('?' * 12)})",
                               [(*row[:2], row[2].isoformat(), row[3].isoformat(), *row[4:]) for row in written])


async def _blocks_read(database_url: str, sql: str, args: list) -> int:
    """Blocks (of 8 KiB) a statement reads on PostgreSQL, counted by EXPLAIN ANALYZE."""
    connection = await asyncpg.connect(database_url)
    try:
        plan = json.loads(await connection.fetchval(
            "EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + engine._placeholders(sql, True), *args))[0]["Plan"]
    finally:
        await connection.close()
    return plan["Shared Hit Blocks"] + plan["Shared Read Blocks"]


def _statements(contract_sql: str, arg: int) -> list[tuple[tuple, str, list]]:
    return [(shape, *history._page_query(contract_sql, arg, shape[2], shape[0], shape[1], 20)) for shape in SHAPES]


def test_each_history_page_shape_uses_its_index(settings, database_url):
    members = [make_member(settings, card_number=f"123456789{n}", web_id=f"taro{n}", email=f"taro{n}@example.jp")
               for n in range(MEMBERS)]
    contracts = run(Contract.select(Contract.id, Contract.member).where(Contract.member.is_in(members)).run())
    contract_id = {row["member"]: row["id"] for row in contracts}
    run(_write_ledgers(database_url, [contract_id[member] for member in members]))
    member_id = members[2]
    contract_id = contract_id[member_id]
    statements = _statements("{}", contract_id) + _statements(history.CONTRACT_OF_MEMBER, member_id)
    if engine.is_postgres():  # it plans by statistics: what must hold is how little of the ledger each page reads
        reads = [run(_blocks_read(database_url, sql, args)) for _, sql, args in statements]
        for (shape, *_), read in zip(statements, reads):  # the whole ledger is about 700 blocks
            assert read <= MOST_BLOCKS, (shape, read)
        return
    for shape, sql, args in statements:
        plan = " | ".join(row["detail"] for row in run(engine.fetch("EXPLAIN QUERY PLAN " + sql, *args)))
        index, sorted_after = SHAPES[shape]
        assert f"SEARCH ledger_entry USING COVERING INDEX {index} (contract=?" in plan, (shape, plan)
        assert ("USE TEMP B-TREE FOR ORDER BY" in plan) is sorted_after, (shape, plan)


def test_a_contracts_last_ledger_row_is_found_by_index_however_many_rows_others_wrote_since(settings, database_url):
    """The account read on every member request takes its contract's last ledger row (``MAX(id)``). A member whose
    rows are older than another member's many must not have it found by walking the ledger back from the newest
    row (PostgreSQL judged that cheaper with few contracts in its statistics, narrow (contract, id) index or not)."""
    quiet, busy = (make_member(settings, card_number=f"123456789{n}", web_id=f"taro{n}", email=f"taro{n}@example.jp")
                   for n in range(2))
    contracts = run(Contract.select(Contract.id, Contract.member).where(Contract.member.is_in([quiet, busy])).run())
    contract_id = {row["member"]: row["id"] for row in contracts}
    run(_write_ledgers(database_url, [contract_id[quiet]], rows=100))
    run(_write_ledgers(database_url, [contract_id[busy]], rows=ROWS * MEMBERS))
    statements = [(loans.MEMBER_ACCOUNT_SQL, quiet), (loans.ACCOUNT_SQL, quiet)]
    if engine.is_postgres():
        for sql, member_id in statements:
            assert (read := run(_blocks_read(database_url, sql, [member_id]))) <= MOST_BLOCKS, (read, sql[:40])
        return
    for sql, member_id in statements:
        plan = " | ".join(row["detail"] for row in run(engine.fetch("EXPLAIN QUERY PLAN " + sql, member_id)))
        assert "SCAN e" not in plan and "SEARCH e USING COVERING INDEX ledger_entry_contract" in plan, plan
