"""The web side of sign-in, recovery and step-up, so that handlers stay a few lines each.

Parsing (``domain.credentials``) happens here, the use cases are in ``db.auth``; this module owns the
session keys, the throttle calls and the answers (status codes, which template, which message).
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.response import Template

from db import audit, auth
from domain.auth_policy import LOCKED_HELP, is_stepped_up, parse_code
from domain.credentials import (
    CredentialFormatError,
    parse_birth_date,
    parse_card_number,
    parse_login_id,
    parse_password,
    parse_pin,
)
from domain.errors import DomainError
from domain.loan import JST
from web import render, throttle
from web.security import end_session, start_session
from web.settings import Settings

#: longest value echoed back into a form after a failure (a 10 KB paste is not sent back)
ECHO_MAX = 40


@dataclass
class CardForm:
    card_number: str = ""
    pin: str = ""
    next: str = ""


@dataclass
class IdForm:
    login_id: str = ""
    password: str = ""
    next: str = ""


@dataclass
class RecoverForm:
    login_id: str = ""
    birth_date: str = ""


@dataclass
class CodeForm:
    code: str = ""
    next: str = ""


@dataclass
class NewPasswordForm:
    password: str = ""


def context(request: Request, now: datetime) -> auth.AuthContext:
    state = request.app.state
    return auth.AuthContext(
        now=now, policy=state.auth_policy, hasher=state.hasher, code_key=state.code_key,
        app_name=state.settings.app_name, support_phone=state.settings.lender_phone,
        ip=throttle.request_ip(request),
    )


def safe_next(raw: str | None) -> str:
    """Only a path on this site: never ``//evil.example`` or ``https://…`` (open redirect)."""
    if raw and raw.startswith("/") and not raw.startswith(("//", "/\\")) and raw.isprintable() and len(raw) < 200:
        return raw
    return "/home"


def _session(request: Request) -> dict[str, Any]:
    return request.scope.get("session") or {}


# --- sign-in ----------------------------------------------------------------------------------


async def sign_in(request: Request, form: CardForm | IdForm, now: datetime) -> auth.SignedIn:
    """Throttle, parse and check one sign-in; raises a DomainError with the member's message."""
    await throttle.check(request, "login", now)
    policy = request.app.state.credential_policy
    ctx = context(request, now)
    device = request.headers.get("user-agent", "")
    if isinstance(form, CardForm):
        card, pin = parse_card_number(form.card_number, policy), parse_pin(form.pin, policy)
        signed_in = await auth.sign_in_with_card(card, pin, device=device, ctx=ctx)
    else:
        ident, password = parse_login_id(form.login_id, policy), parse_password(form.password, policy)
        signed_in = await auth.sign_in_with_login_id(ident, password, device=device, ctx=ctx)
    await throttle.give_back(request, "login", now)
    return signed_in


async def signed_in(request: Request, member: auth.SignedIn, way: str, now: datetime, next_url: str) -> Response:
    """A new session (new id, the old one dead) and off to where the member was going."""
    stamp = now.isoformat()
    await start_session(request, {
        "member_id": member.member_id, "auth_at": stamp, "seen_at": stamp, "epoch": member.session_epoch,
        "way": way,
    })
    return render.redirect(request, safe_next(next_url))


def login_failed(request: Request, way: str, form: CardForm | IdForm, error: DomainError) -> Template:
    """The sign-in page again with the message; one status for every failure that is not input format."""
    if isinstance(error, CredentialFormatError):
        status = 422
    elif isinstance(error, auth.MemberSuspended):
        status = 403
    else:
        status = 401
    echo = {"card_number": form.card_number} if isinstance(form, CardForm) else {"login_id": form.login_id}
    return render.page(request, "pages/login.html", {
        "tab": way, "error": error.message, "error_field": getattr(error, "field", None),
        "locked_help": LOCKED_HELP if status == 401 else "", "next": safe_next(form.next),
        "expired": False, "public_page": True, **{k: v[:ECHO_MAX] for k, v in echo.items()},
    }, status=status)


async def sign_out(request: Request, now: datetime) -> Response:
    """Delete the server-side session and ask the browser to drop its cache and cookies."""
    member_id = _session(request).get("member_id")
    if member_id:
        await audit.record(action="logout", outcome="ok", now=now, member=int(member_id), ip=throttle.request_ip(request))
    end_session(request)
    response = render.redirect(request, "/login?signed_out=1")
    response.headers["Clear-Site-Data"] = '"cache", "cookies"'
    return response


