"""Guards get the route handler itself (``web.guards.guards_get_their_handler``), in the order Litestar runs
them, and the first refusal still stops the request."""

from __future__ import annotations

from litestar import Request, get
from litestar.testing import TestClient

from tests.conftest import _test_login, make_member, sign_in
from web.app import create_app
from web.guards import requires_member

SEEN: list[tuple[str, object, object]] = []


async def _first(connection, handler) -> None:
    SEEN.append(("first", handler, connection.scope["route_handler"]))


async def _second(connection, handler) -> None:
    SEEN.append(("second", handler, connection.scope["route_handler"]))


@get("/_test/guarded", guards=[_first, requires_member, _second], media_type="text/plain", sync_to_thread=False)
def guarded(request: Request) -> str:
    return "guarded-ok"


def test_each_guard_gets_the_handler_itself_in_order_and_a_refusal_stops_the_rest(settings):
    app = create_app(settings, extra_route_handlers=[_test_login, guarded])
    SEEN.clear()
    with TestClient(app, base_url="http://testserver.local") as client:
        assert client.get("/_test/guarded", follow_redirects=False).status_code in (302, 303, 401)
        assert [name for name, *_ in SEEN] == ["first"], "requires_member refused: the next guard never ran"
        SEEN.clear()
        sign_in(client, make_member(settings))
        assert client.get("/_test/guarded").text == "guarded-ok"
    assert [name for name, *_ in SEEN] == ["first", "second"]
    for _, handler, routed in SEEN:
        assert handler is routed, "the registered handler itself, not a copy made per guard call"
