"""The web side of the sensitive settings (email, Web-ID, password), so that handlers stay a few lines.

Parsing is ``domain``'s, the use cases are ``db``'s; this module owns the session keys (which email
change is pending) and the session that survives a password change.
"""

from __future__ import annotations

from datetime import datetime

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from db import accounts, auth, email_change, member_settings
from domain.auth_policy import parse_code
from domain.credentials import CredentialFormatError, parse_new_web_id, parse_password
from domain.password_strength import Strength, assess, require_acceptable
from domain.profile import parse_email
from web import auth_flow, throttle
from web.guards import requires_step_up
from web.security import start_session

#: session key of the pending email change (its row id)
PENDING_EMAIL = "email_change"


def _ctx(request: Request, now: datetime) -> auth.AuthContext:
    return auth_flow.context(request, now)


# --- email --------------------------------------------------------------------------------------


async def step_up_to_change_email(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Changing an email needs a step-up; registering the first one cannot (the code would have nowhere
    to go), and the code sent to the new address is then the proof. The Web-ID page uses it too: without an
    email it only says to register one first."""
    member = await accounts.member_by_id(int(connection.session["member_id"]))
    if member and member["email"]:
        await requires_step_up(connection, handler)


async def start_email_change(request: Request, member_id: int, raw: str, now: datetime) -> None:
    await throttle.check(request, "recover", now)  # codes by mail: the same per-IP budget as step-up codes
    address = parse_email(raw, request.app.state.settings.profile_policy())
    request.session[PENDING_EMAIL] = await email_change.start(member_id, address, _ctx(request, now))


async def pending_email(request: Request, member_id: int) -> str | None:
    return await email_change.pending_address(member_id, request.session.get(PENDING_EMAIL))


async def resend_email_code(request: Request, member_id: int, now: datetime) -> str:
    await throttle.check(request, "recover", now)
    change_id = await email_change.resend(member_id, request.session.get(PENDING_EMAIL), _ctx(request, now))
    request.session[PENDING_EMAIL] = change_id
    return await email_change.pending_address(member_id, change_id) or ""


async def confirm_email_change(request: Request, member_id: int, raw: str, now: datetime) -> None:
    # not throttled: each code has its own few tries, and new codes are (start/resend above)
    code = parse_code(raw, request.app.state.auth_policy)
    # the pending id stays in the session: a second submit of the same code is told it was used
    await email_change.confirm(member_id, request.session.get(PENDING_EMAIL), code, _ctx(request, now))


# --- Web-ID -------------------------------------------------------------------------------------


async def set_web_id(request: Request, member_id: int, raw: str, now: datetime) -> None:
    web_id = parse_new_web_id(raw, request.app.state.credential_policy)
    await member_settings.set_web_id(member_id, web_id, _ctx(request, now))


# --- password -----------------------------------------------------------------------------------


async def has_password(member_id: int) -> bool:
    return "password" in await auth.factor_state(member_id)


async def _context_words(member: dict) -> tuple[str, ...]:
    card = await member_settings.card_number_of(member["id"])
    born = member.get("birth_date")
    birth = born.strftime("%Y%m%d") if hasattr(born, "strftime") else str(born or "").replace("-", "")
    return tuple(v for v in (member.get("web_id"), member.get("email"), card, birth) if v)


async def strength(request: Request, member: dict, raw: str) -> Strength | None:
    """Feedback for what is typed so far (None for an empty field)."""
    if not raw:
        return None
    settings = request.app.state.settings
    try:
        password = parse_password(raw, request.app.state.credential_policy)
    except CredentialFormatError as error:
        return Strength(False, 0, "使えません", error.message)
    return assess(password, request.app.state.credential_policy, settings.strength_policy(),
                  context=await _context_words(member))


async def change_password(request: Request, member: dict, current_raw: str, new_raw: str, now: datetime) -> None:
    """Check the current password (it counts toward its lockout), then store the new one: every session
    ends (``db.auth.set_secret`` raises the epoch) and this one continues under a new id and the new epoch."""
    policy = request.app.state.credential_policy
    ctx = _ctx(request, now)
    try:
        new = parse_password(new_raw, policy)
    except CredentialFormatError as error:
        raise CredentialFormatError("new_password", error.message) from None
    require_acceptable(new, policy, request.app.state.settings.strength_policy(), context=await _context_words(member))
    if await has_password(member["id"]):
        await auth.verify_current_secret(member["id"], "password", current_raw, ctx=ctx)
    await auth.set_secret(member["id"], "password", new, ctx=ctx, action="password_change")
    state = await auth.session_state(member["id"])
    session = dict(request.session)
    await start_session(request, {**session, "epoch": state[1] if state else 0, "seen_at": now.isoformat()})
