"""取引履歴 (keyset pages, month and kind filters) and each payment's 受取証書."""

from __future__ import annotations

from litestar import Request, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.response import Response, Template

from db import history
from web import render
from web.deps import read_with_member
from web.guards import READ_WITH_MEMBER
from web.history_rows import history_piece


@get("/history")
async def show_history(request: Request, member: NamedDependency[dict], month: FromQuery[str] = "",
                       kind: FromQuery[str] = "", before: FromQuery[str] = "") -> Template:
    """The newest page (or the page before ``before``), filtered by month and kind."""
    size = request.app.state.settings.history_page_size
    view = await history.view(member["id"], month=month, kind=kind, before=before, size=size)
    return render.page(request, "pages/history.html", {"nav": "history", "view": view},
                       status=400 if view.error else 200)


async def _member_and_rows(connection: ASGIConnection, member_id: int) -> tuple[dict | None, history.HistoryView]:
    query = connection.query_params  # a parameter given twice counts as its last, as ``FromQuery`` reads it
    month, kind, before = ((query.getall(name, None) or [""])[-1] for name in ("month", "kind", "before"))
    size = connection.app.state.settings.history_page_size
    return await history.member_and_view(member_id, month=month, kind=kind, before=before, size=size)


@get("/history/rows", opt={READ_WITH_MEMBER: _member_and_rows})
async def history_rows(request: Request) -> Response:
    """The next rows and a new もっと見る, swapped in place of the old one (``month``, ``kind``, ``before``: as on
    the page). The rows come with the member guard's read (one statement)."""
    view, _ = read_with_member(request)
    return render.built(history_piece(view), status=400 if view.error else 200)


@get("/history/{entry_id:int}/receipt")
async def show_receipt(request: Request, member: NamedDependency[dict], entry_id: FromPath[int]) -> Template:
    """受取証書 (貸金業法18条) for one of the member's payments; anything else is 404."""
    receipt = await history.receipt(member["id"], entry_id)
    if receipt is None:
        raise NotFoundException()
    return render.page(request, "pages/receipt.html", {"nav": "history", "receipt": receipt})


ROUTES = [show_history, history_rows, show_receipt]
