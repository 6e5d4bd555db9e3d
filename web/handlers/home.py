"""The signed-in home page: every figure of the member's loan, and the piece that refreshes itself."""

from __future__ import annotations

from datetime import datetime

from litestar import Request, get
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.response import Response, Template

from db import loans, transfers
from web import home_summary as figures
from web import render
from web.deps import read_with_member
from web.guards import READ_WITH_MEMBER


@get("/home")
async def show_home(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime]) -> Template:
    """ホーム: what the member owes and can do, at a glance."""
    account = await loans.account_for_member(member["id"], now, request.app.state.settings.loan_policy())
    available = await transfers.available_credit(account) if account else 0
    context = {"nav": "home", "member": member, "account": account, "available": available}
    return render.page(request, "pages/home.html", context)


async def _member_and_account(_: ASGIConnection, member_id: int) -> tuple[dict | None, dict | None]:
    return await loans.member_and_account(member_id)


@get("/home/summary", opt={READ_WITH_MEMBER: _member_and_account})
async def home_summary(request: Request) -> Response:
    """The figures alone: swapped in when money moved (the ``money-moved`` event). The account's row comes with
    the member guard's read (one statement)."""
    row, now = read_with_member(request)
    account = await loans.account_of(row, now, request.app.state.settings.loan_policy()) if row else None
    available = await transfers.available_credit(account) if account else 0
    return render.built(figures.summary(account, available))


ROUTES = [show_home, home_summary]
