"""Passkeys: sign-in (button and autofill), and the member's passkeys under 設定.

The ceremony endpoints speak JSON to ``static/passkey.js``; the list, rename and remove are plain forms that
work without JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery
from litestar.response import Template

from db import passkeys
from domain.errors import DomainError
from web import passkey_flow, render, throttle
from web.guards import requires_step_up

DONE = {"added": "パスキーを追加しました。次回から、このパスキーでログインできます。",
        "renamed": "パスキーの名前を変更しました。", "removed": "パスキーを削除しました。"}


@dataclass
class NameForm:
    name: str = ""


@dataclass
class PinForm:
    pin: str = ""
    pin_again: str = ""


# --- sign-in (public) -----------------------------------------------------------------------------------------

@post("/passkeys/login/options")
async def login_options(request: Request, now: NamedDependency[datetime]) -> Response:
    """Options for a passkey sign-in: any passkey of this site (discoverable), user verification required."""
    await throttle.check(request, "passkey_options", now)  # each answer stores a challenge: 429 for a flood
    ceremony = await passkeys.authentication_options(passkey_flow.context(request, now))
    return passkey_flow.options(ceremony, request, "login")


@post("/passkeys/login")
async def login(request: Request, now: NamedDependency[datetime], next: FromQuery[str] = "") -> Response:
    """Finish a passkey sign-in: ``{"redirect": …}`` with a new session, or a 4xx ``{"error": …}``."""
    try:
        return await passkey_flow.sign_in(request, now, next)
    except DomainError as error:
        return passkey_flow.sign_in_refused(error)


# --- the member's passkeys ------------------------------------------------------------------------------------

@get("/settings/passkeys")
async def show_passkeys(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                        done: FromQuery[str] = "") -> Template:
    """パスキー: one card per passkey (name, registered, last used), add, rename, remove."""
    context = await passkey_flow.page_context(request, member, now, done=DONE.get(done, ""))
    return render.page(request, "pages/passkeys.html", context)


@post("/settings/passkeys/options", guards=[requires_step_up])
async def registration_options(request: Request, member: NamedDependency[dict],
                               now: NamedDependency[datetime]) -> Response:
    """Creation options for a new passkey on this device (after step-up)."""
    try:
        ceremony = await passkeys.registration_options(member["id"], passkey_flow.context(request, now))
    except DomainError as error:
        return passkey_flow.refused(error, 409)
    return passkey_flow.options(ceremony, request, "register")


@post("/settings/passkeys", guards=[requires_step_up])
async def register(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                   name: FromQuery[str] = "") -> Response:
    """Store the new passkey under the given name (or one from the browser); the member gets a mail."""
    try:
        return await passkey_flow.register(request, member, now, name)
    except DomainError as error:
        return passkey_flow.refused(error, 400)


@post("/settings/passkeys/{passkey_id:int}/name")
async def rename(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                 passkey_id: FromPath[int],
                 data: Annotated[NameForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Response:
    """Rename one of the member's passkeys."""
    try:
        await passkeys.rename(member["id"], passkey_id, data.name, passkey_flow.context(request, now))
    except DomainError as error:
        context = await passkey_flow.page_context(request, member, now, error=error.message)
        return render.page(request, "pages/passkeys.html", context, status=422)
    return render.redirect(request, "/settings/passkeys?done=renamed")


@post("/settings/passkeys/{passkey_id:int}/delete", guards=[requires_step_up])
async def remove(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                 passkey_id: FromPath[int]) -> Response:
    """Remove one of the member's passkeys (after step-up), unless it is their last way in."""
    try:
        await passkeys.remove(member["id"], passkey_id, passkey_flow.context(request, now))
    except DomainError as error:
        context = await passkey_flow.page_context(request, member, now, error=error.message)
        return render.page(request, "pages/passkeys.html", context, status=409)
    return render.redirect(request, "/settings/passkeys?done=removed")


# --- step-up with a passkey (instead of an email code) --------------------------------------------------------

@post("/passkeys/step-up/options")
async def step_up_options(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime]) -> Response:
    """Request options limited to the member's own passkeys."""
    try:
        ceremony = await passkeys.authentication_options(passkey_flow.context(request, now), member_id=member["id"])
    except DomainError as error:
        return passkey_flow.refused(error, 409)
    return passkey_flow.options(ceremony, request, "step_up")


@post("/passkeys/step-up")
async def step_up(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                  next: FromQuery[str] = "") -> Response:
    """A verified passkey of this member steps the session up (new session id)."""
    try:
        return await passkey_flow.step_up(request, member, now, next)
    except DomainError as error:
        return passkey_flow.refused(error, 401)


# --- a new PIN, when signed in with a passkey ------------------------------------------------------------------

@get("/settings/pin")
async def show_pin(request: Request, done: FromQuery[str] = "") -> Template:
    """暗証番号の再設定: for a member signed in with a passkey; otherwise how to get there."""
    context = {"nav": "settings", "allowed": passkey_flow.signed_in_with_passkey(request), "done": done == "1",
               "error": ""}
    return render.page(request, "pages/passkey_pin.html", context)


@post("/settings/pin", guards=[requires_step_up])
async def set_pin(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                  data: Annotated[PinForm, Body(media_type=RequestEncodingType.URL_ENCODED)]) -> Response:
    """Set the new PIN (unlocked), notify by email, end the member's other sessions."""
    try:
        await passkey_flow.set_pin(request, member, now, data.pin, data.pin_again)
    except DomainError as error:
        context = {"nav": "settings", "allowed": passkey_flow.signed_in_with_passkey(request), "done": False,
                   "error": error.message}
        return render.page(request, "pages/passkey_pin.html", context, status=422)
    return render.redirect(request, "/settings/pin?done=1")


PUBLIC = [login_options, login]
MEMBER = [show_passkeys, registration_options, register, rename, remove, step_up_options, step_up, show_pin, set_pin]
