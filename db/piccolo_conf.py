"""Piccolo's configuration (``PICCOLO_CONF=db.piccolo_conf``): the engine comes from ``DATABASE_URL``.

The app and the tests call ``db.engine.configure()``, which replaces ``DB`` so that Piccolo's migration
runner and every table use the same engine.
"""

import os
from pathlib import Path

from piccolo.conf.apps import AppRegistry

from db.engine import engine_from_url

DEFAULT_DATABASE_URL = "sqlite:///./data/kaiin.sqlite3"

DB = engine_from_url(os.environ.get("DATABASE_URL", DEFAULT_DATABASE_URL), root=Path(__file__).parent.parent)

APP_REGISTRY = AppRegistry(apps=["db.piccolo_app"])
