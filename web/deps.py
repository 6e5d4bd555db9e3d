"""Dependencies handlers ask for by name."""

from __future__ import annotations

from datetime import datetime

from litestar import Request
from litestar.exceptions import NotAuthorizedException

from db import accounts


async def provide_member(request: Request) -> dict:
    """The signed-in member's row (member routes only; the guard has checked the session)."""
    member = await accounts.member_by_id(int(request.session["member_id"]))
    if member is None or member["status"] == "suspended":
        request.clear_session()
        raise NotAuthorizedException("ログインしてください。")
    return member


def provide_now(request: Request) -> datetime:
    """Aware UTC now, from the app's clock (KAIIN_CLOCK in dev and tests)."""
    return request.app.state.clock.now()
