"""Static assets with content-hashed URLs, so they can be cached forever and precached by the service worker."""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path

STATIC_DIR = Path(__file__).resolve().parent.parent / "static"
#: Files the service worker precaches (the shell every page needs, plus the offline page's needs).
PRECACHE = (
    "app.css",
    "app.js",
    "passkey.js",
    "htmx-4.0.1.min.js",
    "icons/icon-192.png",
)


@lru_cache(maxsize=None)
def digest(relative: str) -> str:
    return hashlib.sha256((STATIC_DIR / relative).read_bytes()).hexdigest()[:12]


def asset(relative: str) -> str:
    """``/static/app.css?v=<hash>``: the URL changes whenever the file does."""
    return f"/static/{relative}?v={digest(relative)}"


def release() -> str:
    """One hash for the set of precached files: a new value means a new deploy for the service worker."""
    return hashlib.sha256("".join(digest(name) for name in PRECACHE).encode()).hexdigest()[:12]
