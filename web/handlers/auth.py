"""Sign-in pages."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Template

from domain.errors import DomainError
from web import auth_flow, render

TABS = ("card", "id")


FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
Now = NamedDependency[datetime]


@get("/login")
async def show_login(
    request: Request, tab: FromQuery[str] = "card", expired: FromQuery[bool] = False,
    signed_out: FromQuery[bool] = False, next: FromQuery[str] = "/home",
) -> Template:
    """The sign-in page: card number + PIN, or login ID + password."""
    context = {"tab": tab if tab in TABS else "card", "expired": expired, "signed_out": signed_out,
               "next": auth_flow.safe_next(next), "public_page": True}
    return render.page(request, "pages/login.html", context)


@post("/login/card")
async def submit_card(request: Request, data: Annotated[auth_flow.CardForm, FORM], now: Now) -> Response:
    """カード番号・暗証番号でログイン: home on success, the form with one message otherwise."""
    try:
        member = await auth_flow.sign_in(request, data, now)
    except DomainError as error:
        return auth_flow.login_failed(request, "card", data, error)
    return await auth_flow.signed_in(request, member, "card", now, data.next)


@post("/login/id")
async def submit_id(request: Request, data: Annotated[auth_flow.IdForm, FORM], now: Now) -> Response:
    """ログインID（またはカード番号）・パスワードでログイン."""
    try:
        member = await auth_flow.sign_in(request, data, now)
    except DomainError as error:
        return auth_flow.login_failed(request, "id", data, error)
    return await auth_flow.signed_in(request, member, "id", now, data.next)


@post("/logout")
async def logout(request: Request, now: Now) -> Response:
    """ログアウト: the server-side session is deleted and the browser told to drop its data."""
    return await auth_flow.sign_out(request, now)


@get("/")
async def root(request: Request) -> object:
    """The start URL: members go home, everyone else to sign-in."""
    signed_in = bool((request.scope.get("session") or {}).get("member_id"))
    return render.redirect(request, "/home" if signed_in else "/login")


ROUTES = [show_login, submit_card, submit_id, logout, root]
