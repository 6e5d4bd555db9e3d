"""The signed-in home page."""

from __future__ import annotations

from litestar import Request, get
from litestar.di import NamedDependency
from litestar.response import Template

from web import render


@get("/home")
async def show_home(request: Request, member: NamedDependency[dict]) -> Template:
    """ホーム: what the member owes and can do, at a glance."""
    return render.page(request, "pages/home.html", {"nav": "home", "member": member})


ROUTES = [show_home]
