"""Guards get the route handler itself (``web.guards.guards_get_their_handler``), in the order Litestar runs
them, and the first refusal still stops the request."""

from __future__ import annotations

from litestar import Request, get
from litestar.di import NamedDependency, Provide
from litestar.testing import TestClient

from tests.conftest import _test_login, make_member, sign_in
from web.app import create_app
from web.deps import provide_member, read_with_member
from web.guards import READ_WITH_MEMBER, requires_member

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


def _routes_reading_with_the_member(app) -> list[str]:
    return sorted(route.path for route in app.routes for handler in getattr(route, "route_handlers", ())
                  if READ_WITH_MEMBER in handler.opt)


def test_routes_that_read_with_the_member_refuse_exactly_as_the_guard_does(settings):
    """A route whose own read also gives the member's standing (one statement for the guard and the page)
    passes a signed-in member, and refuses a suspended member and a session ended everywhere, like every other
    member route (with the PostgreSQL read connections in use: a pool)."""
    from db.tables import Member

    member_id = make_member(settings)
    app = create_app(settings.replace(db_pool_max=2), extra_route_handlers=[_test_login])
    paths = _routes_reading_with_the_member(app)
    assert paths == ["/history/rows", "/home/summary"]

    def change(values: dict) -> None:  # on the app's event loop: the pool's connections belong to it
        client.blocking_portal.call(Member.update(values).where(Member.id == member_id).run)

    def epoch(value: int) -> None:
        change({Member.session_epoch: value})

    with TestClient(app, base_url="http://testserver.local") as client:
        sign_in(client, member_id)
        for path in paths:
            assert client.get(path, follow_redirects=False).status_code == 200, path
            epoch(1)  # every session ended (password reset, PIN reissue): this one too
            assert client.get(path, follow_redirects=False).status_code in (302, 303, 401), path
            epoch(0)
            sign_in(client, member_id)
            assert client.get(path, follow_redirects=False).status_code == 200, path
        change({Member.status: "suspended"})
        for path in paths:
            assert client.get(path, follow_redirects=False).status_code in (302, 303, 401), path
            sign_in(client, member_id)


def test_a_route_that_reads_with_the_member_leaves_the_member_dependency_its_own_read(settings):
    """The standing read beside a page is not the member's row: a handler there that asks for ``member`` gets
    the row read in full."""
    seen = []

    async def read(connection, member_id):
        return {"id": member_id, "status": "active", "session_epoch": 0}, "the page's rows"

    @get("/_test/read-with-member", opt={READ_WITH_MEMBER: read}, guards=[requires_member], media_type="text/plain",
         dependencies={"member": Provide(provide_member)})
    async def reading(request: Request, member: NamedDependency[dict]) -> str:
        seen.append((member, read_with_member(request)[0]))
        return "ok"

    app = create_app(settings, extra_route_handlers=[_test_login, reading])
    member_id = make_member(settings)
    with TestClient(app, base_url="http://testserver.local") as client:
        sign_in(client, member_id)
        assert client.get("/_test/read-with-member").text == "ok"
    (member, page), = seen
    assert member["id"] == member_id and member["name"] == "山田 太郎" and page == "the page's rows"
