"""A history page is read from one index alone: the (contract, id) index carries every column a page lists, so the
twenty rows are not each looked up in the table. Runs on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncpg

from db import engine, history
from tests.conftest import run

LISTED_INDEX = "ledger_entry_contract_id_listed"


def _pages() -> list[tuple[str, list]]:
    """The page statements without a kind or month filter (the newest page and a later one), by contract id as
    the history piece reads them and by member as the full page does."""
    return [history._page_query(contract_sql, arg, before, None, None, 20)
            for contract_sql, arg in (("{}", 1), (history.CONTRACT_OF_MEMBER, 1)) for before in (None, 500)]


def test_a_history_page_is_read_from_the_index_alone(database_url):
    if engine.is_postgres():
        async def plans() -> list[str]:
            connection = await asyncpg.connect(database_url)
            try:  # an empty test table: ask for the plan an indexed ledger gets (its planner picks by statistics)
                await connection.execute("SET enable_seqscan = off; SET enable_bitmapscan = off")
                return ["\n".join(row[0] for row in await connection.fetch(
                    "EXPLAIN " + engine._placeholders(sql, True), *args)) for sql, args in _pages()]
            finally:
                await connection.close()

        for plan in run(plans()):
            assert f"Index Only Scan Backward using {LISTED_INDEX} on ledger_entry" in plan, plan
        return
    for sql, args in _pages():
        plan = " | ".join(row["detail"] for row in run(engine.fetch("EXPLAIN QUERY PLAN " + sql, *args)))
        assert f"SEARCH ledger_entry USING COVERING INDEX {LISTED_INDEX} (contract=? AND id<?)" in plan \
            or f"SEARCH ledger_entry USING COVERING INDEX {LISTED_INDEX} (contract=?)" in plan, plan
        assert "TEMP B-TREE" not in plan, plan  # walked in id order, not sorted
