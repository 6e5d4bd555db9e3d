"""``python -m tests.browser.member_server``: the real app plus the test-only sign-in route, for browser tests
that need a signed-in member before the sign-in forms exist. Configured from the environment like ``kaiin serve``."""

from __future__ import annotations

import uvicorn

from tests.conftest import _test_login
from web.app import create_served_app
from web.settings import Settings

if __name__ == "__main__":
    settings = Settings.from_env()
    uvicorn.run(create_served_app(settings, extra_route_handlers=[_test_login]), host=settings.host, port=settings.port,
                log_level="warning")
