"""Sensitive settings: email, Web-ID and password. Each sits behind the step-up guard (a fresh email code
or a passkey session) and each change sends a notice. Forms work without JavaScript."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Annotated

from litestar import Request, Response, get, post
from litestar.di import NamedDependency
from litestar.response import Template

from db import email_change, member_settings
from domain.errors import DomainError
from web import render, settings_flow
from web.guards import requires_step_up
from web.handlers.settings import FORM, _page

STEP_UP = [requires_step_up]
EMAIL_STEP_UP = [settings_flow.step_up_to_change_email]


# --- メールアドレス ------------------------------------------------------------------------------


@dataclass
class EmailForm:
    email: str = ""


@dataclass
class EmailCodeForm:
    code: str = ""


@get("/settings/email", guards=EMAIL_STEP_UP)
async def show_email(request: Request, member: NamedDependency[dict]) -> Template:
    return _page(request, "pages/settings_email.html", {"member": member, "form": EmailForm()})


@post("/settings/email", guards=EMAIL_STEP_UP)
async def send_email_code(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                          data: Annotated[EmailForm, FORM]) -> Response | Template:
    """Send a code to the new address; the member types it on the next page."""
    try:
        await settings_flow.start_email_change(request, member["id"], data.email, now)
    except DomainError as error:
        return _page(request, "pages/settings_email.html", {"member": member, "form": data}, error)
    return render.redirect(request, "/settings/email/verify")


@get("/settings/email/verify")
async def show_email_code(request: Request, member: NamedDependency[dict]) -> Response | Template:
    address = await settings_flow.pending_email(request, member["id"])
    if address is None:
        return render.redirect(request, "/settings/email")
    return _page(request, "pages/settings_email_verify.html", {"address": address, "resent": False})


@post("/settings/email/verify")
async def verify_email_code(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                            data: Annotated[EmailCodeForm, FORM]) -> Response | Template:
    try:
        await settings_flow.confirm_email_change(request, member["id"], data.code, now)
    except DomainError as error:
        address = await settings_flow.pending_email(request, member["id"]) or ""
        return _page(request, "pages/settings_email_verify.html", {"address": address, "resent": False}, error)
    return render.redirect(request, "/settings?saved=email")


@post("/settings/email/resend", guards=EMAIL_STEP_UP)
async def resend_email_code(request: Request, member: NamedDependency[dict],
                            now: NamedDependency[datetime]) -> Response | Template:
    try:
        address = await settings_flow.resend_email_code(request, member["id"], now)
    except DomainError as error:
        return _page(request, "pages/settings_email.html", {"member": member, "form": EmailForm()}, error)
    return _page(request, "pages/settings_email_verify.html", {"address": address, "resent": True})


# --- ログインID ----------------------------------------------------------------------------------


@dataclass
class WebIdForm:
    web_id: str = ""


@get("/settings/web-id", guards=EMAIL_STEP_UP)  # without an email the page says to register one first
async def show_web_id(request: Request, member: NamedDependency[dict]) -> Template:
    return _page(request, "pages/settings_web_id.html", {"member": member, "form": WebIdForm(member["web_id"] or "")})


@post("/settings/web-id", guards=STEP_UP)
async def save_web_id(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                      data: Annotated[WebIdForm, FORM]) -> Response | Template:
    try:
        await settings_flow.set_web_id(request, member["id"], data.web_id, now)
    except DomainError as error:
        return _page(request, "pages/settings_web_id.html", {"member": member, "form": data}, error)
    return render.redirect(request, "/settings?saved=web_id")


# --- パスワード ----------------------------------------------------------------------------------


@dataclass
class PasswordForm:
    current_password: str = ""
    new_password: str = ""


@get("/settings/password", guards=STEP_UP)
async def show_password(request: Request, member: NamedDependency[dict]) -> Template:
    view = await member_settings.settings_view(member["id"], request.app.state.settings.reminder_policy())
    return _page(request, "pages/settings_password.html", {"member": member, "has_password": bool(view.password_changed_at)})


@post("/settings/password", guards=STEP_UP)
async def save_password(request: Request, member: NamedDependency[dict], now: NamedDependency[datetime],
                        data: Annotated[PasswordForm, FORM]) -> Response | Template:
    """Change the password with the current one; every other session ends, this one gets a new id."""
    try:
        await settings_flow.change_password(request, member, data.current_password, data.new_password, now)
    except DomainError as error:
        has_password = await settings_flow.has_password(member["id"])
        return _page(request, "pages/settings_password.html", {"member": member, "has_password": has_password}, error)
    return render.redirect(request, "/settings?saved=password")


@post("/settings/password/strength")
async def password_strength(request: Request, member: NamedDependency[dict],
                            data: Annotated[PasswordForm, FORM]) -> Template:
    """Live feedback under the new-password field (htmx, as the member types); nothing is stored."""
    strength = await settings_flow.strength(request, member, data.new_password)
    return render.fragment(request, "settings/_strength.html", {"strength": strength})


ROUTES = [
    show_email, send_email_code, show_email_code, verify_email_code, resend_email_code,
    show_web_id, save_web_id, show_password, save_password, password_strength,
]
