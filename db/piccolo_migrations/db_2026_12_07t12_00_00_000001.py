"""PostgreSQL: every change to ``maintenance_window`` notifies ``kaiin_changes`` (after commit), so each app
process can keep the windows it read until they change instead of reading them on every request
(``db.engine.change_token``). SQLite needs nothing: ``PRAGMA data_version`` tells the same."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder
from piccolo.engine.postgres import PostgresEngine

ID = "2026-12-07T12:00:00:000001"
VERSION = "1.38.0"
DESCRIPTION = "PostgreSQL: notify kaiin_changes when maintenance windows change"

CREATE = [
    """CREATE OR REPLACE FUNCTION kaiin_maintenance_window_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        PERFORM pg_notify('kaiin_changes', 'maintenance_window');
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS maintenance_window_changed ON maintenance_window",
    """CREATE TRIGGER maintenance_window_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE
    ON maintenance_window FOR EACH STATEMENT EXECUTE FUNCTION kaiin_maintenance_window_changed()""",
]
DROP = [
    "DROP TRIGGER IF EXISTS maintenance_window_changed ON maintenance_window",
    "DROP FUNCTION IF EXISTS kaiin_maintenance_window_changed()",
]


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="db", description=DESCRIPTION)

    async def run(statements: list[str]) -> None:
        engine = engine_finder()
        if isinstance(engine, PostgresEngine):
            for statement in statements:
                await engine.run_ddl(statement)

    async def create_trigger():
        await run(CREATE)

    async def drop_trigger():
        await run(DROP)

    manager.add_raw(create_trigger)
    manager.add_raw_backwards(drop_trigger)
    return manager