# --- recovery ---------------------------------------------------------------------------------


async def start_recovery(request: Request, form: RecoverForm, now: datetime) -> None:
    """Send a code if the member matches; the session remembers which code (or none) to expect."""
    await throttle.check(request, "recover", now)
    ident = parse_login_id(form.login_id, request.app.state.credential_policy)
    born = parse_birth_date(form.birth_date, today=now.astimezone(JST).date())
    code_id = await auth.start_recovery(ident, born, context(request, now))
    request.set_session({"recover": {"code_id": code_id, "at": now.isoformat()}})


async def check_recovery_code(request: Request, form: CodeForm, now: datetime) -> str | None:
    """Spend the code; on success the session may set a new password. Returns the Web-ID to show."""
    await throttle.check(request, "recover", now)
    code = parse_code(form.code, request.app.state.auth_policy)
    pending = _session(request).get("recover") or {}
    member_id = await auth.verify_recovery_code(pending.get("code_id"), code, context(request, now))
    await start_session(request, {"recover": {"member_id": member_id, "verified_at": now.isoformat()}})
    return await auth.web_id_of(member_id)


def recovery_member(request: Request, now: datetime) -> int | None:
    """The member whose code was verified in this session, within the code lifetime."""
    pending = _session(request).get("recover") or {}
    if "member_id" not in pending:
        return None
    verified = datetime.fromisoformat(pending["verified_at"])
    if (now - verified).total_seconds() > request.app.state.auth_policy.code_ttl_seconds:
        return None
    return int(pending["member_id"])


async def finish_recovery(request: Request, form: NewPasswordForm, now: datetime) -> None:
    member_id = recovery_member(request, now)
    if member_id is None:
        raise auth.CodeFailed("手続きの有効期限が切れました。最初からやり直してください。")
    password = parse_password(form.password, request.app.state.credential_policy)
    await auth.set_secret(member_id, "password", password, ctx=context(request, now), action="recover_password")
    end_session(request)


# --- step-up ----------------------------------------------------------------------------------


def stepped_up(request: Request, now: datetime) -> bool:
    raw = _session(request).get("stepped_up_at")
    at = datetime.fromisoformat(raw) if raw else None
    return is_stepped_up(at, now, request.app.state.auth_policy)


def step_up_url(request: Request) -> str:
    """Where to send a member who needs a step-up, remembering the page to come back to."""
    target = request.url.path if request.method == "GET" else render.current_page(request)
    return f"/step-up?next={quote(safe_next(target))}"


async def send_step_up_code(request: Request, now: datetime) -> None:
    await throttle.check(request, "recover", now)
    member_id = int(_session(request)["member_id"])
    code_id = await auth.send_step_up_code(member_id, context(request, now))
    request.session["step_up_code"] = code_id


async def verify_step_up(request: Request, form: CodeForm, now: datetime) -> None:
    """Spend the step-up code; the session gets a new id and is stepped up for the policy's minutes."""
    await throttle.check(request, "recover", now)
    code = parse_code(form.code, request.app.state.auth_policy)
    session = dict(_session(request))
    await auth.verify_step_up_code(int(session["member_id"]), session.pop("step_up_code", None), code,
                                   context(request, now))
    await start_session(request, {**session, "stepped_up_at": now.isoformat(), "seen_at": now.isoformat()})


def handle_step_up_required(request: Request, _: Exception) -> Response:
    """Exception handler for :class:`web.guards.StepUpRequired`: off to the code page, then back."""
    return render.redirect(request, step_up_url(request))


# --- app wiring -------------------------------------------------------------------------------


def code_key(settings: Settings) -> bytes:
    """The key one-time codes are stored under (HMAC), derived from the app secret."""
    return hmac.new(settings.resolved_secret_key().encode(), b"kaiin one-time codes", hashlib.sha256).digest()


async def deliver_mail(request: Request) -> None:
    """After a state-changing response has gone out, deliver what it queued (outbox → SMTP or files)."""
    if request.method == "POST":
        await request.app.state.mailer.deliver_pending(now=request.app.state.clock.now())
