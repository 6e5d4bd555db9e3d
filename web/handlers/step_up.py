"""本人確認 (step-up): a 6-digit code by email before money moves or sensitive settings change."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromQuery
from litestar.response import Template

from db import passkeys
from domain.errors import DomainError
from web import auth_flow, render

FORM = Body(media_type=RequestEncodingType.URL_ENCODED)
Now = NamedDependency[datetime]
PAGE = "pages/step_up.html"


@get("/step-up")
async def show_step_up(request: Request, member: NamedDependency[dict], now: Now,
                       next: FromQuery[str] = "/home") -> Template | Response:
    """Explain why a code is needed, with one button that mails it (and a passkey button when there is one)."""
    if auth_flow.stepped_up(request, now):
        return render.redirect(request, auth_flow.safe_next(next))
    return render.page(request, PAGE, {"step": "send", "next": auth_flow.safe_next(next), "nav": "settings",
                                       "has_passkeys": await passkeys.has_passkeys(member["id"])})


@post("/step-up/send")
async def send_code(request: Request, data: Annotated[auth_flow.CodeForm, FORM], now: Now) -> Template:
    """Mail a code and show the field to type it in."""
    context = {"next": auth_flow.safe_next(data.next), "nav": "settings"}
    try:
        await auth_flow.send_step_up_code(request, now)
    except DomainError as error:
        return render.page(request, PAGE, {"step": "send", "error": error.message, **context}, status=422)
    return render.page(request, PAGE, {"step": "code", **context})


@post("/step-up/verify")
async def verify_code(request: Request, data: Annotated[auth_flow.CodeForm, FORM], now: Now) -> Response:
    """A right code: new session id, stepped up for ten minutes, back to the page that asked."""
    try:
        await auth_flow.verify_step_up(request, data, now)
    except DomainError as error:
        context = {"step": "code", "error": error.message, "next": auth_flow.safe_next(data.next), "nav": "settings"}
        return render.page(request, PAGE, context, status=422)
    return render.redirect(request, auth_flow.safe_next(data.next))


ROUTES = [show_step_up, send_code, verify_code]
