"""Guards: who may reach a route. Route ``opt`` flags say what a route needs."""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler

from web.security import session_expired


async def requires_member(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A signed-in member whose session is within the idle and absolute timeouts; it slides the idle one."""
    session = connection.scope.get("session") or {}
    if not session.get("member_id"):
        raise NotAuthorizedException("ログインしてください。")
    now = connection.app.state.clock.now()
    if session_expired(session, now, connection.app.state.settings):
        connection.clear_session()
        raise NotAuthorizedException("一定時間操作がなかったため、ログアウトしました。", extra={"expired": True})
    session["seen_at"] = now.isoformat()
