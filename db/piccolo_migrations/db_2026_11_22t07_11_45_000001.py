"""Web-IDs are unique whatever their case (``Taro2024`` and ``taro2024`` cannot both exist), while sign-in
compares them exactly. A unique index on ``lower(web_id)`` holds the rule in the database itself, so two
registrations racing in two processes cannot both win. SQLite and PostgreSQL both support it."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-22T07:11:45:000001"
VERSION = "1.38.0"
DESCRIPTION = "unique index on lower(member.web_id)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="db", description=DESCRIPTION)

    async def create_index():
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS member_web_id_lower ON member (lower(web_id))"
        )

    async def drop_index():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS member_web_id_lower")

    manager.add_raw(create_index)
    manager.add_raw_backwards(drop_index)
    return manager
