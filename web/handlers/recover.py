"""ログインID・パスワードをお忘れの方: identifier + date of birth → code by email → new password."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Request, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body
from litestar.response import Template

from domain.errors import DomainError
from web import auth_flow, render

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
Now = NamedDependency[datetime]
PAGE = "pages/recover.html"


def _page(request: Request, step: str, status: int = 200, **context: object) -> Template:
    return render.page(request, PAGE, {"step": step, "public_page": True, **context}, status=status)


@get("/recover")
async def show_recover(request: Request) -> Template:
    """Step 1: ログインID（またはカード番号）と生年月日."""
    return _page(request, "identify")


@post("/recover")
async def request_code(request: Request, data: Annotated[auth_flow.RecoverForm, FORM], now: Now) -> Template:
    """Step 2: the same answer whether or not such a member exists."""
    try:
        await auth_flow.start_recovery(request, data, now)
    except DomainError as error:
        return _page(request, "identify", 422, error=error.message, login_id=data.login_id[:40],
                     birth_date=data.birth_date[:20])
    return _page(request, "code")


@post("/recover/code")
async def check_code(request: Request, data: Annotated[auth_flow.CodeForm, FORM], now: Now) -> Template:
    """Step 3: a right code shows the Web-ID and asks for a new password."""
    try:
        web_id = await auth_flow.check_recovery_code(request, data, now)
    except DomainError as error:
        return _page(request, "code", 422, error=error.message)
    return _page(request, "password", web_id=web_id)


@post("/recover/password")
async def set_password(request: Request, data: Annotated[auth_flow.NewPasswordForm, FORM], now: Now) -> Template:
    """Step 4: new password set, password unlocked, every session ended, a notice mailed."""
    try:
        await auth_flow.finish_recovery(request, data, now)
    except DomainError as error:
        step = "password" if auth_flow.recovery_member(request, now) else "identify"
        return _page(request, step, 422, error=error.message)
    return _page(request, "done")


ROUTES = [show_recover, request_code, check_code, set_password]
