from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod
from piccolo.table import Table

ID = "2026-11-22T07:07:48:068004"
VERSION = "1.38.0"
DESCRIPTION = "loan engine: contract state cache, reversal kind, ledger keyset indexes"


class RawTable(Table):
    pass


LEDGER_INDEXES = {
    "ledger_entry_contract_id": "(contract, id)",  # history, newest first, keyset on id
    "ledger_entry_contract_date_id": "(contract, value_date, id)",  # month filter
    "ledger_entry_contract_kind_id": "(contract, kind, id)",  # kind filter
}


async def create_indexes():
    for name, columns in LEDGER_INDEXES.items():
        await RawTable.raw(f"CREATE INDEX IF NOT EXISTS {name} ON ledger_entry {columns}")


async def drop_indexes():
    for name in LEDGER_INDEXES:
        await RawTable.raw(f"DROP INDEX IF EXISTS {name}")


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="db", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Contract",
        tablename="contract",
        column_name="loan_state",
        db_column_name="loan_state",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="LedgerEntry",
        tablename="ledger_entry",
        column_name="reverses",
        db_column_name="reverses",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 20,
            "default": "",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_raw(create_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
