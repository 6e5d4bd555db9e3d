"""The history page's indexes carry the columns a page lists, so a page is read from an index alone instead of
looking each row up in the table (SQLite: about 40% of the unfiltered page's statement):
- (contract, id), the unfiltered page; (contract, kind, id), a kind filter; (contract, value_date, id), a month:
  each with kind, value_date, amount, principal, interest, late_charge and principal_after. On PostgreSQL the
  listed columns are INCLUDEd (not part of the key); SQLite, which has no INCLUDE, has them after the key.
- The kind and month ones replace the narrower indexes of the same keys; (contract, id) keeps its narrow one too
  (see ``INDEXES``). All three have to be as wide: a planner otherwise prefers the one index it can read alone,
  walking the whole ledger for a month long past or a kind the member hardly has (SQLite, which keeps no
  statistics here, did so for both; PostgreSQL for a month)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-07T12:00:00:000003"
VERSION = "1.38.0"
DESCRIPTION = "the ledger's history indexes cover the history page's columns"

LISTED = ("kind", "value_date", "amount", "principal", "interest", "late_charge", "principal_after")
#: new index → (its key, the index it replaces; None: the narrow one stays)
INDEXES = {
    # (contract, id) stays beside it: a contract's last row (``MAX(id)``, the account read on every member request)
    # is found by the narrow index; with only the wide one PostgreSQL judged walking the primary key back cheaper,
    # over every later row of every other contract
    "ledger_entry_contract_id_listed": (("contract", "id"), None),
    "ledger_entry_contract_kind_id_listed": (("contract", "kind", "id"), "ledger_entry_contract_kind_id"),
    "ledger_entry_contract_date_id_listed": (("contract", "value_date", "id"), "ledger_entry_contract_date_id"),
}


def _columns(key: tuple[str, ...], postgres: bool) -> str:
    rest = [column for column in LISTED if column not in key]
    if postgres:
        return f"({', '.join(key)}) INCLUDE ({', '.join(rest)})"
    return f"({', '.join(key + tuple(rest))})"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="db", description=DESCRIPTION)

    async def cover():
        engine = engine_finder()
        postgres = isinstance(engine, PostgresEngine)
        for name, (key, narrow) in INDEXES.items():
            await engine.run_ddl(f"CREATE INDEX IF NOT EXISTS {name} ON ledger_entry {_columns(key, postgres)}")
            if narrow:
                await engine.run_ddl(f"DROP INDEX IF EXISTS {narrow}")

    async def uncover():
        engine = engine_finder()
        for name, (key, narrow) in INDEXES.items():
            if narrow:
                await engine.run_ddl(f"CREATE INDEX IF NOT EXISTS {narrow} ON ledger_entry ({', '.join(key)})")
            await engine.run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(cover)
    manager.add_raw_backwards(uncover)
    return manager
