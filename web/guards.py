"""Guards: who may reach a route. Route ``opt`` flags say what a route needs."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException
from litestar.handlers.base import BaseRouteHandler
from litestar.handlers.http_handlers.base import HTTPRouteHandler

from db import accounts
from domain.auth_policy import is_stepped_up
from web.security import session_expired

if TYPE_CHECKING:
    from litestar import Litestar

MEMBER_STATE_KEY = "member_row"
#: route ``opt``: ``async (connection, member_id) -> (standing, read)``, a read of the route's own that also gives
#: the member's standing (a dict with at least id, status and session_epoch; None: no such member) from the same
#: statement, so that the guard and the route share one round trip; ``read`` is kept under ``READ_STATE_KEY``
READ_WITH_MEMBER = "read_with_member"
READ_STATE_KEY = "read_with_member"


async def requires_member(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """A signed-in member whose session is within the idle and absolute timeouts; it slides the idle one.
    The member's row is read here (``MEMBER_STATE_KEY``: the ``member`` dependency's), or, on a route with a
    ``READ_WITH_MEMBER`` read, only their standing, beside what the route shows."""
    session = connection.scope.get("session") or {}
    if not session.get("member_id"):
        raise NotAuthorizedException("ログインしてください。")
    now = connection.app.state.clock.now()
    if session_expired(session, now, connection.app.state.settings):
        connection.clear_session()
        raise NotAuthorizedException("一定時間操作がなかったため、ログアウトしました。", extra={"expired": True})
    read_with_member = handler.opt.get(READ_WITH_MEMBER)
    if read_with_member is None:
        member = await accounts.member_by_id(int(session["member_id"]))
    else:
        member, read = await read_with_member(connection, int(session["member_id"]))
    if member is None or member["status"] == "suspended" or member["session_epoch"] != session.get("epoch", 0):
        # suspended, or every session was ended (password reset, PIN reissue): this one too
        connection.clear_session()
        raise NotAuthorizedException("ログインしてください。")
    if read_with_member is None:
        connection.scope.setdefault("state", {})[MEMBER_STATE_KEY] = member  # the ``member`` dependency's row
    else:
        connection.scope.setdefault("state", {})[READ_STATE_KEY] = read
    refresh = connection.app.state.settings.session_seen_refresh_seconds
    if (now - datetime.fromisoformat(session["seen_at"])).total_seconds() >= refresh:
        session["seen_at"] = now.isoformat()


class StepUpRequired(NotAuthorizedException):
    """The route needs a recent step-up; answered with a redirect to ``/step-up?next=…``."""


async def requires_step_up(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Put in front of money moves and sensitive settings: ``guards=[requires_step_up]``.

    Passes when the session was stepped up (email code, or a passkey sign-in that sets
    ``stepped_up_at``) within ``KAIIN_STEP_UP_SECONDS``; otherwise the member is sent to ``/step-up``
    and brought back to the page afterwards, with a new session id.
    """
    raw = (connection.scope.get("session") or {}).get("stepped_up_at")
    at = datetime.fromisoformat(raw) if raw else None
    if not is_stepped_up(at, connection.app.state.clock.now(), connection.app.state.auth_policy):
        raise StepUpRequired("ご本人確認が必要です。")


async def _authorize_connection(self: BaseRouteHandler, connection: ASGIConnection) -> None:
    for guard in self.resolve_guards():
        await guard(connection, self)


_GUARDED: dict[type, type] = {}  #: route handler class → its subclass whose guards get the handler itself


def guards_get_their_handler(app: "Litestar") -> None:
    """Litestar hands every guard a copy of the route handler (``copy.copy`` of an object of 41 slots: about
    12 µs on each guarded request, a twentieth of a member request) so that a guard cannot change it. The guards
    here never touch it, so each guarded HTTP handler of ``app`` passes itself instead: same guards, same order
    (its class becomes a subclass that differs in that method alone)."""
    for route in app.routes:
        for handler in getattr(route, "route_handlers", ()):
            cls = type(handler)
            if isinstance(handler, HTTPRouteHandler) and cls not in _GUARDED.values() and handler.resolve_guards():
                if cls not in _GUARDED:
                    _GUARDED[cls] = type(cls.__name__, (cls,), {
                        "__slots__": (), "__module__": __name__, "authorize_connection": _authorize_connection})
                handler.__class__ = _GUARDED[cls]
