"""Sign-in pages."""

from __future__ import annotations

from litestar import Request, get
from litestar.params import FromQuery
from litestar.response import Template

from web import render

TABS = ("card", "id")


@get("/login")
async def show_login(request: Request, tab: FromQuery[str] = "card", expired: FromQuery[bool] = False) -> Template:
    """The sign-in page: card number + PIN, or login ID + password."""
    context = {"tab": tab if tab in TABS else "card", "expired": expired, "public_page": True}
    return render.page(request, "pages/login.html", context)


@get("/")
async def root(request: Request) -> object:
    """The start URL: members go home, everyone else to sign-in."""
    signed_in = bool((request.scope.get("session") or {}).get("member_id"))
    return render.redirect(request, "/home" if signed_in else "/login")


ROUTES = [show_login, root]
