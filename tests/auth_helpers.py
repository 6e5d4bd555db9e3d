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


def step_up(client, next_url: str = "/home") -> None:
    """The real step-up: a code sent by email, read from the outbox and typed back."""
    token = conftest.csrf_token(client)
    assert client.post("/step-up/send", data={"next": next_url, "_csrf_token": token}).status_code == 200
    done = client.post("/step-up/verify", data={"code": last_code(), "next": next_url, "_csrf_token": token})
    assert done.status_code in (200, 303), done.text
