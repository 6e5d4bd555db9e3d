from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import ForeignKey

ID = "2026-11-22T10:31:31:346084"
VERSION = "1.38.0"
DESCRIPTION = "index on contract.member (the account query finds a member's contract by it on every request)"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="db", description=DESCRIPTION
    )

    manager.alter_column(
        table_class_name="Contract",
        tablename="contract",
        column_name="member",
        db_column_name="member",
        params={"index": True},
        old_params={"index": False},
        column_class=ForeignKey,
        old_column_class=ForeignKey,
        schema=None,
    )

    return manager
