"""Small helpers shared by the sign-in tests."""

from __future__ import annotations

import re

from tests import conftest


def run(awaitable):
    """Run a coroutine or a Piccolo query (an awaitable) from a synchronous test."""

    async def wrap():
        return await awaitable

    return conftest.run(wrap())


def last_code() -> str:
    """The one-time code in the newest mail of the outbox."""
    from db import mail

    body = run(mail.newest(limit=1))[0].body
    return re.search(r"確認コード：([0-9]+)", body).group(1)
