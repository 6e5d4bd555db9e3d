"""Persistence: Piccolo tables, migrations and the use cases (one transaction each)."""

import os

# Piccolo finds its configuration through this variable (migrations, engine_finder).
os.environ.setdefault("PICCOLO_CONF", "db.piccolo_conf")
