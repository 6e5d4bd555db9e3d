from pathlib import Path

from piccolo.conf.apps import AppConfig

from db.tables import ALL_TABLES

APP_CONFIG = AppConfig(
    app_name="db",
    migrations_folder_path=str(Path(__file__).parent / "piccolo_migrations"),
    table_classes=list(ALL_TABLES),
    migration_dependencies=[],
    commands=[],
)
