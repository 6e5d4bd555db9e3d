"""An index on transfer (contract, status): the account read on every member request sums the contract's queued
transfers, and without it both engines walked the status index over every member's queued transfers."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-07T12:00:00:000002"
VERSION = "1.38.0"
DESCRIPTION = "index on transfer (contract, status)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="db", description=DESCRIPTION)

    async def create_index():
        await engine_finder().run_ddl("CREATE INDEX IF NOT EXISTS transfer_contract_status ON transfer (contract, status)")

    async def drop_index():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS transfer_contract_status")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
